#include "parallel.h"

#include <pthread.h>
#include <unistd.h>

typedef struct {
    dws_part_fn fn;
    void *ctx;
    int n_parts, threads, thread;
} worker;

static void *run_worker(void *arg)
{
    const worker *w = arg;
    for (int part = w->thread; part < w->n_parts; part += w->threads) w->fn(w->ctx, part, w->thread);
    return NULL;
}

void dws_parallel_parts(int n_parts, int threads, dws_part_fn fn, void *ctx)
{
    if (threads > n_parts) threads = n_parts;
    if (threads > DWS_MAX_THREADS) threads = DWS_MAX_THREADS;
    if (threads <= 1) {
        for (int part = 0; part < n_parts; part++) fn(ctx, part, 0);
        return;
    }
    worker w[threads];
    pthread_t tid[threads];
    int started[threads];
    for (int j = 0; j < threads; j++) {
        w[j] = (worker){fn, ctx, n_parts, threads, j};
        started[j] = j > 0 && pthread_create(&tid[j], NULL, run_worker, &w[j]) == 0;
    }
    run_worker(&w[0]);
    /* A worker that could not start is run here, with its own thread index (and so
     * its own scratch), after the others are joined. */
    for (int j = 1; j < threads; j++)
        if (started[j]) pthread_join(tid[j], NULL);
    for (int j = 1; j < threads; j++)
        if (!started[j]) run_worker(&w[j]);
}

int dws_threads_for_call(int requested, int max)
{
    int n = requested;
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (int)cpus : 1;
    }
    return n > max ? max : n;
}
