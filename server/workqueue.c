#include "workqueue.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct dwsd_worker {
    dwsd_queue *q;
    int taken;                /* jobs the current run took and has not given back */
};

struct dwsd_queue {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    dwsd_job *head, *tail;
    int workers, capacity;
    int waiting, running, reserved;
    int busy;                 /* workers running a job */
    int stopping;
    double mean_job_s;        /* moving average of the run time per job */
    pthread_t *threads;
    dwsd_worker *slots;
    int n_threads;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *worker_main(void *arg)
{
    dwsd_worker *w = arg;
    dwsd_queue *q = w->q;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->stopping) pthread_cond_wait(&q->ready, &q->lock);
        dwsd_job *job = q->head;
        if (!job) break;   /* stopping and nothing left */
        q->head = job->next;
        if (!q->head) q->tail = NULL;
        q->waiting--;
        q->running++;
        q->busy++;
        w->taken = 0;
        pthread_mutex_unlock(&q->lock);

        double t0 = now_s();
        job->run(job, w);
        double took = now_s() - t0;

        pthread_mutex_lock(&q->lock);
        q->running -= 1 + w->taken;
        q->busy--;
        took /= 1 + w->taken;
        q->mean_job_s = q->mean_job_s > 0 ? 0.9 * q->mean_job_s + 0.1 * took : took;
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

dwsd_queue *dwsd_queue_start(int workers, int capacity)
{
    dwsd_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->threads = calloc((size_t)workers, sizeof *q->threads);
    q->slots = calloc((size_t)workers, sizeof *q->slots);
    if (!q->threads || !q->slots) {
        free(q->threads);
        free(q->slots);
        free(q);
        return NULL;
    }
    q->workers = workers;
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->ready, NULL);
    for (; q->n_threads < workers; q->n_threads++) {
        q->slots[q->n_threads].q = q;
        if (pthread_create(&q->threads[q->n_threads], NULL, worker_main, &q->slots[q->n_threads])) {
            dwsd_queue_stop(q);
            return NULL;
        }
    }
    return q;
}

int dwsd_queue_reserve(dwsd_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int ok = !q->stopping && q->running + q->waiting + q->reserved < q->workers + q->capacity;
    if (ok) q->reserved++;
    pthread_mutex_unlock(&q->lock);
    return ok;
}

void dwsd_queue_push(dwsd_queue *q, dwsd_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&q->lock);
    q->reserved--;
    q->waiting++;
    if (q->tail) q->tail->next = job;
    else q->head = job;
    q->tail = job;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

int dwsd_worker_take(dwsd_worker *w, int (*accept)(const dwsd_job *job, void *ctx), void *ctx, dwsd_job **out,
                     int max)
{
    dwsd_queue *q = w->q;
    pthread_mutex_lock(&q->lock);
    /* Its share of what waits (the job it runs included), and never a job an
     * idle worker would start. */
    int idle = q->workers - q->busy, n = 0, share = (q->waiting + 1 + q->workers - 1) / q->workers - 1;
    if (max > q->waiting - idle) max = q->waiting - idle;
    if (max > share) max = share;
    dwsd_job *prev = NULL;
    for (dwsd_job *j = q->head; j && n < max;) {
        dwsd_job *next = j->next;
        if (!accept(j, ctx)) {
            prev = j;
            j = next;
            continue;
        }
        if (prev) prev->next = next;
        else q->head = next;
        if (q->tail == j) q->tail = prev;
        j->next = NULL;
        out[n++] = j;
        j = next;
    }
    q->waiting -= n;
    q->running += n;
    w->taken += n;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void dwsd_worker_give_back(dwsd_worker *w, dwsd_job *job)
{
    dwsd_queue *q = w->q;
    pthread_mutex_lock(&q->lock);
    job->next = q->head;
    q->head = job;
    if (!q->tail) q->tail = job;
    q->waiting++;
    q->running--;
    w->taken--;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

void dwsd_queue_stats(dwsd_queue *q, int *waiting, int *running)
{
    pthread_mutex_lock(&q->lock);
    *waiting = q->waiting + q->reserved;
    *running = q->running;
    pthread_mutex_unlock(&q->lock);
}

int dwsd_queue_busy(dwsd_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int busy = q->busy;
    pthread_mutex_unlock(&q->lock);
    return busy;
}

int dwsd_queue_retry_after(dwsd_queue *q)
{
    pthread_mutex_lock(&q->lock);
    double backlog = (q->waiting + q->reserved + q->running) * q->mean_job_s / q->workers;
    pthread_mutex_unlock(&q->lock);
    int s = (int)ceil(backlog);
    return s < 1 ? 1 : s > 60 ? 60 : s;
}

void dwsd_queue_stop(dwsd_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopping = 1;
    pthread_cond_broadcast(&q->ready);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->n_threads; i++) pthread_join(q->threads[i], NULL);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->ready);
    free(q->threads);
    free(q->slots);
    free(q);
}
