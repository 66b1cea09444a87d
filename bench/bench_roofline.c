/* The roofline report (bench/perf-report.md): for the adapter forward, the
 * trainer's forward + backward, and the ONNX decode and encode of /adapt, the
 * floating-point work, the bytes each pass streams as the code moves them (the
 * library's pass trace, ws_pass.h), the least traffic the computation needs, and
 * this machine's measured stream bandwidth and sgemm rate (small probes here), and
 * so which bound applies and how far the measured time is from it.
 *   bench_roofline [--reps R] [--model FILE.dws] [--report FILE] [--threads N]
 * Defaults: 20 repetitions, the shipped adapter (models/cifar10c-adapter.dws; an
 * untrained adapter of its size when absent), bench/perf-report.md, 1 and 2
 * threads. Times are the minimum over the repetitions (the machine is shared;
 * the median is printed beside it). */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "mlp/mlp.h"
#include "model/model.h"
#include "onnx/onnx_codec.h"
#include "ws/ws.h"

#define MAX_THREADS 2
#define MAX_PASSES 16

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double min, median;
} timing;

static timing summarise(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return (timing){v[0], n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])};
}

/* ---- probes ---- */

typedef float v8 __attribute__((vector_size(32), aligned(32)));

typedef struct {
    v8 *a;
    const v8 *b, *c;
    size_t n;
    int reps;
} triad_job;

static void *triad(void *arg)
{
    triad_job *j = arg;
    for (int r = 0; r < j->reps; r++)
        for (size_t i = 0; i < j->n; i++) j->a[i] = j->b[i] + 1.5f * j->c[i];
    return NULL;
}

/* STREAM triad a = b + s c over three arrays of `floats` floats split among
 * `threads` threads: GB/s counted as STREAM counts them (two reads and one write
 * per element, 12 bytes; the cache's read of a before the write is not counted). */
static double stream_triad(size_t floats, int threads, int inner)
{
    size_t n = floats / 8;
    v8 *a = aligned_alloc(64, n * sizeof(v8)), *b = aligned_alloc(64, n * sizeof(v8)),
       *c = aligned_alloc(64, n * sizeof(v8));
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    for (size_t i = 0; i < n; i++) a[i] = (v8){0}, b[i] = (v8){0} + 1.f, c[i] = (v8){0} + 2.f;
    double best = 1e30;
    for (int k = 0; k < 7; k++) {
        triad_job jobs[MAX_THREADS];
        pthread_t tid[MAX_THREADS];
        double t0 = now_s();
        for (int q = 0; q < threads; q++) {
            size_t lo = n * (size_t)q / (size_t)threads, hi = n * (size_t)(q + 1) / (size_t)threads;
            jobs[q] = (triad_job){a + lo, b + lo, c + lo, hi - lo, inner};
            if (q > 0) pthread_create(&tid[q], NULL, triad, &jobs[q]);
        }
        triad(&jobs[0]);
        for (int q = 1; q < threads; q++) pthread_join(tid[q], NULL);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    free(a), free(b), free(c);
    return 12.0 * (double)(n * 8) * inner / best * 1e-9;
}

/* sgemm GFLOP/s of C = A B (m x k times k x n), OpenBLAS on `threads` threads. */
static double sgemm_rate(int m, int n, int k, int threads, int inner)
{
    float *A = malloc(sizeof(float) * (size_t)m * k), *B = malloc(sizeof(float) * (size_t)k * n),
          *C = calloc((size_t)m * n, sizeof(float));
    for (size_t i = 0; i < (size_t)m * k; i++) A[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)k * n; i++) B[i] = (float)(i % 5) * 0.1f;
    openblas_set_num_threads(threads);
    double best = 1e30;
    for (int r = 0; r < 7; r++) {
        double t0 = now_s();
        for (int q = 0; q < inner; q++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, A, k, B, n, 1.f, C, n);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    openblas_set_num_threads(1);
    free(A), free(B), free(C);
    return 2.0 * m * n * (double)k * inner / best * 1e-9;
}

typedef struct {
    double dram[MAX_THREADS + 1], l3[MAX_THREADS + 1];   /* GB/s by thread count */
    double sgemm[MAX_THREADS + 1];                       /* GFLOP/s, large square */
    double sgemm_thin;                                   /* GFLOP/s, 1024 x 8 x 8, 1 thread */
} probes;

/* ---- the weight-space workloads ---- */

typedef struct {
    char what[48];
    double bytes_read, bytes_written;
    double t[MAX_THREADS + 1];   /* min seconds by thread count */
} pass_row;

typedef struct {
    const char *name;
    int batch, keep;
    double flops;                /* per call (the whole batch) */
    double min_bytes;            /* the least traffic per call */
    double compulsory_bytes;     /* the classifiers in and out once */
    int n_pass;
    pass_row pass[MAX_PASSES];
    timing total[MAX_THREADS + 1];
} workload;

static void random_ws(dws_ws *w, dws_rng *rng)
{
    for (size_t j = 0; j < w->n_floats; j++) w->data[j] = 0.02f * (float)dws_rng_normal(rng);
}

/* Runs the adapter forward (and backward when keep) reps times on `threads`
 * threads, tracing every pass: per pass the minimum time, per call min and median. */
static int run_workload(const dws_net *net, workload *w, const int64_t *widths, int threads, int reps)
{
    dws_error err;
    dws_ws in, out;
    dws_rng rng;
    dws_rng_seed(&rng, 7);
    if (dws_ws_init(&in, net->arch.depth, widths, w->batch, 1, &err) != 0 ||
        dws_ws_init(&out, net->arch.depth, widths, w->batch, 1, &err) != 0) {
        fprintf(stderr, "bench_roofline: %s\n", err.message);
        return -1;
    }
    random_ws(&in, &rng);
    float *grads = calloc(net->n_params, sizeof(float));
    dws_net_state *st = dws_net_state_new(threads, w->keep);
    double *total = malloc(sizeof(double) * (size_t)reps);
    dws_pass_trace *trace = malloc(sizeof *trace);
    int rc = 0;
    for (int r = -1; rc == 0 && r < reps; r++) {   /* r = -1: warm-up (allocations, page faults) */
        trace->n = 0;
        dws_net_state_trace(st, trace);
        double t0 = now_s();
        rc = dws_adapter_forward(net, &in, &out, st, &err);
        if (rc == 0 && w->keep) rc = dws_adapter_backward(net, st, &out, grads, NULL, &err);
        double dt = now_s() - t0;
        if (rc != 0 || r < 0) continue;
        total[r] = dt;
        if (r == 0) {
            w->n_pass = trace->n < MAX_PASSES ? trace->n : MAX_PASSES;
            /* Forward passes run layer 0 first, backward passes the last layer first. */
            int fwd = 0, bwd = net->arch.n_dws_layers;
            for (int p = 0; p < w->n_pass; p++) {
                pass_row *row = &w->pass[p];
                const char *what = trace->rec[p].what;
                char layer[24] = "";
                if (!strncmp(what, "forward", 7)) snprintf(layer, sizeof layer, "layer %d ", fwd++);
                else if (!strncmp(what, "backward", 8)) snprintf(layer, sizeof layer, "layer %d ", --bwd);
                snprintf(row->what, sizeof row->what, "%s%s (c=%d)", layer, what, trace->rec[p].channels);
                row->bytes_read = trace->rec[p].bytes_read;
                row->bytes_written = trace->rec[p].bytes_written;
                row->t[threads] = 1e30;
            }
        }
        for (int p = 0; p < w->n_pass && p < trace->n; p++)
            if (trace->rec[p].seconds < w->pass[p].t[threads]) w->pass[p].t[threads] = trace->rec[p].seconds;
    }
    if (rc != 0) fprintf(stderr, "bench_roofline: %s\n", err.message);
    else w->total[threads] = summarise(total, reps);
    free(trace);
    free(total);
    free(grads);
    dws_net_state_free(st);
    dws_ws_free(&in);
    dws_ws_free(&out);
    return rc;
}

/* The least traffic of the computation as the issue defines it: every weight-space
 * tensor read once and written once per DWS layer at its channel count (the
 * adapter's residual reads the classifier and writes the result once more). */
static double least_bytes(const dws_net *net, size_t entries, int backward)
{
    double b = 0;
    for (int l = 0; l < net->arch.n_dws_layers; l++)
        b += (double)entries * sizeof(float) * (net->layers[l].c_in + net->layers[l].c_out);
    b += 3.0 * (double)entries * sizeof(float);   /* residual: classifier and F in, result out */
    return backward ? 2 * b : b;                  /* backward: the same tensors once more */
}

static size_t ws_entries(int depth, const int64_t *widths)
{
    return dws_mlp_param_count(depth, widths);
}

/* ---- decode and encode ---- */

typedef struct {
    size_t file_bytes, out_bytes, weights_bytes;
    timing decode, encode;
} codec_result;

static int run_codec(const dws_model *m, const int64_t *widths, int depth, int reps, codec_result *c)
{
    dws_error err;
    dws_mlp mlp;
    dws_rng rng;
    dws_rng_seed(&rng, 11);
    if (dws_mlp_init(&mlp, depth, widths, &err) != 0) return -1;
    for (size_t j = 0; j < mlp.n_params; j++) mlp.params[j] = 0.02f * (float)dws_rng_normal(&rng);
    uint8_t *file = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    int rc = dws_onnx_build(&mlp, "bench_roofline", NULL, 0, &file, &len, &err);
    double *dec = malloc(sizeof(double) * (size_t)reps), *enc = malloc(sizeof(double) * (size_t)reps);
    dws_mlp adapted = {0};
    dws_run_opts opts = {.threads = 1};
    for (int r = -1; rc == 0 && r < reps; r++) {
        double t0 = now_s();
        dws_onnx *o = dws_onnx_decode(file, len, NULL, &err);
        double t1 = now_s();
        if (!o) {
            rc = -1;
            break;
        }
        if (r < 0) rc = dws_adapter_apply(m, dws_onnx_weights(o), &adapted, &opts, &err);
        double t2 = now_s();
        if (rc == 0) rc = dws_onnx_encode(o, &adapted, NULL, 0, &out, &out_len, &err);
        double t3 = now_s();
        free(out);
        dws_onnx_free(o);
        if (r >= 0) dec[r] = t1 - t0, enc[r] = t3 - t2;
    }
    if (rc != 0) fprintf(stderr, "bench_roofline: %s\n", err.message);
    else {
        c->file_bytes = len, c->out_bytes = out_len, c->weights_bytes = mlp.n_params * sizeof(float);
        c->decode = summarise(dec, reps), c->encode = summarise(enc, reps);
    }
    free(dec), free(enc), free(file);
    dws_mlp_free(&adapted);
    dws_mlp_free(&mlp);
    return rc;
}

/* ---- batched serving ---- */

/* /adapt's work after the decode (fold, forward, unfold, encode) per classifier,
 * for B different classifiers of one widths: one by one (dws_adapt_onnx) and as
 * one batch (dws_adapt_onnx_batch, what dwsnetd --batch runs), each with a kept
 * workspace as a daemon worker has; interleaved, minimum over the repetitions. */
#define SERVE_MAX 8
typedef struct {
    double alone, batched;   /* seconds per classifier */
} serve_result;

static int run_serving(const dws_model *m, const int64_t *widths, int B, int threads, int reps, serve_result *res)
{
    dws_error err;
    dws_onnx *o[SERVE_MAX] = {0};
    int rc = 0;
    for (int i = 0; i < B && rc == 0; i++) {
        dws_mlp mlp;
        dws_rng rng;
        dws_rng_seed(&rng, 20 + (uint64_t)i);
        if ((rc = dws_mlp_init(&mlp, 3, widths, &err)) != 0) break;
        for (size_t j = 0; j < mlp.n_params; j++) mlp.params[j] = 0.02f * (float)dws_rng_normal(&rng);
        uint8_t *file = NULL;
        size_t len = 0;
        rc = dws_onnx_build(&mlp, "bench_roofline", NULL, 0, &file, &len, &err);
        if (rc == 0 && !(o[i] = dws_onnx_decode(file, len, NULL, &err))) rc = -1;
        free(file);
        dws_mlp_free(&mlp);
    }
    dws_workspace *w1 = dws_workspace_new(), *wb = dws_workspace_new();
    dws_run_opts one = {.threads = threads, .workspace = w1}, batch = {.threads = threads, .workspace = wb};
    res->alone = res->batched = 1e30;
    for (int r = -1; rc == 0 && r < reps; r++) {   /* r = -1: warm-up */
        double t0 = now_s();
        for (int i = 0; i < B && rc == 0; i++) {
            uint8_t *out = NULL;
            size_t len = 0;
            rc = dws_adapt_onnx(m, o[i], &one, NULL, &out, &len, &err);
            free(out);
        }
        double t1 = now_s();
        dws_onnx_job jobs[SERVE_MAX];
        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < B; i++) jobs[i].onnx = o[i];
        if (rc == 0 && dws_adapt_onnx_batch(m, jobs, B, &batch, NULL, NULL) != B) {
            err = jobs[0].err;
            rc = -1;
        }
        double t2 = now_s();
        for (int i = 0; i < B; i++) {
            free(jobs[i].bytes);
            dws_mlp_free(&jobs[i].adapted);
        }
        if (r >= 0 && (t1 - t0) / B < res->alone) res->alone = (t1 - t0) / B;
        if (r >= 0 && (t2 - t1) / B < res->batched) res->batched = (t2 - t1) / B;
    }
    if (rc != 0) fprintf(stderr, "bench_roofline: %s\n", err.message);
    dws_workspace_free(w1);
    dws_workspace_free(wb);
    for (int i = 0; i < B; i++) dws_onnx_free(o[i]);
    return rc;
}

/* ---- report ---- */

static void cpu_model(char *out, size_t n)
{
    snprintf(out, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *v = strchr(line, ':');
            if (v) snprintf(out, n, "%s", v + 2);
            out[strcspn(out, "\n")] = 0;
            break;
        }
    }
    if (f) fclose(f);
}

static void caches(char *out, size_t n)
{
    size_t at = 0;
    out[0] = 0;
    for (int i = 0; i < 8 && at < n; i++) {
        char path[128], level[16] = "", type[32] = "", size[32] = "";
        FILE *f;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (!(f = fopen(path, "r"))) break;
        if (!fgets(level, sizeof level, f)) level[0] = 0;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if ((f = fopen(path, "r"))) {
            if (!fgets(type, sizeof type, f)) type[0] = 0;
            fclose(f);
        }
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if ((f = fopen(path, "r"))) {
            if (!fgets(size, sizeof size, f)) size[0] = 0;
            fclose(f);
        }
        level[strcspn(level, "\n")] = type[strcspn(type, "\n")] = size[strcspn(size, "\n")] = 0;
        if (!strcmp(type, "Instruction")) continue;
        at += (size_t)snprintf(out + at, n - at, "%sL%s %s", at ? ", " : "", level, size);
    }
}

static void loadavg(char *out, size_t n)
{
    snprintf(out, n, "?");
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(out, (int)n, f)) {
            char *sp = out;
            for (int k = 0; k < 3 && sp; k++) sp = strchr(sp + 1, ' ');
            if (sp) *sp = 0;
        }
        fclose(f);
    }
}

static const char *bound_name(double t_mem, double t_flop)
{
    return t_mem >= t_flop ? "memory (DRAM stream)" : "compute (sgemm rate)";
}

static void report_workload(FILE *f, const workload *w, const probes *pr, int t_lo, int t_hi, size_t entries)
{
    double read = 0, written = 0;
    for (int p = 0; p < w->n_pass; p++) read += w->pass[p].bytes_read, written += w->pass[p].bytes_written;
    fprintf(f, "\n### %s\n\n", w->name);
    fprintf(f, "Per call: batch %d, %zu weight-space entries per classifier, %.3f GFLOP (channel maps and template "
               "convolution: `dws_net_forward_flops`%s).\n\n",
            w->batch, entries, w->flops * 1e-9, w->keep ? ", x3 for forward + backward" : "");
    fprintf(f, "| pass | read MB | written MB |");
    for (int t = t_lo; t <= t_hi; t++) fprintf(f, " %d thread%s ms | GB/s |", t, t > 1 ? "s" : "");
    fprintf(f, "\n|---|---|---|");
    for (int t = t_lo; t <= t_hi; t++) fprintf(f, "---|---|");
    fprintf(f, "\n");
    for (int p = 0; p < w->n_pass; p++) {
        const pass_row *r = &w->pass[p];
        fprintf(f, "| %d. %s | %.2f | %.2f |", p + 1, r->what, r->bytes_read * 1e-6, r->bytes_written * 1e-6);
        for (int t = t_lo; t <= t_hi; t++)
            fprintf(f, " %.3f | %.1f |", r->t[t] * 1e3, (r->bytes_read + r->bytes_written) / r->t[t] * 1e-9);
        fprintf(f, "\n");
    }
    fprintf(f, "| **all passes** (as the code moves them) | %.2f | %.2f |", read * 1e-6, written * 1e-6);
    for (int t = t_lo; t <= t_hi; t++)
        fprintf(f, " %.3f (median %.3f) | %.1f |", w->total[t].min * 1e3, w->total[t].median * 1e3,
                (read + written) / w->total[t].min * 1e-9);
    fprintf(f, "\n\nLeast traffic (every weight-space tensor read once and written once per DWS layer at its "
               "channel count%s): %.1f MB; compulsory (the classifier%s read once, the result written once): %.1f MB. "
               "The code moves %.1f MB%s.\n\n",
            w->keep ? ", forward and backward" : ", plus the residual", w->min_bytes * 1e-6, w->batch > 1 ? "s" : "",
            w->compulsory_bytes * 1e-6, (read + written) * 1e-6,
            read + written < w->min_bytes ? ": less, because inference stores neither the last hidden activation "
                                            "nor the last layer's output (each block goes on through the next map, "
                                            "or the residual)"
                                          : "");
    fprintf(f, "| threads | measured ms | memory bound ms (bytes moved / DRAM triad) | compute bound ms (GFLOP / "
               "sgemm) | bound | measured / bound | GFLOP/s |\n|---|---|---|---|---|---|---|\n");
    for (int t = t_lo; t <= t_hi; t++) {
        double t_mem = (read + written) / (pr->dram[t] * 1e9), t_flop = w->flops / (pr->sgemm[t] * 1e9);
        double bound = t_mem > t_flop ? t_mem : t_flop;
        fprintf(f, "| %d | %.3f | %.3f | %.3f | %s | %.1fx | %.1f |\n", t, w->total[t].min * 1e3, t_mem * 1e3,
                t_flop * 1e3, bound_name(t_mem, t_flop), w->total[t].min / bound, w->flops / w->total[t].min * 1e-9);
    }
    double best_gbs = 0;
    for (int p = 0; p < w->n_pass; p++) {
        double gbs = (w->pass[p].bytes_read + w->pass[p].bytes_written) / w->pass[p].t[t_hi] * 1e-9;
        if (gbs > best_gbs) best_gbs = gbs;
    }
    fprintf(f, "\nOn %d thread%s no pass streams more than %.1f GB/s (the triad: %.1f) and the call does %.1f GFLOP/s "
               "(sgemm: %.1f): neither bytes nor counted FLOPs are what it waits for, but the work per entry that "
               "neither counts (the broadcast, activation and pooling, the template convolution's taps, the blocks' "
               "copies between L2 and the tensors).\n",
            t_hi, t_hi > 1 ? "s" : "", best_gbs, pr->dram[t_hi], w->flops / w->total[t_hi].min * 1e-9, pr->sgemm[t_hi]);
}

int main(int argc, char **argv)
{
    int reps = 20, only_threads = 0;
    const char *model_path = "models/cifar10c-adapter.dws", *report = "bench/perf-report.md";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--model")) model_path = argv[i + 1];
        else if (!strcmp(argv[i], "--report")) report = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) only_threads = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_roofline [--reps R] [--model FILE.dws] [--report FILE] [--threads N]\n");
            return 2;
        }
    }
    if (reps < 3) reps = 3;
    if (only_threads < 0 || only_threads > MAX_THREADS) only_threads = 0;
    const int t_lo = only_threads ? only_threads : 1, t_hi = only_threads ? only_threads : MAX_THREADS;
    char load_before[64], load_after[64];
    loadavg(load_before, sizeof load_before);

    /* The model: the shipped adapter, or an untrained one of its size. */
    dws_error err;
    dws_model *model = access(model_path, R_OK) == 0 ? dws_model_load(model_path, &err) : NULL;
    char model_desc[256];
    if (model) {
        snprintf(model_desc, sizeof model_desc, "%s (`%s`)", model_path, dws_model_id(model));
    } else {
        dws_arch a;
        dws_arch_default(&a, DWS_MODEL_ADAPTER);
        a.channels = 8;
        a.n_dws_layers = 3;
        dws_net net;
        dws_model_info info = {.id = "bench-adapter"};
        if (dws_net_init(&net, &a, 42, &err) != 0 || !(model = dws_model_from_net(&net, &info, &err))) {
            fprintf(stderr, "bench_roofline: %s\n", err.message);
            return 1;
        }
        for (int k = 0; k < 2 * a.depth; k++) dws_model_net(model)->params[dws_model_net(model)->alpha + k] = 0.1f;
        snprintf(model_desc, sizeof model_desc, "an untrained adapter of the shipped size (%s absent)", model_path);
    }
    const dws_net *net = dws_model_net(model);

    /* Workloads. */
    const int64_t shapes[2][4] = {{3072, 128, 128, 10}, {3072, 64, 64, 10}};
    workload fw[2], tr;
    int rc = 0;
    for (int s = 0; s < 2 && rc == 0; s++) {
        workload *w = &fw[s];
        memset(w, 0, sizeof *w);
        w->name = s ? "Adapter forward, 3072-64-64-10, batch 1" : "Adapter forward, 3072-128-128-10, batch 1";
        w->batch = 1;
        size_t n = ws_entries(3, shapes[s]);
        w->flops = dws_net_forward_flops(net, shapes[s]);
        w->min_bytes = least_bytes(net, n, 0);
        w->compulsory_bytes = 2.0 * n * sizeof(float);
        for (int t = t_lo; t <= t_hi && rc == 0; t++) rc = run_workload(net, w, shapes[s], t, reps);
        if (rc == 0)
            printf("%s: min %.3f ms on %d thread(s)\n", w->name, w->total[t_lo].min * 1e3, t_lo);
    }
    memset(&tr, 0, sizeof tr);
    tr.name = "Trainer forward + backward, 3072-128-128-10, batch 4";
    tr.batch = 4;
    tr.keep = 1;
    size_t n_big = ws_entries(3, shapes[0]);
    tr.flops = 3 * 4 * dws_net_forward_flops(net, shapes[0]);
    tr.min_bytes = 4 * least_bytes(net, n_big, 1);
    tr.compulsory_bytes = 4 * 2.0 * n_big * sizeof(float);
    for (int t = t_lo; t <= t_hi && rc == 0; t++) rc = run_workload(net, &tr, shapes[0], t, reps < 8 ? reps : 8);
    if (rc == 0)
        printf("%s: min %.3f ms per classifier on %d thread(s)\n", tr.name, tr.total[t_hi].min * 1e3 / 4, t_hi);
    /* Batches: the forward's time per classifier at batch 1 .. 8 (batched serving). */
    static const int batches[] = {1, 2, 4, 8};
    double per_mlp[4][MAX_THREADS + 1] = {{0}};
    for (int k = 0; k < 4 && rc == 0; k++)
        for (int t = t_lo; t <= t_hi && rc == 0; t++) {
            workload wb = {.name = "batch", .batch = batches[k]};
            rc = run_workload(net, &wb, shapes[0], t, reps / batches[k] < 3 ? 3 : reps / batches[k]);
            per_mlp[k][t] = wb.total[t].min / batches[k];
        }
    static const int serve_b[] = {2, 3, 4, 8};
    serve_result serve[2][4][MAX_THREADS + 1];
    int serve_cap[2];
    for (int s = 0; s < 2 && rc == 0; s++) {
        dws_run_opts o1 = {.threads = 1};
        serve_cap[s] = dws_model_batch_cap(model, 3, shapes[s], SERVE_MAX, &o1);
        for (int k = 0; k < 4 && rc == 0; k++)
            for (int t = t_lo; t <= t_hi && rc == 0; t++) {
                int r = reps / serve_b[k];
                rc = run_serving(model, shapes[s], serve_b[k], t, r < 4 ? 4 : r, &serve[s][k][t]);
            }
    }
    codec_result cr = {0};
    if (rc == 0) rc = run_codec(model, shapes[0], 3, reps, &cr);
    if (rc != 0) return 1;
    /* Probes last: OpenBLAS's own threads, started by the two-thread sgemm, spin for
     * a while after it and would slow what runs next. */
    probes pr = {0};
    for (int t = t_lo; t <= t_hi; t++) {
        pr.dram[t] = stream_triad((size_t)16 << 20, t, 2);   /* 3 x 64 MB: past the L3 */
        pr.l3[t] = stream_triad((size_t)1 << 20, t, 40);     /* 3 x 4 MB: in the L3 */
        pr.sgemm[t] = sgemm_rate(1536, 1536, 1536, t, 1);
    }
    pr.sgemm_thin = sgemm_rate(1024, 8, 8, 1, 2000);
    for (int t = t_lo; t <= t_hi; t++)
        printf("probes, %d thread(s): DRAM triad %.1f GB/s, L3 triad %.1f GB/s, sgemm %.1f GFLOP/s\n", t, pr.dram[t],
               pr.l3[t], pr.sgemm[t]);
    printf("probes: OpenBLAS sgemm 1024 x 8 x 8 (a channel map's shape), 1 thread: %.1f GFLOP/s\n", pr.sgemm_thin);

    loadavg(load_after, sizeof load_after);

    /* The report. */
    FILE *f = fopen(report, "w");
    if (!f) {
        perror(report);
        return 1;
    }
    char cpu[256], cache[256], date[32];
    struct utsname u;
    uname(&u);
    cpu_model(cpu, sizeof cpu);
    caches(cache, sizeof cache);
    time_t tnow = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&tnow));
    fprintf(f, "# Roofline report\n\n");
    fprintf(f, "Made by `build/bench/bench_roofline` (part of `make bench`; alone: `bench/run-all roofline`) on "
               "%s.\n\n",
            date);
    fprintf(f, "Machine: %s, %ld CPUs online, caches per core %s; Linux %s. Load average (1, 5, 15 min) %s at the "
               "start, %s at the end: other work on the machine slows every figure here. Model: %s. Times are the "
               "minimum of %d repetitions (median beside the totals).\n",
            cpu, sysconf(_SC_NPROCESSORS_ONLN), cache, u.release, load_before, load_after, model_desc, reps);
    fprintf(f, "\n## Probes\n\n| threads | DRAM stream triad GB/s (3 x 64 MB) | L3 stream triad GB/s (3 x 4 MB) "
               "| sgemm "
               "GFLOP/s (OpenBLAS, 1536^3) |\n|---|---|---|---|\n");
    for (int t = t_lo; t <= t_hi; t++)
        fprintf(f, "| %d | %.1f | %.1f | %.1f |\n", t, pr.dram[t], pr.l3[t], pr.sgemm[t]);
    fprintf(f, "\nTriad bytes are counted as STREAM counts them (12 per element). OpenBLAS's sgemm on a channel "
               "map's shape (1024 x 8 x 8, one thread) reaches %.1f GFLOP/s: a DWS layer's maps are far too thin "
               "for a general GEMM, so `core/ws/chanmap.c` does them in registers.\n",
            pr.sgemm_thin);
    fprintf(f, "\n## The weight-space passes\n\nA pass streams weight-space tensors (`docs/design.md` section 9); the "
               "pooled summaries and the block being worked on stay in cache and are not counted. The memory bound "
               "divides the bytes the code moves by the DRAM triad bandwidth of the same thread count; the compute "
               "bound divides the counted floating-point work by the sgemm rate. The broadcast, activation and "
               "pooling add about 4 more float operations per entry and channel that are not counted as work.\n");
    report_workload(f, &fw[0], &pr, t_lo, t_hi, n_big);
    report_workload(f, &fw[1], &pr, t_lo, t_hi, ws_entries(3, shapes[1]));
    report_workload(f, &tr, &pr, t_lo, t_hi, n_big);
    fprintf(f, "\n### Batches\n\nThe adapter forward's time per classifier (3072-128-128-10, ms, minimum) when "
               "B classifiers of the same widths run as one batch:\n\n| threads |");
    for (int k = 0; k < 4; k++) fprintf(f, " B = %d |", batches[k]);
    fprintf(f, "\n|---|---|---|---|---|\n");
    for (int t = t_lo; t <= t_hi; t++) {
        fprintf(f, "| %d |", t);
        for (int k = 0; k < 4; k++) fprintf(f, " %.3f |", per_mlp[k][t] * 1e3);
        fprintf(f, "\n");
    }
    fprintf(f, "\nThe work and the traffic of a pass are per weight-space entry, and the parameters a batch would "
               "share are a few hundred kilobytes that stay in cache anyway: a batch saves only the fixed cost of a "
               "call (starting the pass's threads, the small maps, summing the parts' column sums).\n");
    fprintf(f, "\nThe same for batched serving (`dwsnetd --batch`): /adapt's work after the decode (fold, forward, "
               "unfold, encode; `dws_adapt_onnx_batch`) per classifier, ms, minimum, for B different classifiers "
               "of the same widths run one by one and as one batch, each with a kept workspace as a daemon worker "
               "has:\n\n| classifier | threads |");
    for (int k = 0; k < 4; k++) fprintf(f, " B = %d one by one | as a batch |", serve_b[k]);
    fprintf(f, "\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (int sh = 0; sh < 2; sh++)
        for (int t = t_lo; t <= t_hi; t++) {
            fprintf(f, "| %s | %d |", sh ? "3072-64-64-10" : "3072-128-128-10", t);
            for (int k = 0; k < 4; k++)
                fprintf(f, " %.3f | %.3f |", serve[sh][k][t].alone * 1e3, serve[sh][k][t].batched * 1e3);
            fprintf(f, "\n");
        }
    fprintf(f, "\nA workspace keeps at most %d MiB between calls: batches of up to %d (3072-128-128-10) and %d "
               "(3072-64-64-10) classifiers fit it (`dws_model_batch_cap`, the daemon's cap); larger ones allocate "
               "and fault in their activations on every call.\n",
            (int)(DWS_WORKSPACE_KEEP_BYTES >> 20), serve_cap[0], serve_cap[1]);
    double wb = (double)cr.weights_bytes;
    double dec_bytes = (double)cr.file_bytes + 2 * wb + wb, enc_bytes = 2 * wb + wb + 2.0 * cr.out_bytes;
    fprintf(f, "\n### ONNX decode and encode (3072-128-128-10, FLOAT raw_data initializers, one thread)\n\n");
    fprintf(f, "| step | bytes in | bytes out | bytes as the code moves them | least | ms min (median) | GB/s | "
               "memory bound ms | measured / bound |\n|---|---|---|---|---|---|---|---|---|\n");
    fprintf(f, "| decode | %zu | %zu (weights) | %.2f MB: protobuf-c copies the tensors out of the file, the reader "
               "copies them into the weights | %.2f MB | %.3f (%.3f) | %.1f | %.3f | %.1fx |\n",
            cr.file_bytes, cr.weights_bytes, dec_bytes * 1e-6, ((double)cr.file_bytes + wb) * 1e-6,
            cr.decode.min * 1e3, cr.decode.median * 1e3, dec_bytes / cr.decode.min * 1e-9,
            dec_bytes / (pr.dram[1] * 1e9) * 1e3, cr.decode.min / (dec_bytes / (pr.dram[1] * 1e9)));
    fprintf(f, "| encode | %zu (weights) | %zu | %.2f MB: new tensor data from the weights, then protobuf-c packs "
               "the model | %.2f MB | %.3f (%.3f) | %.1f | %.3f | %.1fx |\n",
            cr.weights_bytes, cr.out_bytes, enc_bytes * 1e-6, (wb + (double)cr.out_bytes) * 1e-6, cr.encode.min * 1e3,
            cr.encode.median * 1e3, enc_bytes / cr.encode.min * 1e-9, enc_bytes / (pr.dram[1] * 1e9) * 1e3,
            cr.encode.min / (enc_bytes / (pr.dram[1] * 1e9)));
    fprintf(f, "\nDecode and encode are copies (no arithmetic): their bound is memory. The whole /adapt path is in "
               "`bench/daemon-report.md`.\n");
    /* Scaling on a larger machine, from what was measured here. */
    double fwd_bytes = 0;
    for (int p = 0; p < fw[0].n_pass; p++) fwd_bytes += fw[0].pass[p].bytes_read + fw[0].pass[p].bytes_written;
    const double per_req = fw[0].total[t_lo].min + cr.decode.min + cr.encode.min, target = 1100;
    fprintf(f, "\n## Scaling past 8 threads (reasoned, not measured here)\n\n");
    fprintf(f, "A pass cuts each classifier's blocks into %d parts (the unit of work and of the partial sums "
               "that keep results identical for any thread count), so one 3072-128-128-10 forward keeps at most %d "
               "threads busy: past that a single request does not get faster. A batch of B classifiers has %d B parts. "
               "The daemon scales past it by running requests side by side, one worker per core. Per request the "
               "forward moves %.1f MB; %.0f requests per second (the issue's target for 16 cores) then need %.1f GB/s "
               "of memory traffic, well within what a server socket streams, and at this machine's one-thread time "
               "per request (forward %.2f ms, decode and encode %.2f ms) 16 cores would do about %.0f per second "
               "before the HTTP work. What would stop it first on a 16-core machine is that shared memory traffic "
               "if the 8-channel activation (%.1f MB per request) no longer fits the shared L3 next to 15 others; "
               "recomputing layer 0 inside layer 1 instead of storing it would cut the traffic to about a third, for "
               "(we estimate) a quarter more arithmetic, which on this 2-core machine would only cost time.\n",
            DWS_PASS_PARTS, DWS_PASS_PARTS, DWS_PASS_PARTS, fwd_bytes * 1e-6, target, target * fwd_bytes * 1e-9,
            fw[0].total[t_lo].min * 1e3,
            (cr.decode.min + cr.encode.min) * 1e3, 16.0 / per_req, fw[0].pass[1].bytes_written * 1e-6);
    fclose(f);
    printf("wrote %s\n", report);
    dws_model_free(model);
    return 0;
}
