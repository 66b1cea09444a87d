/* Per-call parallelism without shared state: a fixed number of work parts spread
 * over `threads` short-lived threads. Results depend only on how work is split into
 * parts, never on the thread count, so a computation gives the same bits with 1 or
 * 8 threads. */
#ifndef DWS_PARALLEL_H
#define DWS_PARALLEL_H

/* fn(ctx, part, thread) once for every part in [0, n_parts), parts handed out in
 * order to whichever worker is free; thread in [0, threads) names the worker (for
 * per-thread scratch). Runs on the calling thread alone when threads <= 1, and
 * the caller takes over the parts of workers that cannot be started. */
#define DWS_MAX_THREADS 64

typedef void (*dws_part_fn)(void *ctx, int part, int thread);
void dws_parallel_parts(int n_parts, int threads, dws_part_fn fn, void *ctx);

/* The thread count for a call: `requested`, or the online CPUs when 0, capped to max. */
int dws_threads_for_call(int requested, int max);

#endif
