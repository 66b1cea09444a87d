#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

struct option_spec;
typedef int (*option_parser)(const char *text, void *field, const struct option_spec *o,
                             char *why, size_t why_len);

struct option_spec {
    const char *flag;
    const char *env;
    const char *metavar;
    const char *fallback;      /* default, parsed like any other value; NULL: --models */
    const char *help;
    option_parser parse;
    size_t offset;
    long long min, max;        /* for integers and sizes */
};

/* field is the whole config: this sets listen, host and port together. */
static int parse_listen(const char *text, void *field, const struct option_spec *o, char *why,
                        size_t why_len)
{
    (void)o;
    dwsd_config *cfg = field;
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || strlen(text) >= sizeof cfg->listen) {
        snprintf(why, why_len, "expected HOST:PORT, e.g. 127.0.0.1:8080");
        return -1;
    }
    const char *host = text;
    size_t host_len = (size_t)(colon - text);
    if (host[0] == '[') {   /* [::1]:8080 */
        if (host_len < 3 || host[host_len - 1] != ']') {
            snprintf(why, why_len, "IPv6 hosts are written [ADDR]:PORT");
            return -1;
        }
        host++;
        host_len -= 2;
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535) {
        snprintf(why, why_len, "port must be 0..65535");
        return -1;
    }
    if (host_len >= sizeof cfg->host) {
        snprintf(why, why_len, "host name too long");
        return -1;
    }
    memcpy(cfg->host, host, host_len);
    cfg->host[host_len] = '\0';
    cfg->port = (int)port;
    snprintf(cfg->listen, sizeof cfg->listen, "%s", text);
    return 0;
}

static int parse_path(const char *text, void *field, const struct option_spec *o, char *why,
                      size_t why_len)
{
    (void)o;
    if (!*text || strlen(text) >= sizeof ((dwsd_config *)0)->models_dir) {
        snprintf(why, why_len, "path must be 1..1023 characters");
        return -1;
    }
    strcpy(field, text);
    return 0;
}

static int parse_int(const char *text, void *field, const struct option_spec *o, char *why,
                     size_t why_len)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || end == text || v < o->min || v > o->max) {
        snprintf(why, why_len, "expected an integer in %lld..%lld", o->min, o->max);
        return -1;
    }
    *(int *)field = (int)v;
    return 0;
}

/* Bytes with an optional binary suffix: 65536, 64K, 64M, 1G. */
static int parse_size(const char *text, void *field, const struct option_spec *o, char *why,
                      size_t why_len)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned long long scale = 1;
    if (end != text && *end) {
        switch (*end) {
        case 'k': case 'K': scale = 1ULL << 10; break;
        case 'm': case 'M': scale = 1ULL << 20; break;
        case 'g': case 'G': scale = 1ULL << 30; break;
        default: scale = 0;
        }
        end++;
        if (*end == 'i') end++;
        if (*end == 'B') end++;
    }
    if (errno || end == text || *end || !scale || text[0] == '-' ||
        v > (unsigned long long)o->max / scale || v * scale < (unsigned long long)o->min) {
        snprintf(why, why_len, "expected a size in bytes (suffix K, M or G) in %lld..%lld",
                 o->min, o->max);
        return -1;
    }
    *(size_t *)field = (size_t)(v * scale);
    return 0;
}

static int parse_log_format(const char *text, void *field, const struct option_spec *o, char *why,
                            size_t why_len)
{
    (void)o;
    if (!strcmp(text, "json")) *(dwsd_log_format *)field = DWSD_LOG_JSON;
    else if (!strcmp(text, "text")) *(dwsd_log_format *)field = DWSD_LOG_TEXT;
    else {
        snprintf(why, why_len, "expected json or text");
        return -1;
    }
    return 0;
}

#define FIELD(name) offsetof(dwsd_config, name)
static const struct option_spec options[] = {
    {"--listen", "DWSNETD_LISTEN", "HOST:PORT", "127.0.0.1:8080",
     "address to listen on; port 0 picks a free port (logged)", parse_listen, 0, 0, 0},
    /* Default: dws_models_dir(), the order dwsnet uses too (base/base.h, "model path"). */
    {"--models", "DWSNETD_MODELS", "DIR", NULL,
     "directory of .dws model files (reloaded on SIGHUP)", parse_path, FIELD(models_dir), 0, 0},
    {"--workers", "DWSNETD_WORKERS", "N", "0",
     "threads running adapt/embed; 0 = one per CPU", parse_int, FIELD(workers), 0, 256},
    {"--job-threads", "DWSNETD_JOB_THREADS", "N", "0",
     "threads per adapt/embed call; 0 = the CPUs shared among the running calls", parse_int,
     FIELD(job_threads), 0, 256},
    {"--batch", "DWSNETD_BATCH", "N", "1",
     "most /adapt or /embed requests for the same model, widths and domain, already waiting, that a worker runs "
     "as one forward; 1 = off (it gained nothing on a 2-core CPU: docs/benchmarks.md section 4)", parse_int, FIELD(batch), 1, 64},
    {"--max-inflight", "DWSNETD_MAX_INFLIGHT", "N", "64",
     "/adapt and /embed requests handled at once, upload to response; more get 503",
     parse_int, FIELD(max_inflight), 1, 65536},
    {"--queue-length", "DWSNETD_QUEUE_LENGTH", "N", "32",
     "received requests waiting for a worker; more get 503", parse_int, FIELD(queue_length), 0,
     65536},
    {"--body-limit", "DWSNETD_BODY_LIMIT", "BYTES", "64M",
     "largest request body (Content-Length or streamed); larger gets 413", parse_size,
     FIELD(body_limit), 1024, 1LL << 34},
    {"--body-memory", "DWSNETD_BODY_MEMORY", "BYTES", "256M",
     "request bodies (and responses) held at once; admission counts each request's "
     "Content-Length (the body limit when streamed); more get 503", parse_size, FIELD(body_memory),
     1024, 1LL << 40},
    {"--work-memory", "DWSNETD_WORK_MEMORY", "BYTES", "0",
     "memory one /adapt, /embed or /v1/inspect may use (decode, network, encode), computed before it "
     "runs; more gets 413 too_large. 0 = what --memory-limit leaves each worker, or 512M without one",
     parse_size, FIELD(work_memory), 0, 1LL << 40},
    {"--memory-limit", "DWSNETD_MEMORY_LIMIT", "BYTES", "0",
     "memory the daemon may use: it refuses to start when body memory + workers x work memory + "
     "models + base exceed it. 0 = the cgroup's memory limit, if there is one", parse_size,
     FIELD(memory_limit), 0, 1LL << 50},
    {"--io-threads", "DWSNETD_IO_THREADS", "N", "2",
     "HTTP threads (connection I/O only; never run a model)", parse_int, FIELD(io_threads), 1, 64},
    {"--max-connections", "DWSNETD_MAX_CONNECTIONS", "N", "512",
     "open connections at once", parse_int, FIELD(max_connections), 1, 100000},
    {"--timeout", "DWSNETD_TIMEOUT", "SECONDS", "30",
     "close a connection idle this long", parse_int, FIELD(conn_timeout_s), 1, 86400},
    {"--request-timeout", "DWSNETD_REQUEST_TIMEOUT", "SECONDS", "120",
     "close a connection whose request body takes longer than this", parse_int,
     FIELD(request_timeout_s), 1, 86400},
    {"--drain-timeout", "DWSNETD_DRAIN_TIMEOUT", "SECONDS", "30",
     "on SIGTERM, longest wait for in-flight requests", parse_int, FIELD(drain_timeout_s), 0,
     86400},
    {"--log-format", "DWSNETD_LOG_FORMAT", "json|text", "json",
     "access and event log format (stdout: access, stderr: events)", parse_log_format,
     FIELD(log_format), 0, 0},
};
#undef FIELD
#define N_OPTIONS (sizeof options / sizeof options[0])

void dwsd_config_usage(FILE *f)
{
    fprintf(f, "usage: dwsnetd [OPTIONS]\n\n"
               "HTTP daemon: POST /adapt and /embed take an ONNX MLP classifier and answer with\n"
               "the adapted ONNX model or its embedding; GET /v1/models, /healthz, /readyz,\n"
               "/metrics. SIGHUP reloads the models, SIGTERM drains and exits.\n\n"
               "options (each also read from the environment variable shown):\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_spec *o = &options[i];
        char lhs[64];
        snprintf(lhs, sizeof lhs, "%s %s", o->flag, o->metavar);
        if (o->fallback)
            fprintf(f, "  %-28s %s\n  %-28s [%s; default %s]\n", lhs, o->help, "", o->env, o->fallback);
        else
            fprintf(f, "  %-28s %s\n  %-28s [%s, else %s; else %s if it exists, else models]\n", lhs, o->help, "",
                    o->env, DWS_MODELS_ENV, dws_installed_models_dir());
    }
    fprintf(f, "  %-28s %s\n  %-28s %s\n  %-28s %s\n", "--check-memory",
            "load the models, print the memory ceiling (JSON) and exit: 0 if it fits, 2 if not", "--help",
            "print this help", "--version", "print the version");
}

static int apply(dwsd_config *cfg, const struct option_spec *o, const char *text,
                 const char *source)
{
    char why[160];
    if (o->parse(text, (char *)cfg + o->offset, o, why, sizeof why) == 0) return 0;
    fprintf(stderr, "dwsnetd: invalid_argument: %s '%s' (from %s): %s\n", o->flag, text, source,
            why);
    return -1;
}

int dwsd_config_load(dwsd_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *source = "default", *v = options[i].fallback;
        if (!v) v = dws_models_dir(&source);
        if (apply(cfg, &options[i], v, source)) return -1;
    }
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = getenv(options[i].env);
        if (v && apply(cfg, &options[i], v, options[i].env)) return -1;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            dwsd_config_usage(stdout);
            return 1;
        }
        if (!strcmp(arg, "--check-memory")) {
            cfg->check_memory = 1;
            continue;
        }
        if (!strcmp(arg, "--version")) {
            printf("dwsnetd %s\n", DWS_VERSION);
            return 1;
        }
        const struct option_spec *o = NULL;
        const char *value = NULL;
        for (size_t i = 0; i < N_OPTIONS && !o; i++) {
            size_t n = strlen(options[i].flag);
            if (!strncmp(arg, options[i].flag, n) && (arg[n] == '\0' || arg[n] == '=')) {
                o = &options[i];
                value = arg[n] == '=' ? arg + n + 1 : NULL;
            }
        }
        if (!o) {
            fprintf(stderr, "dwsnetd: invalid_argument: unknown option '%s' (see --help)\n", arg);
            return -1;
        }
        if (!value) {
            if (a + 1 >= argc) {
                fprintf(stderr, "dwsnetd: invalid_argument: %s needs a value\n", o->flag);
                return -1;
            }
            value = argv[++a];
        }
        if (apply(cfg, o, value, "command line")) return -1;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->cpus = n > 0 ? (int)(n < 256 ? n : 256) : 1;
    if (cfg->workers == 0) cfg->workers = cfg->cpus;
    return 0;
}
