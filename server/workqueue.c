#include "workqueue.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct dwsd_queue {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    dwsd_job *head, *tail;
    int workers, capacity;
    int waiting, running, reserved;
    int stopping;
    double mean_job_s;        /* moving average of job run time */
    pthread_t *threads;
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
    dwsd_queue *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->stopping) pthread_cond_wait(&q->ready, &q->lock);
        dwsd_job *job = q->head;
        if (!job) break;   /* stopping and nothing left */
        q->head = job->next;
        if (!q->head) q->tail = NULL;
        q->waiting--;
        q->running++;
        pthread_mutex_unlock(&q->lock);

        double t0 = now_s();
        job->run(job);
        double took = now_s() - t0;

        pthread_mutex_lock(&q->lock);
        q->running--;
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
    if (!q->threads) {
        free(q);
        return NULL;
    }
    q->workers = workers;
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->ready, NULL);
    for (; q->n_threads < workers; q->n_threads++) {
        if (pthread_create(&q->threads[q->n_threads], NULL, worker_main, q)) {
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

void dwsd_queue_stats(dwsd_queue *q, int *waiting, int *running)
{
    pthread_mutex_lock(&q->lock);
    *waiting = q->waiting + q->reserved;
    *running = q->running;
    pthread_mutex_unlock(&q->lock);
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
    free(q);
}
