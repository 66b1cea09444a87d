/* Timing of the progress report of every training loop (train.h). */
#include "train.h"

#include <time.h>

double dws_train_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void dws_train_progress_time(dws_train_progress *p, double t0, int64_t first_step)
{
    p->elapsed = dws_train_seconds() - t0;
    int64_t done = p->step - first_step;
    p->eta = done > 0 ? p->elapsed / (double)done * (double)(p->steps - p->step) : 0;
}
