#include "util/rcu.h"

#ifdef NFS4D_TSAN
char rcu_tsan_grace_token;
#endif
