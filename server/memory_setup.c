#include "memory_setup.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int dwsd_memory_setup(dwsd_server *s, dwsd_config *cfg, int *exit_status)
{
    dwsd_model_set *set = dwsd_registry_acquire(s->registry);
    size_t models = dwsd_model_set_bytes(set);
    dwsd_model_set_release(set);
    char why[512];
    int fits = dwsd_memory_plan_make(cfg, models, &s->plan, why, sizeof why) == 0;
    if (cfg->check_memory) {
        char *json = dwsd_memory_plan_json(&s->plan, fits);
        printf("%s\n", json ? json : "{}");
        free(json);
        if (!fits) fprintf(stderr, "dwsnetd: %s\n", why);
        *exit_status = fits ? 0 : 2;
        return -1;
    }
    if (!fits) {
        fprintf(stderr, "dwsnetd: invalid_argument: %s\n", why);
        *exit_status = 2;
        return -1;
    }
    cfg->work_memory = s->plan.work;
    s->body_budget.capacity = cfg->body_memory;
    s->work_budget.capacity = s->plan.workers_work;
    /* /v1/models states each model's limits for the most threads a job can get. */
    dwsd_registry_configure(s->registry, s->plan.work, cfg->job_threads ? cfg->job_threads : cfg->cpus,
                            dwsd_memory_models_room(&s->plan));
    dws_error err;
    dws_error_clear(&err);
    if (dwsd_registry_reload(s->registry, &err)) {   /* again, with the limits in /v1/models */
        fprintf(stderr, "dwsnetd: %s: %s\n", err.code, err.message);
        *exit_status = 1;
        return -1;
    }
    dwsd_log_event("info", "memory ceiling %zu bytes: body memory %zu + %d workers x work memory %zu (%s) + "
                           "models %zu + base %zu; limit %zu (%s)",
                   s->plan.ceiling, s->plan.body, s->plan.workers, s->plan.work, s->plan.work_from,
                   s->plan.models, s->plan.base, s->plan.limit, s->plan.limit_from);
    return 0;
}
