/* The worker pool that runs /adapt and /embed: a fixed number of threads and a
 * bounded queue in front of them. HTTP threads only hand jobs over, so a slow
 * client never holds a worker and a burst beyond the queue is refused (503)
 * instead of piling up. */
#ifndef DWSD_WORKQUEUE_H
#define DWSD_WORKQUEUE_H

typedef struct dwsd_job {
    void (*run)(struct dwsd_job *job);   /* called on a worker thread */
    struct dwsd_job *next;
} dwsd_job;

typedef struct dwsd_queue dwsd_queue;

/* workers threads; capacity jobs may wait beyond those running. NULL on failure. */
dwsd_queue *dwsd_queue_start(int workers, int capacity);

/* Claims a place for one job: 1 when granted, 0 when running + waiting is full.
 * A granted place must be used by exactly one dwsd_queue_push. */
int dwsd_queue_reserve(dwsd_queue *q);
void dwsd_queue_push(dwsd_queue *q, dwsd_job *job);

void dwsd_queue_stats(dwsd_queue *q, int *waiting, int *running);

/* Seconds a refused client should wait: the queue's backlog at the recent job time. */
int dwsd_queue_retry_after(dwsd_queue *q);

/* Runs what is queued, then joins the workers and frees q. */
void dwsd_queue_stop(dwsd_queue *q);

#endif
