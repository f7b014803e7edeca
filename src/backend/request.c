/* Request boundaries per thread (backend.h: be_request_begin). */
#include "backend/backend.h"

static _Thread_local uint64_t req_current; /* 0: outside a request */
static _Thread_local uint64_t req_last;

void be_request_begin(void)
{
	req_current = ++req_last;
}

void be_request_end(void)
{
	req_current = 0;
}

uint64_t be_request_current(void)
{
	return req_current;
}
