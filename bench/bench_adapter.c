/* Adapter forward time and achieved GFLOP/s for CIFAR-10 classifiers
 * 3072-128-128-10 and 3072-64-64-10 (docs/benchmarks.md section 2 lists the peers).
 *   bench_adapter [--threads N] [--reps R] [--channels C] [--layers N] [--input-map K]
 * Defaults: the shipped adapter's size (3 DWS layers x 8 channels and a 3x3 input
 * map, models/cifar10c-adapter.md; dws_arch_default is the larger 4 x 16, no map), 1 and then 2
 * threads, 20 repetitions after one warm-up. Prints min and median (the machine
 * is shared) and the CPU time; then, for trainers, forward+backward per MLP in a
 * batch of 4. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws/ws.h"
#include "base/base.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}


static int bench_one(const dws_net *net, const int64_t *widths, int threads, int reps)
{
    dws_error err;
    dws_ws in, out;
    dws_rng rng;
    dws_rng_seed(&rng, 1);
    if (dws_ws_init(&in, 3, widths, 1, 1, &err) != 0 || dws_ws_init(&out, 3, widths, 1, 1, &err) != 0) {
        fprintf(stderr, "bench_adapter: %s\n", err.message);
        return -1;
    }
    for (size_t j = 0; j < in.n_floats; j++) in.data[j] = 0.02f * (float)dws_rng_normal(&rng);
    dws_net_state *st = dws_net_state_new(threads, 0);
    double *ms = malloc(sizeof(double) * (size_t)reps), *cpu = malloc(sizeof(double) * (size_t)reps);
    int rc = dws_adapter_forward(net, &in, &out, st, &err);   /* warm-up: allocations, page faults */
    for (int r = 0; rc == 0 && r < reps; r++) {
        double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        rc = dws_adapter_forward(net, &in, &out, st, &err);
        ms[r] = clock_ms(CLOCK_MONOTONIC) - t0;
        cpu[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    if (rc != 0) {
        fprintf(stderr, "bench_adapter: %s\n", err.message);
    } else {
        double med = median(ms, reps), gflop = dws_net_forward_flops(net, widths) * 1e-9;
        /* CPU time tells how much work a forward is when other jobs share the cores. */
        printf("adapter forward %lld-%lld-%lld-%lld  c=%d layers=%d threads=%d  median %7.2f ms  min %7.2f ms  "
               "cpu %7.2f ms  %.3f GFLOP  %5.1f GFLOP/s (median)\n",
               (long long)widths[0], (long long)widths[1], (long long)widths[2], (long long)widths[3],
               net->arch.channels, net->arch.n_dws_layers, threads, med, ms[0], median(cpu, reps), gflop,
               gflop / (med * 1e-3));
    }
    free(ms);
    free(cpu);
    dws_net_state_free(st);
    dws_ws_free(&in);
    dws_ws_free(&out);
    return rc;
}

/* One training step's network work: forward (activations kept) and backward
 * for a batch of MLPs of one shape. */
static int bench_train(const dws_net *net, const int64_t *widths, int batch, int threads, int reps)
{
    dws_error err;
    dws_ws in, out;
    dws_rng rng;
    dws_rng_seed(&rng, 2);
    if (dws_ws_init(&in, 3, widths, batch, 1, &err) != 0 || dws_ws_init(&out, 3, widths, batch, 1, &err) != 0) {
        fprintf(stderr, "bench_adapter: %s\n", err.message);
        return -1;
    }
    for (size_t j = 0; j < in.n_floats; j++) in.data[j] = 0.02f * (float)dws_rng_normal(&rng);
    float *grads = calloc(net->n_params, sizeof(float));
    dws_net_state *st = dws_net_state_new(threads, 1);
    double *ms = malloc(sizeof(double) * (size_t)reps);
    int rc = 0;
    for (int r = -1; rc == 0 && r < reps; r++) {   /* r = -1: warm-up */
        double t0 = clock_ms(CLOCK_MONOTONIC);
        rc = dws_adapter_forward(net, &in, &out, st, &err);
        if (rc == 0) rc = dws_adapter_backward(net, st, &out, grads, NULL, &err);
        if (r >= 0) ms[r] = clock_ms(CLOCK_MONOTONIC) - t0;
    }
    if (rc != 0) fprintf(stderr, "bench_adapter: %s\n", err.message);
    else
        printf("adapter forward+backward %lld-%lld-%lld-%lld  batch %d  threads=%d  median %7.2f ms per MLP\n",
               (long long)widths[0], (long long)widths[1], (long long)widths[2], (long long)widths[3], batch, threads,
               median(ms, reps) / batch);
    free(ms);
    free(grads);
    dws_net_state_free(st);
    dws_ws_free(&in);
    dws_ws_free(&out);
    return rc;
}

int main(int argc, char **argv)
{
    dws_arch a;
    dws_arch_default(&a, DWS_MODEL_ADAPTER);
    a.channels = 8;
    a.n_dws_layers = 3;
    a.input_map = 3;
    int threads = 0, reps = 20;   /* threads 0: 1 and 2 */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--channels")) a.channels = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--layers")) a.n_dws_layers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--input-map")) a.input_map = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_adapter [--threads N] [--reps R] [--channels C] [--layers N] [--input-map K]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    dws_error err;
    dws_net net;
    if (dws_net_init(&net, &a, 42, &err) != 0) {
        fprintf(stderr, "bench_adapter: %s\n", err.message);
        return 1;
    }
    /* A trained adapter has alpha != 0; the forward does the same work either way. */
    for (int k = 0; k < 2 * a.depth; k++) net.params[net.alpha + (size_t)k] = 0.1f;
    /* So has its input map (a zero tap is skipped). */
    for (int64_t j = 0; a.input_map && j < a.image.planes * a.image.planes * a.input_map * a.input_map; j++)
        net.params[net.inmap_mix + (size_t)j] = 0.01f;
    printf("adapter: %zu parameters\n", net.n_params);
    const int64_t big[] = {3072, 128, 128, 10}, small[] = {3072, 64, 64, 10};
    int rc = 0;
    for (int t = threads ? threads : 1; rc == 0 && t <= (threads ? threads : 2); t++)
        rc = bench_one(&net, big, t, reps) || bench_one(&net, small, t, reps);
    if (rc == 0) rc = bench_train(&net, big, 4, threads ? threads : 2, reps < 5 ? reps : 5);
    dws_net_free(&net);
    return rc ? 1 : 0;
}
