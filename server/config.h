/* dwsnetd settings: one table of flags, each with a DWSNETD_* environment
 * equivalent and a default, parsed by the same code for all three sources. */
#ifndef DWSD_CONFIG_H
#define DWSD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef enum { DWSD_LOG_JSON = 0, DWSD_LOG_TEXT } dwsd_log_format;

typedef struct {
    char listen[288];         /* HOST:PORT as given */
    char host[256];           /* HOST part, brackets removed */
    int port;                 /* 0 = any free port (logged at start-up) */
    char models_dir[1024];
    int io_threads;           /* libmicrohttpd polling threads */
    int workers;              /* threads that run adapt/embed */
    int job_threads;          /* threads per adapt/embed call; 0 = cpus / running calls */
    int batch;                /* most /adapt or /embed requests run as one forward; 1 = off */
    int cpus;                 /* online CPUs (not a flag) */
    int max_inflight;         /* /adapt + /embed requests admitted at once */
    int queue_length;         /* jobs waiting for a worker */
    size_t body_limit;        /* bytes of one request body */
    size_t body_memory;       /* bytes of request bodies and responses held at once (admission) */
    size_t work_memory;       /* bytes one /adapt, /embed or /v1/inspect may use on a worker; 0 = auto */
    size_t memory_limit;      /* what the daemon may use in all; 0 = the cgroup's limit, if any */
    int check_memory;         /* --check-memory: print the memory arithmetic and exit */
    int max_connections;
    int conn_timeout_s;       /* idle connection timeout */
    int request_timeout_s;    /* whole request upload deadline */
    int drain_timeout_s;      /* SIGTERM: longest wait for in-flight requests */
    dwsd_log_format log_format;
} dwsd_config;

/* Fills cfg from the defaults, then DWSNETD_* variables, then argv.
 * Returns 0 to run, 1 when --help or --version was handled (exit 0),
 * -1 on a bad value (message already printed to stderr, exit 2). */
int dwsd_config_load(dwsd_config *cfg, int argc, char **argv);

void dwsd_config_usage(FILE *f);

#endif
