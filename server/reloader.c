#include "reloader.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

struct dwsd_reloader {
    dwsd_server *server;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int pending, stop;
};

static void reload(dwsd_server *s)
{
    dws_error err;
    dws_error_clear(&err);
    if (dwsd_registry_reload(s->registry, &err)) {
        dwsd_metrics_reload(s->metrics, 0);
        dwsd_log_event("error", "reload failed, keeping the current models: %s: %s", err.code,
                       err.message);
        return;
    }
    dwsd_metrics_reload(s->metrics, 1);
    dwsd_model_set *set = dwsd_registry_acquire(s->registry);
    dwsd_log_event("info", "reloaded: %d model(s) from '%s'", dwsd_model_set_count(set),
                   s->cfg->models_dir);
    dwsd_model_set_release(set);
}

static void *loop(void *arg)
{
    dwsd_reloader *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->pending && !r->stop) pthread_cond_wait(&r->wake, &r->lock);
        if (r->stop) break;
        r->pending = 0;
        pthread_mutex_unlock(&r->lock);
        reload(r->server);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

dwsd_reloader *dwsd_reloader_start(dwsd_server *s)
{
    dwsd_reloader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->server = s;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (pthread_create(&r->thread, NULL, loop, r) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void dwsd_reloader_request(dwsd_reloader *r)
{
    pthread_mutex_lock(&r->lock);
    r->pending = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

int dwsd_reloader_stop(dwsd_reloader *r, double wait_s)
{
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)wait_s;
    deadline.tv_nsec += (long)((wait_s - (double)(time_t)wait_s) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    if (pthread_timedjoin_np(r->thread, NULL, &deadline) != 0) return -1;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    free(r);
    return 0;
}
