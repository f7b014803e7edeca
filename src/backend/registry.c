#include <errno.h>
#include <string.h>

#include "backend/backend.h"

void be_stats_get(struct backend *be, struct be_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (be->ops->stats)
		be->ops->stats(be, out);
}

int be_create(const char *kind, const char *path, struct backend **out)
{
	if (strcmp(kind, "vfs") == 0)
		return be_vfs_create(path, out);
	if (strcmp(kind, "mem") == 0)
		return be_mem_create(path, out);
	return -EINVAL;
}
