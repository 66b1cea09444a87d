/* The worker pool that runs /adapt and /embed: a fixed number of threads and a
 * bounded queue in front of them. HTTP threads only hand jobs over, so a slow
 * client never holds a worker and a burst beyond the queue is refused (503)
 * instead of piling up. A running job may take more waiting jobs to run with it
 * (batched serving, jobs.c). */
#ifndef DWSD_WORKQUEUE_H
#define DWSD_WORKQUEUE_H

typedef struct dwsd_worker dwsd_worker;   /* the worker thread a job runs on */

typedef struct dwsd_job {
    void (*run)(struct dwsd_job *job, dwsd_worker *w);   /* called on a worker thread */
    struct dwsd_job *next;
} dwsd_job;

typedef struct dwsd_queue dwsd_queue;

/* workers threads; capacity jobs may wait beyond those running. NULL on failure. */
dwsd_queue *dwsd_queue_start(int workers, int capacity);

/* Claims a place for one job: 1 when granted, 0 when running + waiting is full.
 * A granted place must be used by exactly one dwsd_queue_push. */
int dwsd_queue_reserve(dwsd_queue *q);
void dwsd_queue_push(dwsd_queue *q, dwsd_job *job);

/* Jobs waiting (places reserved included) and jobs on a worker (taken ones too). */
void dwsd_queue_stats(dwsd_queue *q, int *waiting, int *running);
/* Workers running a job now. */
int dwsd_queue_busy(dwsd_queue *q);

/* Seconds a refused client should wait: the queue's backlog at the recent job time. */
int dwsd_queue_retry_after(dwsd_queue *q);

/* Runs what is queued, then joins the workers and frees q. */
void dwsd_queue_stop(dwsd_queue *q);

/* From a job's run: takes, in queue order, up to max waiting jobs that
 * accept(job, ctx) approves (called under the queue's lock: it must only read),
 * into out: at most its share of the waiting jobs (with the one it runs,
 * waiting + 1 over the workers) and never a job an idle worker would start at
 * once (as many jobs as there are idle workers stay waiting), so that batching
 * never leaves a worker without work. Returns how many it took. A
 * taken job is the worker's: it runs it, or gives it back. Taken jobs count as
 * running until the run that took them returns. */
int dwsd_worker_take(dwsd_worker *w, int (*accept)(const dwsd_job *job, void *ctx), void *ctx, dwsd_job **out,
                     int max);
/* A taken job back to the head of the queue, for any worker; give several back
 * last first to keep their order. */
void dwsd_worker_give_back(dwsd_worker *w, dwsd_job *job);

#endif
