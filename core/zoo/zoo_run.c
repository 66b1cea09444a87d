/* Builds the unfinished entries of one shard of a zoo with a pool of worker threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zoo.h"

typedef struct {
    const char *dir;
    const dws_zoo_spec *spec;
    const dws_zoo_data *data;
    const dws_zoo_run_options *opt;
    pthread_mutex_t lock;
    int *todo;              /* entry indices still to build */
    int n_todo, next;
    int stop;               /* set on the first failure */
    dws_error first_error;
    dws_zoo_progress progress;
    double start;
} run_state;

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *worker(void *arg)
{
    run_state *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int index = s->stop || s->next == s->n_todo ? -1 : s->todo[s->next++];
        pthread_mutex_unlock(&s->lock);
        if (index < 0) return NULL;
        dws_zoo_entry_result res;
        dws_error err = {0};
        int rc = dws_zoo_build_entry(s->dir, s->spec, index, s->data, &res, &err);
        pthread_mutex_lock(&s->lock);
        if (rc) {
            if (!s->stop) s->first_error = err;
            s->stop = 1;
        } else {
            s->progress.built++;
            s->progress.build_seconds += res.train_seconds;
            s->progress.elapsed = seconds_now() - s->start;
            if (s->opt->progress) s->opt->progress(s->opt->ctx, &s->progress);
        }
        pthread_mutex_unlock(&s->lock);
    }
}

int dws_zoo_run(const char *dir, const dws_zoo_spec *spec, const dws_zoo_data *data, const dws_zoo_run_options *opt,
                dws_zoo_progress *final, dws_error *err)
{
    if (dws_zoo_spec_check(spec, err)) return -1;
    if (opt->shard_count < 1 || opt->shard_index < 0 || opt->shard_index >= opt->shard_count || opt->jobs < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "shard %d/%d with %d jobs", opt->shard_index, opt->shard_count,
                      opt->jobs);
        return -1;
    }
    run_state s = {.dir = dir, .spec = spec, .data = data, .opt = opt, .start = seconds_now()};
    s.todo = malloc(sizeof(int) * ((size_t)spec->count / (size_t)opt->shard_count + 1));
    if (!s.todo) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory");
        return -1;
    }
    for (int i = opt->shard_index; i < spec->count; i += opt->shard_count) {
        s.progress.total++;
        if (dws_zoo_entry_done(dir, i)) s.progress.skipped++;
        else s.todo[s.n_todo++] = i;
    }
    if (opt->progress) opt->progress(opt->ctx, &s.progress);
    pthread_mutex_init(&s.lock, NULL);
    int jobs = opt->jobs < s.n_todo ? opt->jobs : s.n_todo;
    pthread_t threads[64];
    if (jobs > 64) jobs = 64;
    int started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&threads[started], NULL, worker, &s)) break;
    if (started == 0 && s.n_todo > 0) worker(&s);   /* no thread could start: work on this one */
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&s.lock);
    free(s.todo);
    s.progress.elapsed = seconds_now() - s.start;
    if (final) *final = s.progress;
    if (s.stop) {
        *err = s.first_error;
        return -1;
    }
    return dws_zoo_reindex(dir, NULL, err);
}
