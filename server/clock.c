/* The daemon's one clock: monotonic, so request timings survive wall-clock changes. */
#include <time.h>

#include "server.h"

double dwsd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
