#include "base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct {
    dws_part_fn fn;
    void *ctx;
    int n_parts;
    atomic_int next;   /* the next part to take: a descheduled worker delays only its own part */
} work;

typedef struct {
    work *w;
    int thread;
} worker;

static void *run_worker(void *arg)
{
    const worker *k = arg;
    for (int part; (part = atomic_fetch_add(&k->w->next, 1)) < k->w->n_parts;) k->w->fn(k->w->ctx, part, k->thread);
    return NULL;
}

void dws_parallel_parts(int n_parts, int threads, dws_part_fn fn, void *ctx)
{
    if (threads > n_parts) threads = n_parts;
    if (threads > DWS_MAX_THREADS) threads = DWS_MAX_THREADS;
    work w = {fn, ctx, n_parts, 0};
    if (threads <= 1) {
        worker k = {&w, 0};
        run_worker(&k);
        return;
    }
    worker k[threads];
    pthread_t tid[threads];
    int started[threads];
    for (int j = 0; j < threads; j++) {
        k[j] = (worker){&w, j};
        started[j] = j > 0 && pthread_create(&tid[j], NULL, run_worker, &k[j]) == 0;
    }
    run_worker(&k[0]);   /* takes whatever parts workers that could not start leave */
    for (int j = 1; j < threads; j++)
        if (started[j]) pthread_join(tid[j], NULL);
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
