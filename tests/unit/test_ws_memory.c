/* dws_model_run_bytes against the truth: the peak of the heap while adapters and
 * encoders (image and plain inputs, probes, several thread counts, wide and narrow
 * hidden layers) actually run is at most the estimate, and the estimate is not
 * far above it (so requests are not refused for nothing). The heap is measured by
 * wrapping malloc in this binary; not under ASan, which wraps it first. */
#include <check.h>
#include <dlfcn.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_onnx.h"
#include "model/model.h"
#include "ws/ws.h"
#include "base/base.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#if !SANITIZED
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static atomic_llong heap_now, heap_peak;

static void account(long long delta)
{
    long long now = atomic_fetch_add(&heap_now, delta) + delta, peak = atomic_load(&heap_peak);
    while (now > peak && !atomic_compare_exchange_weak(&heap_peak, &peak, now)) {}
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if (p) account((long long)malloc_usable_size(p));
    return p;
}

void *calloc(size_t k, size_t n)
{
    void *p = __libc_calloc(k, n);
    if (p) account((long long)malloc_usable_size(p));
    return p;
}

void *realloc(void *q, size_t n)
{
    long long before = q ? (long long)malloc_usable_size(q) : 0;
    void *p = __libc_realloc(q, n);
    if (p) account((long long)malloc_usable_size(p) - before);   /* glibc may move: old and new coexist inside */
    else if (!n) account(-before);
    return p;
}

void free(void *p)
{
    if (p) account(-(long long)malloc_usable_size(p));
    __libc_free(p);
}
#endif

typedef struct {
    dws_model_kind kind;
    int image, probes, channels;
    int64_t widths[4];
    int threads;
    int cond_dim;   /* adapters: conditioned on every domain, run on fog:3 */
    int input_map;  /* adapters of images: the input map's kernel (ws/input_map.h) */
} run_case;

static const run_case cases[] = {
    {DWS_MODEL_ADAPTER, 1, 0, 8, {3072, 64, 64, 10}, 1, 0, 0},
    {DWS_MODEL_ADAPTER, 1, 0, 8, {3072, 200, 32, 10}, 4, 0, 0},
    {DWS_MODEL_ADAPTER, 0, 0, 16, {48, 3000, 16, 10}, 2, 0, 0},
    {DWS_MODEL_ADAPTER, 0, 0, 16, {1, 40000, 1, 1}, 8, 0, 0},
    {DWS_MODEL_ADAPTER, 1, 0, 8, {3072, 64, 64, 10}, 2, 16, 3},
    {DWS_MODEL_ADAPTER, 0, 0, 16, {48, 30, 16, 10}, 1, 8, 0},
    {DWS_MODEL_ENCODER, 1, 0, 8, {3072, 128, 64, 10}, 2, 0, 0},
    {DWS_MODEL_ENCODER, 0, 32, 16, {1, 40000, 1, 1}, 1, 0, 0},
    {DWS_MODEL_ENCODER, 0, 32, 16, {1, 32, 32, 1}, 8, 0, 0},
    {DWS_MODEL_ENCODER, 0, 0, 16, {48, 16, 5000, 10}, 4, 0, 0},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static dws_model *make_model(const run_case *c)
{
    dws_arch a;
    dws_arch_default(&a, c->kind);
    a.d0 = c->widths[0], a.dL = c->widths[3], a.channels = c->channels;
    if (!c->image) a.image.planes = 0;
    a.probes = c->probes;
    a.probe_scale = 1.f;
    if (c->cond_dim) dws_arch_condition_on_domains(&a, c->cond_dim);
    a.input_map = c->input_map;
    dws_net net;
    dws_error err = {0};
    ck_assert_msg(dws_net_init(&net, &a, 1, &err) == 0, "%s", err.message);
    dws_model_info info = {.id = "m", .min_width = 1, .max_width = 1};
    dws_model *m = dws_model_from_net(&net, &info, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    return m;
}

START_TEST(estimate_bounds_the_peak)
{
    if (SANITIZED) return;
    const run_case *c = &cases[_i];
    dws_model *m = make_model(c);
    dws_mlp in;
    dws_error err = {0};
    ck_assert_int_eq(dws_mlp_init(&in, 3, c->widths, &err), 0);
    ho_fill_weights(&in, 3);
    dws_adapt_domain fog = {0};
    ck_assert_int_eq(dws_adapt_domain_parse("fog:3", &fog, &err), 0);
    dws_run_opts opts = {.threads = c->threads, .domain = c->cond_dim ? &fog : NULL};
    size_t want = dws_model_run_bytes(m, 3, c->widths, &opts, &err);
    ck_assert_msg(want > 0, "%s", err.message);
#if !SANITIZED
    atomic_store(&heap_peak, atomic_load(&heap_now));
    long long base = atomic_load(&heap_now);
    int rc;
    if (c->kind == DWS_MODEL_ADAPTER) {
        dws_mlp out;
        rc = dws_adapter_apply(m, &in, &out, &opts, &err);
        dws_mlp_free(&out);
    } else {
        float *e = NULL;
        int dim;
        rc = dws_encoder_embed(m, &in, &e, &dim, &opts, &err);
        free(e);
    }
    ck_assert_msg(rc == 0, "%s", err.message);
    long long peak = atomic_load(&heap_peak) - base;
    printf("case %d: peak %lld bytes, estimate %zu (%.2fx)\n", _i, peak, want, (double)want / (double)peak);
    ck_assert_msg((long long)want >= peak, "case %d: the run took %lld bytes, the estimate says %zu", _i, peak, want);
    ck_assert_msg((double)want <= 1.6 * (double)peak + 2e6, "case %d: estimate %zu is far above the peak %lld", _i,
                  want, peak);
#endif
    dws_mlp_free(&in);
    dws_model_free(m);
}
END_TEST

/* The same for batches (dws_model_run_batch_bytes, the daemon's batched
 * serving): an adapter, a conditioned adapter (conditioned once per batch), an
 * image encoder and a probe encoder as batches of 3, 2, 2 and 5 copies. */
static const int batch_cases[][2] = {{0, 3}, {4, 2}, {6, 2}, {8, 5}};

START_TEST(batch_estimate_bounds_the_peak)
{
    if (SANITIZED) return;
    const run_case *c = &cases[batch_cases[_i][0]];
    const int B = batch_cases[_i][1];
    dws_model *m = make_model(c);
    dws_mlp in;
    dws_error err = {0};
    ck_assert_int_eq(dws_mlp_init(&in, 3, c->widths, &err), 0);
    ho_fill_weights(&in, 3);
    const dws_mlp *ptr[8];
    for (int b = 0; b < B; b++) ptr[b] = &in;
    (void)ptr;   /* unused when sanitized */
    dws_adapt_domain fog = {0};
    ck_assert_int_eq(dws_adapt_domain_parse("fog:3", &fog, &err), 0);
    dws_run_opts opts = {.threads = c->threads, .domain = c->cond_dim ? &fog : NULL};
    size_t want = dws_model_run_batch_bytes(m, 3, c->widths, B, &opts, &err);
    ck_assert_msg(want > 0, "%s", err.message);
    ck_assert_uint_gt(want, dws_model_run_bytes(m, 3, c->widths, &opts, &err));
#if !SANITIZED
    atomic_store(&heap_peak, atomic_load(&heap_now));
    long long base = atomic_load(&heap_now);
    dws_mlp out[8];
    float *e[8];
    int dim[8], rc[8];
    dws_error errs[8];
    int good = c->kind == DWS_MODEL_ADAPTER ? dws_adapter_apply_batch(m, ptr, B, out, rc, errs, &opts)
                                            : dws_encoder_embed_batch(m, ptr, B, e, dim, rc, errs, &opts);
    long long peak = atomic_load(&heap_peak) - base;
    ck_assert_int_eq(good, B);
    for (int b = 0; b < B; b++) {
        if (c->kind == DWS_MODEL_ADAPTER) dws_mlp_free(&out[b]);
        else free(e[b]);
    }
    printf("batch case %d (B = %d): peak %lld bytes, estimate %zu (%.2fx)\n", _i, B, peak, want,
           (double)want / (double)peak);
    ck_assert_msg((long long)want >= peak, "batch case %d: the run took %lld bytes, the estimate says %zu", _i, peak,
                  want);
    ck_assert_msg((double)want <= 1.6 * (double)peak + 2e6, "batch case %d: estimate %zu is far above the peak %lld",
                  _i, want, peak);
#endif
    dws_mlp_free(&in);
    dws_model_free(m);
}
END_TEST

/* Larger widths need more; other shapes than the model reads are refused. */
START_TEST(estimate_grows_and_refuses)
{
    run_case c = cases[2];
    dws_model *m = make_model(&c);
    dws_error err = {0};
    size_t last = 0;
    for (int64_t w = 16; w <= 65536; w *= 4) {
        int64_t widths[4] = {48, w, 16, 10};
        size_t b = dws_model_run_bytes(m, 3, widths, NULL, &err);
        ck_assert_uint_gt(b, last);
        last = b;
    }
    int64_t other[4] = {49, 16, 16, 10};
    ck_assert_uint_eq(dws_model_run_bytes(m, 3, other, NULL, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    int64_t huge[4] = {48, (int64_t)1 << 40, (int64_t)1 << 40, 10};
    ck_assert_uint_eq(dws_model_run_bytes(m, 3, huge, NULL, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_TOO_LARGE);
    dws_model_free(m);
}
END_TEST

static Suite *memory_suite(void)
{
    Suite *s = suite_create("ws_memory");
    TCase *t = tcase_create("memory");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, estimate_bounds_the_peak, 0, N_CASES);
    tcase_add_loop_test(t, batch_estimate_bounds_the_peak, 0, 4);
    tcase_add_test(t, estimate_grows_and_refuses);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(memory_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
