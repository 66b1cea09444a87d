#include "metrics.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static const int statuses[] = {200, 304, 400, 404, 405, 413, 415, 422, 500, 503, 0};
#define N_STATUS (sizeof statuses / sizeof statuses[0])
#define STATUS_OTHER N_STATUS    /* any status not in the list */

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

static const int batch_buckets[] = {1, 2, 3, 4, 6, 8, 12, 16, 32, 64};
#define N_BATCH_BUCKETS (sizeof batch_buckets / sizeof batch_buckets[0])
static const char *const back_reasons[DWSD_BACK_COUNT] = {"widths", "memory"};

struct dwsd_metrics {
    atomic_uint_fast64_t requests[DWSD_EP_COUNT][N_STATUS + 1];
    atomic_uint_fast64_t latency_le[DWSD_EP_COUNT][N_BUCKETS];  /* non-cumulative */
    atomic_uint_fast64_t latency_count[DWSD_EP_COUNT];
    atomic_uint_fast64_t latency_sum_us[DWSD_EP_COUNT];
    atomic_uint_fast64_t reloads[2];                            /* failed, succeeded */
    atomic_uint_fast64_t batch_le[N_BATCH_BUCKETS];             /* forwards by size, non-cumulative */
    atomic_uint_fast64_t batch_count, batch_sum;                /* forwards, requests in them */
    atomic_uint_fast64_t batch_back[DWSD_BACK_COUNT];
};

dwsd_metrics *dwsd_metrics_new(void)
{
    return calloc(1, sizeof(dwsd_metrics));   /* all-zero is a valid atomic state here */
}

void dwsd_metrics_free(dwsd_metrics *m)
{
    free(m);
}

void dwsd_metrics_observe(dwsd_metrics *m, dwsd_endpoint ep, int status, double seconds)
{
    size_t si = STATUS_OTHER;
    for (size_t i = 0; i < N_STATUS; i++)
        if (statuses[i] == status) si = i;
    atomic_fetch_add_explicit(&m->requests[ep][si], 1, memory_order_relaxed);
    for (size_t b = 0; b < N_BUCKETS; b++) {
        if (seconds <= buckets[b]) {
            atomic_fetch_add_explicit(&m->latency_le[ep][b], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&m->latency_count[ep], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us[ep], (uint64_t)(seconds * 1e6),
                              memory_order_relaxed);
}

void dwsd_metrics_reload(dwsd_metrics *m, int ok)
{
    atomic_fetch_add(&m->reloads[ok ? 1 : 0], 1);
}

void dwsd_metrics_batch(dwsd_metrics *m, int n)
{
    for (size_t b = 0; b < N_BATCH_BUCKETS; b++) {
        if (n <= batch_buckets[b]) {
            atomic_fetch_add_explicit(&m->batch_le[b], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&m->batch_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->batch_sum, (uint64_t)n, memory_order_relaxed);
}

void dwsd_metrics_batch_back(dwsd_metrics *m, dwsd_batch_back why)
{
    atomic_fetch_add_explicit(&m->batch_back[why], 1, memory_order_relaxed);
}

/* A growing text buffer; on allocation failure it stops growing and render fails. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !t->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) t->failed = 1;
        else if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        } else {
            size_t cap = 2 * t->cap + (size_t)n + 1;
            char *p = realloc(t->s, cap);
            if (!p) t->failed = 1;
            else t->s = p, t->cap = cap;
        }
    }
}

/* Label values come from model cards: escape as the exposition format requires. */
static void put_label(text *t, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') put(t, "\\%c", *v);
        else if (*v == '\n') put(t, "\\n");
        else put(t, "%c", *v);
    }
}

static void render_requests(text *t, dwsd_metrics *m)
{
    put(t, "# HELP dwsnetd_requests_total HTTP requests by endpoint and status "
           "(status \"none\": closed before a response).\n"
           "# TYPE dwsnetd_requests_total counter\n");
    for (int ep = 0; ep < DWSD_EP_COUNT; ep++) {
        for (size_t si = 0; si <= N_STATUS; si++) {
            uint64_t v = atomic_load_explicit(&m->requests[ep][si], memory_order_relaxed);
            if (!v) continue;
            char status[16];
            if (si == STATUS_OTHER) snprintf(status, sizeof status, "other");
            else if (statuses[si] == 0) snprintf(status, sizeof status, "none");
            else snprintf(status, sizeof status, "%d", statuses[si]);
            put(t, "dwsnetd_requests_total{endpoint=\"%s\",status=\"%s\"} %llu\n",
                dwsd_endpoint_name(ep), status, (unsigned long long)v);
        }
    }
    put(t, "# HELP dwsnetd_request_duration_seconds Time from request line to last response "
           "byte queued.\n# TYPE dwsnetd_request_duration_seconds histogram\n");
    for (int ep = 0; ep < DWSD_EP_COUNT; ep++) {
        uint64_t count = atomic_load_explicit(&m->latency_count[ep], memory_order_relaxed);
        if (!count) continue;
        const char *name = dwsd_endpoint_name(ep);
        uint64_t cumulative = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cumulative += atomic_load_explicit(&m->latency_le[ep][b], memory_order_relaxed);
            put(t, "dwsnetd_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                name, buckets[b], (unsigned long long)cumulative);
        }
        put(t, "dwsnetd_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n", name,
            (unsigned long long)count);
        put(t, "dwsnetd_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", name,
            atomic_load_explicit(&m->latency_sum_us[ep], memory_order_relaxed) * 1e-6);
        put(t, "dwsnetd_request_duration_seconds_count{endpoint=\"%s\"} %llu\n", name,
            (unsigned long long)count);
    }
}

static void render_batches(text *t, dwsd_metrics *m, int batch_max)
{
    put(t, "# HELP dwsnetd_batch_size Requests per model forward (/adapt, /embed): 1 = alone; more = "
           "batched serving (--batch).\n# TYPE dwsnetd_batch_size histogram\n");
    uint64_t cumulative = 0, count = atomic_load_explicit(&m->batch_count, memory_order_relaxed);
    for (size_t b = 0; b < N_BATCH_BUCKETS; b++) {
        cumulative += atomic_load_explicit(&m->batch_le[b], memory_order_relaxed);
        put(t, "dwsnetd_batch_size_bucket{le=\"%d\"} %llu\n", batch_buckets[b], (unsigned long long)cumulative);
    }
    put(t, "dwsnetd_batch_size_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)count);
    put(t, "dwsnetd_batch_size_sum %llu\ndwsnetd_batch_size_count %llu\n",
        (unsigned long long)atomic_load_explicit(&m->batch_sum, memory_order_relaxed), (unsigned long long)count);
    put(t, "# HELP dwsnetd_batch_given_back_total Requests taken to join a batch and given back to the queue: "
           "other widths or model, or more work memory than the batch had left.\n"
           "# TYPE dwsnetd_batch_given_back_total counter\n");
    for (int r = 0; r < DWSD_BACK_COUNT; r++)
        put(t, "dwsnetd_batch_given_back_total{reason=\"%s\"} %llu\n", back_reasons[r],
            (unsigned long long)atomic_load_explicit(&m->batch_back[r], memory_order_relaxed));
    put(t, "# HELP dwsnetd_batch_max --batch: the most requests one forward takes (1: batching off).\n"
           "# TYPE dwsnetd_batch_max gauge\ndwsnetd_batch_max %d\n", batch_max);
}

/* Byte counts: every digit (%g would keep six). */
static void gauge_bytes(text *t, const char *name, const char *help, double v)
{
    put(t, "# HELP %s %s\n# TYPE %s gauge\n%s %.0f\n", name, help, name, name, v);
}

static void gauge(text *t, const char *name, const char *help, double v)
{
    put(t, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, v);
}

static void render_models(text *t, const dwsd_model_set *models)
{
    put(t, "# HELP dwsnetd_model_info Loaded models (value 1) and what they accept.\n"
           "# TYPE dwsnetd_model_info gauge\n");
    for (int i = 0; i < dwsd_model_set_count(models); i++) {
        const dws_model *m = dwsd_model_set_get(models, i);
        const dws_signature *s = dws_model_signature(m);
        put(t, "dwsnetd_model_info{id=\"");
        put_label(t, dws_model_id(m));
        put(t, "\",kind=\"%s\",d0=\"%lld\",dL=\"%lld\",depth=\"%d\",activation=\"%s\"} 1\n",
            dws_model_kind_name(dws_model_get_kind(m)), (long long)s->d0, (long long)s->dL,
            s->depth, dws_activation_name(s->activation));
    }
    for (int i = 0; i < dwsd_model_set_estimator_count(models); i++) {
        const dws_estimator *e = dwsd_model_set_estimator_at(models, i);
        put(t, "dwsnetd_model_info{id=\"");
        put_label(t, dws_estimator_id(e));
        put(t, "\",kind=\"%s\",d0=\"3072\",dL=\"%d\",depth=\"\",activation=\"\"} 1\n", DWS_ESTIMATOR_KIND,
            dws_estimator_class_count(e));
    }
}

char *dwsd_metrics_render(dwsd_metrics *m, const dwsd_gauges *g, const dwsd_model_set *models,
                          size_t *len)
{
    text t = {0};
    t.cap = 8192;
    if (!(t.s = malloc(t.cap))) return NULL;
    t.s[0] = '\0';
    render_requests(&t, m);
    gauge(&t, "dwsnetd_inflight_requests", "/adapt and /embed requests admitted and not finished.",
          g->inflight);
    gauge(&t, "dwsnetd_open_requests", "Requests begun and not finished, every endpoint (this one too).",
          g->open_requests);
    put(&t, "# HELP dwsnetd_requests_started_total Requests begun (request line read); each is "
            "logged once when it finishes.\n# TYPE dwsnetd_requests_started_total counter\n"
            "dwsnetd_requests_started_total %lld\n", g->started);
    gauge_bytes(&t, "dwsnetd_memory_ceiling_bytes",
          "Body memory + workers x work memory + models + base (the most the settings let the daemon use).",
          g->memory_ceiling);
    gauge_bytes(&t, "dwsnetd_body_memory_used_bytes", "Bytes of --body-memory held by admitted requests.",
          g->body_memory_used);
    gauge_bytes(&t, "dwsnetd_body_memory_bytes", "--body-memory.", g->body_memory);
    gauge_bytes(&t, "dwsnetd_work_memory_used_bytes", "Work memory held by running jobs.", g->work_memory_used);
    gauge_bytes(&t, "dwsnetd_work_memory_bytes", "Workers x --work-memory.", g->work_memory_total);
    gauge(&t, "dwsnetd_queued_jobs", "Jobs waiting for a worker.", g->queued);
    gauge(&t, "dwsnetd_running_jobs", "Jobs running on a worker.", g->running);
    gauge(&t, "dwsnetd_workers", "Worker threads.", g->workers);
    render_batches(&t, m, g->batch_max);
    gauge(&t, "dwsnetd_open_connections", "Open client connections.", g->connections);
    gauge(&t, "dwsnetd_draining", "1 after SIGTERM while in-flight requests finish.", g->draining);
    gauge(&t, "dwsnetd_models_loaded", "Models in the current set (domain estimators included).",
          dwsd_model_set_count(models) + dwsd_model_set_estimator_count(models));
    gauge(&t, "dwsnetd_uptime_seconds", "Seconds since start.", g->uptime_s);
    put(&t, "# HELP dwsnetd_model_reloads_total Model reloads by result.\n"
            "# TYPE dwsnetd_model_reloads_total counter\n"
            "dwsnetd_model_reloads_total{result=\"error\"} %llu\n"
            "dwsnetd_model_reloads_total{result=\"ok\"} %llu\n",
        (unsigned long long)atomic_load(&m->reloads[0]),
        (unsigned long long)atomic_load(&m->reloads[1]));
    render_models(&t, models);
    put(&t, "# HELP dwsnetd_build_info Version of the daemon and of libmicrohttpd.\n"
            "# TYPE dwsnetd_build_info gauge\n"
            "dwsnetd_build_info{version=\"%s\",microhttpd=\"%s\"} 1\n",
        DWS_VERSION, MHD_get_version());
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    *len = t.len;
    return t.s;
}
