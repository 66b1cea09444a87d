#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "request.h"
#include "base/base.h"

static void json_reply(dwsd_reply *out, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) dwsd_reply_error(out, DWS_E_OUT_OF_MEMORY, "out of memory");
    else dwsd_reply_ok(out, "application/json", text, strlen(text));
}

static void healthz(dwsd_server *s, dwsd_reply *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "version", DWS_VERSION);
    cJSON_AddNumberToObject(o, "uptime_s", (double)(long long)(dwsd_now() - s->started_at));
    json_reply(out, o);
}

static void readyz(dwsd_server *s, const dwsd_model_set *models, dwsd_reply *out)
{
    if (atomic_load(&s->draining)) {
        dwsd_reply_error(out, DWSD_E_NOT_READY, "draining: shutting down after SIGTERM");
        return;
    }
    if (dwsd_model_set_count(models) == 0) {
        dwsd_reply_error(out, DWSD_E_NOT_READY, "no models loaded: %s",
                         dwsd_model_set_empty_reason(models));
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ready");
    cJSON_AddNumberToObject(o, "models", dwsd_model_set_count(models) + dwsd_model_set_estimator_count(models));
    json_reply(out, o);
}

static void metrics(dwsd_server *s, const dwsd_model_set *models, dwsd_reply *out)
{
    dwsd_gauges g = {
        .inflight = atomic_load(&s->inflight),
        .open_requests = atomic_load(&s->requests),
        .started = atomic_load(&s->requests_started),
        .memory_ceiling = (double)s->plan.ceiling,
        .body_memory_used = (double)atomic_load(&s->body_budget.used),
        .body_memory = (double)s->body_budget.capacity,
        .work_memory_used = (double)atomic_load(&s->work_budget.used),
        .work_memory_total = (double)s->work_budget.capacity,
        .workers = s->cfg->workers,
        .batch_max = s->cfg->batch,
        .connections = atomic_load(&s->connections),
        .draining = atomic_load(&s->draining),
        .uptime_s = dwsd_now() - s->started_at,
    };
    dwsd_queue_stats(s->queue, &g.queued, &g.running);
    size_t len;
    char *text = dwsd_metrics_render(s->metrics, &g, models, &len);
    if (!text) dwsd_reply_error(out, DWS_E_OUT_OF_MEMORY, "out of memory");
    else dwsd_reply_ok(out, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

void dwsd_info_reply(dwsd_server *s, dwsd_endpoint ep, dwsd_reply *out)
{
    dwsd_model_set *models = dwsd_registry_acquire(s->registry);
    switch (ep) {
    case DWSD_EP_HEALTHZ: healthz(s, out); break;
    case DWSD_EP_READYZ: readyz(s, models, out); break;
    case DWSD_EP_METRICS: metrics(s, models, out); break;
    case DWSD_EP_MODELS: {
        char *text = strdup(dwsd_model_set_json(models));
        if (!text) dwsd_reply_error(out, DWS_E_OUT_OF_MEMORY, "out of memory");
        else dwsd_reply_ok(out, "application/json", text, strlen(text));
        break;
    }
    default: dwsd_reply_error(out, DWSD_E_INTERNAL, "no handler for this endpoint");
    }
    dwsd_model_set_release(models);
}
