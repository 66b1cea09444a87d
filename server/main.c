/* dwsnetd: loads the models, starts the worker pool and the HTTP server, then
 * waits for signals on the main thread: SIGHUP reloads the models, SIGTERM or
 * SIGINT drains (no new connections, in-flight requests finish) and exits. */
#include <cblas.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "memory_setup.h"
#include "reloader.h"
#include "server.h"
#include "base/base.h"

static pthread_t main_thread;

/* OpenBLAS starts its threads before main() runs, with no signal blocked, so the
 * kernel may hand a process-wide SIGTERM to one of them, where the default action
 * would kill the process (seen under valgrind; also possible whenever the main thread
 * is not inside sigwait, e.g. during a reload). Those threads get this handler instead:
 * it passes the signal on to the main thread, which has it blocked and takes it from
 * sigwait like any other. pthread_kill is async-signal-safe. */
static void forward_to_main(int sig)
{
    pthread_kill(main_thread, sig);
}

/* Waits for the in-flight requests, and for connections that were accepted but
 * have not sent their request yet. A second SIGTERM or SIGINT stops waiting.
 * Returns 1 when everything finished in time. */
static int drain(dwsd_server *s, const sigset_t *signals)
{
    double deadline = dwsd_now() + s->cfg->drain_timeout_s;
    const struct timespec tick = {0, 50 * 1000 * 1000};
    while (atomic_load(&s->requests) > 0 || atomic_load(&s->fresh_connections) > 0) {
        if (dwsd_now() >= deadline) return 0;
        int sig = sigtimedwait(signals, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            dwsd_log_event("warn", "second signal: not waiting for the rest");
            return 0;
        }
    }
    return 1;
}

/* Undoes what start-up built so far (every part may still be NULL) and returns
 * the exit status: a daemon that does not start leaves nothing behind. */
static int abandon_start(dwsd_server *s, dwsd_reloader *reloader, int status)
{
    if (reloader) dwsd_reloader_stop(reloader, 1.0);
    if (s->queue) dwsd_queue_stop(s->queue);
    dwsd_registry_free(s->registry);
    dwsd_metrics_free(s->metrics);
    return status;
}

int main(int argc, char **argv)
{
    dwsd_config cfg;
    int rc = dwsd_config_load(&cfg, argc, argv);
    if (rc) return rc > 0 ? 0 : 2;
    dwsd_log_init(cfg.log_format);

    /* Signals are taken synchronously by this thread only: block them before any
     * other thread exists so every thread inherits the mask. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    main_thread = pthread_self();
    struct sigaction forward = {.sa_handler = forward_to_main};
    sigemptyset(&forward.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&signals, sig)) sigaction(sig, &forward, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Jobs split their own work over threads (dws_run_opts); BLAS threads on top of
     * that, from several workers at once, would only oversubscribe the CPUs. */
    openblas_set_num_threads(1);
    /* A job allocates and frees a few buffers the size of its model (the decoded
     * weights, the adapted ones, the answer): from the heap, they are reused by the
     * next job; mapped and unmapped each time, they would be faulted in again. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);

    dwsd_server s = {.cfg = &cfg, .started_at = dwsd_now()};
    s.registry = dwsd_registry_new(cfg.models_dir);
    s.metrics = dwsd_metrics_new();
    if (!s.registry || !s.metrics) {
        fprintf(stderr, "dwsnetd: out_of_memory: cannot start\n");
        return abandon_start(&s, NULL, 1);
    }
    dws_error err;
    dws_error_clear(&err);
    if (dwsd_registry_reload(s.registry, &err)) {
        fprintf(stderr, "dwsnetd: %s: %s\n", err.code, err.message);
        return abandon_start(&s, NULL, 1);
    }
    int status;
    if (dwsd_memory_setup(&s, &cfg, &status)) return abandon_start(&s, NULL, status);
    dwsd_model_set *set = dwsd_registry_acquire(s.registry);
    if (dwsd_model_set_count(set) == 0)
        dwsd_log_event("warn", "%s: serving, but /readyz answers 503 until models are added "
                               "and SIGHUP is sent", dwsd_model_set_empty_reason(set));
    else
        dwsd_log_event("info", "loaded %d model(s) from '%s'", dwsd_model_set_count(set),
                       cfg.models_dir);
    dwsd_model_set_release(set);

    s.queue = dwsd_queue_start(cfg.workers, cfg.queue_length);
    if (!s.queue) {
        fprintf(stderr, "dwsnetd: cannot start %d worker threads\n", cfg.workers);
        return abandon_start(&s, NULL, 1);
    }
    dwsd_reloader *reloader = dwsd_reloader_start(&s);
    if (!reloader) {
        fprintf(stderr, "dwsnetd: cannot start the reload thread\n");
        return abandon_start(&s, NULL, 1);
    }
    char why[256];
    if (dwsd_http_start(&s, why, sizeof why)) {
        fprintf(stderr, "dwsnetd: io_error: %s\n", why);
        return abandon_start(&s, reloader, 1);
    }
    dwsd_log_event("info", "dwsnetd %s listening on %s:%d (pid %d, %d workers, queue %d, "
                           "body limit %zu bytes)",
                   DWS_VERSION, cfg.host, dwsd_http_port(&s), (int)getpid(), cfg.workers,
                   cfg.queue_length, cfg.body_limit);

    for (;;) {
        int sig;
        if (sigwait(&signals, &sig)) continue;
        if (sig == SIGHUP) {
            dwsd_reloader_request(reloader);
            continue;
        }
        dwsd_log_event("info", "%s: draining %d request(s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                       atomic_load(&s.requests));
        break;
    }
    atomic_store(&s.draining, 1);
    dwsd_http_stop_accepting(&s);
    int drained = drain(&s, &signals);
    int waiting, running;
    dwsd_queue_stats(s.queue, &waiting, &running);
    if (!drained && waiting + running > 0) {
        /* Suspended connections cannot be closed safely; leave without cleanup. */
        dwsd_log_event("error", "drain timed out with %d job(s) unfinished; exiting",
                       waiting + running);
        fflush(NULL);
        _exit(1);
    }
    /* What is left are uploads that did not complete within the drain (a stalled
     * client, or one libmicrohttpd has not noticed is gone): no work is lost by
     * closing them, so the shutdown is still a clean one. */
    if (!drained)
        dwsd_log_event("warn", "drain timed out; closing %d request(s) still being received",
                       atomic_load(&s.requests));
    dwsd_http_stop(&s);
    dwsd_queue_stop(s.queue);
    /* A reload still running after the drain is stuck in the file system: leave
     * it (and the registry it uses) to the exit rather than wait on it. */
    if (dwsd_reloader_stop(reloader, 1.0) == 0) dwsd_registry_free(s.registry);
    else dwsd_log_event("warn", "a reload is still running; exiting without waiting for it");
    dwsd_metrics_free(s.metrics);
    dwsd_log_event("info", "stopped");
    return 0;
}
