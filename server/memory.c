#include "memory.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* One number from a file, 0 when absent or "max". Limits of 2^60 and more are
 * cgroup v1's way of saying none. */
static size_t read_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long v = 0;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    return ok && v > 0 && v < (1ULL << 60) ? (size_t)v : 0;
}

size_t dwsd_cgroup_memory_limit(void)
{
    size_t v2 = read_limit("/sys/fs/cgroup/memory.max");
    return v2 ? v2 : read_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes");
}

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
    return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

int dwsd_memory_plan_make(const dwsd_config *cfg, size_t models, dwsd_memory_plan *p, char *why, size_t why_len)
{
    *p = (dwsd_memory_plan){.body = cfg->body_memory, .models = models, .workers = cfg->workers};
    int job_threads = cfg->job_threads ? cfg->job_threads : cfg->cpus < 8 ? cfg->cpus : 8;
    p->threads = cfg->io_threads + cfg->workers * job_threads;
    p->base = DWSD_BASE_FIXED + (size_t)p->threads * DWSD_BASE_PER_THREAD +
              (size_t)cfg->max_connections * DWSD_BASE_PER_CONNECTION;
    p->limit = cfg->memory_limit;
    p->limit_from = p->limit ? "--memory-limit" : "none";
    if (!p->limit && (p->limit = dwsd_cgroup_memory_limit())) p->limit_from = "cgroup";
    size_t fixed = sat_add(sat_add(p->body, p->models), p->base);
    p->work = cfg->work_memory;
    p->work_from = "--work-memory";
    if (!p->work && p->limit) {
        p->work = p->limit > fixed ? (p->limit - fixed) / (size_t)cfg->workers / (1u << 20) * (1u << 20) : 0;
        p->work_from = "the limit";
    } else if (!p->work) {
        p->work = DWSD_WORK_MEMORY_DEFAULT;
        p->work_from = "default";
    }
    p->workers_work = sat_mul((size_t)cfg->workers, p->work);
    p->ceiling = sat_add(fixed, p->workers_work);
    if (p->work < DWSD_WORK_MEMORY_MIN) {
        snprintf(why, why_len, "a worker would have %zu bytes of work memory (at least %zu are needed): the %s limit "
                 "of %zu bytes holds only body memory %zu + models %zu + base %zu",
                 p->work, DWSD_WORK_MEMORY_MIN, p->limit_from, p->limit, p->body, p->models, p->base);
        return -1;
    }
    if (p->limit && p->ceiling > p->limit) {
        snprintf(why, why_len, "the settings need up to %zu bytes: body memory %zu + %d workers x work memory %zu + "
                 "models %zu + base %zu, more than the %s limit of %zu",
                 p->ceiling, p->body, p->workers, p->work, p->models, p->base, p->limit_from, p->limit);
        return -1;
    }
    return 0;
}

size_t dwsd_memory_models_room(const dwsd_memory_plan *p)
{
    if (!p->limit) return SIZE_MAX;
    size_t others = sat_add(sat_add(p->body, p->workers_work), p->base);
    return p->limit > others ? p->limit - others : 0;
}

char *dwsd_memory_plan_json(const dwsd_memory_plan *p, int fits)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ceiling", (double)p->ceiling);
    cJSON_AddNumberToObject(o, "body_memory", (double)p->body);
    cJSON_AddNumberToObject(o, "workers", p->workers);
    cJSON_AddNumberToObject(o, "work_memory", (double)p->work);
    cJSON_AddStringToObject(o, "work_memory_from", p->work_from);
    cJSON_AddNumberToObject(o, "models", (double)p->models);
    cJSON_AddNumberToObject(o, "base", (double)p->base);
    cJSON_AddNumberToObject(o, "limit", (double)p->limit);
    cJSON_AddStringToObject(o, "limit_from", p->limit_from);
    cJSON_AddBoolToObject(o, "fits", fits);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}
