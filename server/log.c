#include "log.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static dwsd_log_format log_format = DWSD_LOG_JSON;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void dwsd_log_init(dwsd_log_format format)
{
    log_format = format;
}

/* RFC 3339 UTC with milliseconds. */
static void timestamp(char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void write_line(FILE *f, const char *line)
{
    pthread_mutex_lock(&log_lock);
    fputs(line, f);
    fputc('\n', f);
    fflush(f);
    pthread_mutex_unlock(&log_lock);
}

/* Prints obj as one JSON line and frees it; falls back to a fixed line when out of memory. */
static void write_json(FILE *f, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    write_line(f, text ? text : "{\"level\":\"error\",\"msg\":\"log line lost: out of memory\"}");
    free(text);
    cJSON_Delete(obj);
}

void dwsd_log_event(const char *level, const char *fmt, ...)
{
    char msg[1024], ts[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    timestamp(ts, sizeof ts);
    if (log_format == DWSD_LOG_TEXT) {
        char line[1200];
        snprintf(line, sizeof line, "%s %-5s %s", ts, level, msg);
        write_line(stderr, line);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ts", ts);
    cJSON_AddStringToObject(o, "level", level);
    cJSON_AddStringToObject(o, "msg", msg);
    write_json(stderr, o);
}

/* Milliseconds to the microsecond: more digits would only be noise in the log. */
static double round_us(double ms)
{
    return (double)(long long)(ms * 1000) / 1000;
}

void dwsd_log_access(const dwsd_access_entry *e)
{
    char ts[40];
    timestamp(ts, sizeof ts);
    if (log_format == DWSD_LOG_TEXT) {
        char line[1200];
        snprintf(line, sizeof line, "%s %s %s %s %d %zu %.1fms model=%s code=%s", ts,
                 e->request_id, e->method, e->path, e->status, e->bytes_out, e->latency_ms,
                 e->model ? e->model : "-", e->code ? e->code : "-");
        write_line(stdout, line);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ts", ts);
    cJSON_AddStringToObject(o, "request_id", e->request_id);
    cJSON_AddStringToObject(o, "method", e->method);
    cJSON_AddStringToObject(o, "path", e->path);
    cJSON_AddNumberToObject(o, "status", e->status);
    cJSON_AddNumberToObject(o, "bytes_in", (double)e->bytes_in);
    cJSON_AddNumberToObject(o, "bytes", (double)e->bytes_out);
    cJSON_AddNumberToObject(o, "latency_ms", round_us(e->latency_ms));
    if (e->queue_ms >= 0) {
        cJSON_AddNumberToObject(o, "queue_ms", round_us(e->queue_ms));
        cJSON_AddNumberToObject(o, "work_ms", round_us(e->work_ms));
    }
    if (e->batch > 0) cJSON_AddNumberToObject(o, "batch", e->batch);
    if (e->model) cJSON_AddStringToObject(o, "model", e->model);
    else cJSON_AddNullToObject(o, "model");
    if (e->code) cJSON_AddStringToObject(o, "code", e->code);
    cJSON_AddStringToObject(o, "termination", e->termination);
    write_json(stdout, o);
}
