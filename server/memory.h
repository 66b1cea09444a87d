/* The daemon's memory ceiling, in one place:
 *
 *   ceiling = body memory            request bodies and responses held at once
 *                                    (admission counts their bytes, --body-memory)
 *           + workers x work memory  what each running /adapt, /embed or /v1/inspect
 *                                    may allocate, computed before it runs (--work-memory)
 *           + models                 the loaded model set, as measured
 *           + base                   code, libraries, thread stacks and BLAS buffers,
 *                                    libmicrohttpd's per-connection pools
 *
 * With a memory limit (--memory-limit, else the cgroup's), the daemon refuses to
 * start when the ceiling exceeds it, and --work-memory 0 takes what the limit
 * leaves each worker. */
#ifndef DWSD_MEMORY_H
#define DWSD_MEMORY_H

#include <stddef.h>

#include "config.h"

#define DWSD_BASE_FIXED (64u << 20)           /* binary, libraries, logs, the registry's JSON */
#define DWSD_BASE_PER_THREAD (4u << 20)       /* a thread's stack in use and its BLAS buffers */
#define DWSD_BASE_PER_CONNECTION (32u << 10)  /* libmicrohttpd's connection pool (its default size) */
#define DWSD_WORK_MEMORY_DEFAULT ((size_t)512 << 20)   /* without a limit to share out */
#define DWSD_WORK_MEMORY_MIN ((size_t)16 << 20)

typedef struct {
    size_t body, work, workers_work, models, base, ceiling;
    int workers, threads;
    size_t limit;             /* 0: none known */
    const char *limit_from;   /* "--memory-limit", "cgroup" or "none" */
    const char *work_from;    /* "--work-memory", "the limit" or "default" */
} dwsd_memory_plan;

/* The cgroup's memory limit (v2 memory.max, v1 memory.limit_in_bytes), 0 if none. */
size_t dwsd_cgroup_memory_limit(void);

/* The plan for cfg and models bytes of loaded models. 0 when it fits the limit;
 * -1 with why when it does not (or leaves a worker too little). */
int dwsd_memory_plan_make(const dwsd_config *cfg, size_t models, dwsd_memory_plan *p, char *why, size_t why_len);

/* The bytes models may take on a reload without breaking the limit (SIZE_MAX: none). */
size_t dwsd_memory_models_room(const dwsd_memory_plan *p);

/* The plan as one JSON object (malloc'd), for --check-memory and the logs. */
char *dwsd_memory_plan_json(const dwsd_memory_plan *p, int fits);

#endif
