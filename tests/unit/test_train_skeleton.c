/* The training skeleton of core/train: one step of every optimiser kind against
 * values worked by hand, clipping, AdamW against a double-precision transcription
 * of PyTorch's over several steps, determinism; the learning-rate schedule (and
 * that it reproduces the adapter's and the embedder's schedules before they were
 * merged, bit for bit); the checkpoint format (exact round trip, refusals, old
 * versions named); the progress clock. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper_dws.h"
#include "train/train.h"

/* One update of p (n values) from g by an optimiser of config c; returns the
 * gradient norm it reports. */
static double one_step(dws_optim *o, const dws_optim_config *c, float *p, float *g, int n)
{
    dws_error err;
    ck_assert_int_eq(dws_optim_init(o, c, (size_t)n, &err), 0);
    double norm = -1;
    dws_optim_step(o, p, g, &norm);
    return norm;
}

START_TEST(sgd_steps_by_hand)
{
    /* momentum 0.9, wd 0.1, lr 0.5, p = 2, g = 1: d = g + wd p = 1.2; PyTorch starts the
     * buffer at d: buf = 1.2, p = 2 - 0.5 * 1.2 = 1.4. Then d = 1 + 0.14 = 1.14,
     * buf = 0.9 * 1.2 + 1.14 = 2.22, p = 1.4 - 1.11 = 0.29. */
    dws_optim o;
    dws_optim_config c = dws_optim_defaults(DWS_OPT_SGD, 0.5f);
    c.weight_decay = 0.1f;
    float p[1] = {2.f}, g[1] = {1.f};
    ck_assert_double_eq_tol(one_step(&o, &c, p, g, 1), 1.0, 1e-12);
    ck_assert_float_eq_tol(p[0], 1.4f, 1e-6f);
    ck_assert_ptr_null(o.v);
    dws_optim_step(&o, p, g, NULL);
    ck_assert_float_eq_tol(p[0], 0.29f, 1e-6f);
    ck_assert_int_eq(o.step, 2);
    dws_optim_free(&o);
    /* no momentum: p = 1 - 0.1 * 0.5 */
    c = dws_optim_defaults(DWS_OPT_SGD, 0.1f);
    c.momentum = 0;
    float q[1] = {1.f}, h[1] = {0.5f};
    one_step(&o, &c, q, h, 1);
    ck_assert_float_eq_tol(q[0], 0.95f, 1e-7f);
    dws_optim_free(&o);
}
END_TEST

START_TEST(adam_steps_by_hand)
{
    /* Adam, L2 in the gradient: lr 0.1, wd 0.2, p = 1, g = 0.5: g' = 0.7; the first
     * bias-corrected step is lr * g' / |g'| = 0.1, so p = 0.9. */
    dws_optim o;
    dws_optim_config c = dws_optim_defaults(DWS_OPT_ADAM, 0.1f);
    c.weight_decay = 0.2f;
    float p[1] = {1.f}, g[1] = {0.5f};
    one_step(&o, &c, p, g, 1);
    ck_assert_float_eq_tol(p[0], 0.9f, 1e-6f);
    dws_optim_free(&o);
    /* no decay, p = 0, g = 1 then -1: p1 = -0.1; m2 = 0.9 * 0.1 - 0.1 = -0.01, mhat =
     * -0.01 / 0.19; v2 = 0.999 * 0.001 + 0.001 = 0.001999 = 1 - 0.999^2, vhat = 1:
     * p2 = -0.1 + 0.1 / 19. */
    c = dws_optim_defaults(DWS_OPT_ADAM, 0.1f);
    float q[1] = {0.f}, h[1] = {1.f};
    one_step(&o, &c, q, h, 1);
    ck_assert_float_eq_tol(q[0], -0.1f, 1e-6f);
    h[0] = -1.f;
    dws_optim_step(&o, q, h, NULL);
    ck_assert_float_eq_tol(q[0], -0.1f + 0.1f / 19.f, 1e-6f);
    dws_optim_free(&o);
}
END_TEST

START_TEST(adamw_step_by_hand)
{
    /* AdamW, decoupled: lr 0.1, wd 0.01, p = +-1, g = 0.3: p (1 - lr wd) - lr sign(g). */
    dws_optim o;
    dws_optim_config c = dws_optim_defaults(DWS_OPT_ADAMW, 0.1f);
    ck_assert_float_eq(c.weight_decay, 0.01f);
    float p[2] = {1.f, -1.f}, g[2] = {0.3f, 0.3f};
    one_step(&o, &c, p, g, 2);
    ck_assert_float_eq_tol(p[0], 1.f * (1 - 0.001f) - 0.1f, 1e-6f);
    ck_assert_float_eq_tol(p[1], -1.f * (1 - 0.001f) - 0.1f, 1e-6f);
    dws_optim_free(&o);
}
END_TEST

START_TEST(clips_to_the_global_norm)
{
    /* plain SGD at lr 1, so the update is minus the clipped gradient */
    dws_optim o;
    dws_optim_config c = dws_optim_defaults(DWS_OPT_SGD, 1.f);
    c.momentum = 0;
    c.clip = 1.f;
    float p[4] = {0}, g[4] = {6, 0, 8, 0};   /* norm 10 */
    ck_assert_double_eq_tol(one_step(&o, &c, p, g, 4), 10.0, 1e-9);
    ck_assert_float_eq_tol(g[0], 0.6f, 1e-6f);
    ck_assert_float_eq_tol(g[2], 0.8f, 1e-6f);
    ck_assert_float_eq_tol(p[0], -0.6f, 1e-6f);
    ck_assert_float_eq_tol(p[2], -0.8f, 1e-6f);
    float small[4] = {0.3f, 0, 0.4f, 0};   /* norm 0.5: untouched */
    double norm;
    dws_optim_step(&o, p, small, &norm);
    ck_assert_double_eq_tol(norm, 0.5, 1e-7);
    ck_assert(small[0] == 0.3f && small[2] == 0.4f);
    dws_optim_free(&o);
}
END_TEST

/* PyTorch's AdamW (decoupled decay, bias-corrected moments), in double. */
static void reference_adamw(double *p, double *m, double *v, const double *g, int n, int step, double lr, double b1,
                            double b2, double eps, double wd)
{
    for (int i = 0; i < n; i++) {
        p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mh = m[i] / (1 - pow(b1, step)), vh = v[i] / (1 - pow(b2, step));
        p[i] -= lr * mh / (sqrt(vh) + eps);
    }
}

START_TEST(adamw_matches_pytorch)
{
    dws_error err;
    dws_optim_config cfg = {.kind = DWS_OPT_ADAMW, .lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f,
                            .weight_decay = 0.1f};
    dws_optim o;
    ck_assert_int_eq(dws_optim_init(&o, &cfg, 3, &err), 0);
    float p[3] = {1.f, -2.f, 0.5f};
    double rp[3] = {1, -2, 0.5}, rm[3] = {0}, rv[3] = {0};
    const double grads[3][3] = {{0.1, -0.2, 0.3}, {0.05, 0.4, -0.1}, {-0.3, 0.0, 0.2}};
    for (int s = 0; s < 3; s++) {
        float g[3];
        for (int i = 0; i < 3; i++) g[i] = (float)grads[s][i];
        dws_optim_step(&o, p, g, NULL);
        reference_adamw(rp, rm, rv, grads[s], 3, s + 1, 0.01, 0.9, 0.99, 1e-8, 0.1);
        for (int i = 0; i < 3; i++) ck_assert_double_eq_tol(p[i], rp[i], 1e-6);
    }
    dws_optim_free(&o);
}
END_TEST

static void descend(dws_optimizer kind, float lr, float *p, int n, int steps)
{
    dws_error err;
    dws_optim_config cfg = dws_optim_defaults(kind, lr);
    cfg.weight_decay = 0;
    cfg.clip = 1.f;
    dws_optim o;
    ck_assert_int_eq(dws_optim_init(&o, &cfg, (size_t)n, &err), 0);
    float g[16];
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++) g[i] = (float)(i + 1) * (p[i] - (float)i);   /* grad of sum (i+1)/2 (p_i - i)^2 */
        dws_optim_step(&o, p, g, NULL);
    }
    dws_optim_free(&o);
}

START_TEST(every_kind_minimises_a_quadratic_deterministically)
{
    const dws_optimizer kinds[3] = {DWS_OPT_SGD, DWS_OPT_ADAM, DWS_OPT_ADAMW};
    const float lrs[3] = {0.01f, 0.05f, 0.05f};
    for (int k = 0; k < 3; k++) {
        float a[16], b[16];
        for (int i = 0; i < 16; i++) a[i] = b[i] = 5.f - (float)i * 0.7f;
        descend(kinds[k], lrs[k], a, 16, 2000);
        descend(kinds[k], lrs[k], b, 16, 2000);
        ck_assert(memcmp(a, b, sizeof a) == 0);
        for (int i = 0; i < 16; i++)
            ck_assert_msg(fabsf(a[i] - (float)i) < 0.05f, "%s: p[%d] = %g", dws_optimizer_name(kinds[k]), i, a[i]);
    }
}
END_TEST

START_TEST(optimizer_names_round_trip)
{
    for (int k = DWS_OPT_SGD; k <= DWS_OPT_ADAMW; k++) {
        dws_optimizer back;
        ck_assert_int_eq(dws_optimizer_parse(dws_optimizer_name((dws_optimizer)k), &back), 0);
        ck_assert_int_eq(back, k);
    }
    dws_optimizer back;
    ck_assert_int_eq(dws_optimizer_parse("lbfgs", &back), -1);
}
END_TEST

START_TEST(schedule_by_hand)
{
    dws_lr_schedule c = {.kind = DWS_LR_CONSTANT, .lr = 0.25, .warmup = 10, .steps = 100};
    ck_assert(dws_lr_at(&c, 0) == 0.25 && dws_lr_at(&c, 99) == 0.25 && dws_lr_at(&c, 1000) == 0.25);
    dws_lr_schedule s = {.kind = DWS_LR_WARMUP_COSINE, .lr = 0.01, .warmup = 10, .steps = 110};
    ck_assert_double_eq_tol(dws_lr_at(&s, 0), 0.001, 1e-12);
    ck_assert_double_eq_tol(dws_lr_at(&s, 9), 0.01, 1e-12);
    ck_assert_double_eq_tol(dws_lr_at(&s, 10), 0.01, 1e-12);    /* the peak */
    ck_assert_double_eq_tol(dws_lr_at(&s, 60), 0.005, 1e-12);   /* half way through the cosine */
    for (int64_t t = 11; t < 110; t++) ck_assert(dws_lr_at(&s, t) < dws_lr_at(&s, t - 1));
    ck_assert_double_eq_tol(dws_lr_at(&s, 110), 0, 1e-15);
    ck_assert_double_eq_tol(dws_lr_at(&s, 500), 0, 1e-15);      /* stays at the floor */
    s.floor = 0.05;
    ck_assert_double_eq_tol(dws_lr_at(&s, 60), 0.01 * 0.525, 1e-12);
    ck_assert_double_eq_tol(dws_lr_at(&s, 110), 0.0005, 1e-12);
    s.warmup = 0;   /* no warm-up: the cosine starts at the peak */
    s.floor = 0.1;
    ck_assert_double_eq_tol(dws_lr_at(&s, 0), 0.01, 1e-12);
    ck_assert_double_eq_tol(dws_lr_at(&s, 55), 0.0055, 1e-12);
}
END_TEST

/* The adapter's (cosine to 0) and the embedder's (cosine to lr / 20) schedules as
 * they were written before they became this one: the same doubles, bit for bit. */
static double adapter_before(float lr, int64_t warmup, int64_t steps, int64_t s)
{
    if (s < warmup) return lr * (double)(s + 1) / (double)warmup;
    int64_t span = steps - warmup;
    double p = span > 0 ? (double)(s - warmup) / (double)span : 1.0;
    return lr * 0.5 * (1.0 + cos(M_PI * (p < 1 ? p : 1)));
}

static double embedder_before(float lr, int64_t warmup, int64_t steps, int64_t step)
{
    if (step < warmup) return lr * (double)(step + 1) / (double)warmup;
    double span = (double)(steps - warmup), p = span > 0 ? (double)(step - warmup) / span : 1;
    return lr * (0.05 + 0.475 * (1 + cos(M_PI * fmin(p, 1.0))));
}

START_TEST(schedule_reproduces_the_loops_before_it)
{
    const float lrs[3] = {1e-3f, 2e-3f, 3e-3f};
    const int64_t warmups[3] = {0, 5, 200}, steps[3] = {7, 4000, 10000};
    for (int i = 0; i < 3; i++) {
        dws_lr_schedule a = {.kind = DWS_LR_WARMUP_COSINE, .lr = lrs[i], .warmup = warmups[i], .steps = steps[i]};
        dws_lr_schedule e = a;
        e.floor = 0.05;
        for (int64_t s = 0; s <= steps[i] + 1; s++) {
            ck_assert(dws_lr_at(&a, s) == adapter_before(lrs[i], warmups[i], steps[i], s));
            if (warmups[i] > 0) ck_assert(dws_lr_at(&e, s) == embedder_before(lrs[i], warmups[i], steps[i], s));
        }
    }
}
END_TEST

static void tiny_net(dws_net *net, uint64_t seed)
{
    dws_arch a;
    dws_arch_default(&a, DWS_MODEL_ADAPTER);
    a.channels = 2;
    a.n_dws_layers = 1;
    a.d0 = 3;
    a.dL = 2;
    a.image = (dws_image_shape){0, 0, 0};
    dws_error err;
    ck_assert_int_eq(dws_net_init(net, &a, seed, &err), 0);
}

static char *temp_path(void)
{
    static char path[64];
    strcpy(path, "/tmp/test_train_ckptXXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return path;
}

/* Everything comes back exactly: parameters, normalisation, both moments, the
 * optimiser's step, the loop's step, best-so-far and generator (a spare normal
 * draw included). */
START_TEST(checkpoint_round_trip_is_exact)
{
    dws_error err;
    dws_net net, back;
    tiny_net(&net, 1);
    tiny_net(&back, 2);
    dws_rng rng;
    dws_rng_seed(&rng, 3);
    th_randomise_net(&net, &rng);
    dws_optim_config c = dws_optim_defaults(DWS_OPT_ADAM, 1e-3f);
    dws_optim o, ob;
    ck_assert_int_eq(dws_optim_init(&o, &c, net.n_params, &err), 0);
    ck_assert_int_eq(dws_optim_init(&ob, &c, back.n_params, &err), 0);
    th_fill_normal(o.m, o.n, 1.f, &rng);
    th_fill_normal(o.v, o.n, 1.f, &rng);
    o.step = 41;
    dws_train_state st = {.step = 40, .best_step = 30, .best_val = 1.0 / 3.0};
    dws_rng_seed(&st.rng, 0xfeedfacecafebeefULL);
    dws_rng_normal(&st.rng);   /* leaves a spare */
    ck_assert(st.rng.has_spare);
    const char *config = "{\"trainer\":\"test\",\"lr\":0.001}";
    char *path = temp_path();
    ck_assert_int_eq(dws_checkpoint_save(path, &net, &o, &st, config, &err), 0);
    dws_train_state got = {0};
    ck_assert_int_eq(dws_checkpoint_load(path, &back, &ob, &got, "{\"lr\":0.001,\"trainer\":\"test\"}", &err), 0);
    ck_assert_mem_eq(back.params, net.params, sizeof(float) * net.n_params);
    ck_assert_mem_eq(back.norm_mean, net.norm_mean, sizeof(float) * 2 * (size_t)net.arch.depth);
    ck_assert_mem_eq(back.norm_std, net.norm_std, sizeof(float) * 2 * (size_t)net.arch.depth);
    ck_assert_mem_eq(ob.m, o.m, sizeof(float) * o.n);
    ck_assert_mem_eq(ob.v, o.v, sizeof(float) * o.n);
    ck_assert_int_eq(ob.step, 41);
    ck_assert_int_eq(got.step, 40);
    ck_assert_int_eq(got.best_step, 30);
    ck_assert(got.best_val == 1.0 / 3.0);
    ck_assert_mem_eq(got.rng.s, st.rng.s, sizeof st.rng.s);
    ck_assert(got.rng.has_spare && got.rng.spare == st.rng.spare);
    ck_assert(dws_rng_u64(&got.rng) == dws_rng_u64(&st.rng));

    /* other settings, another optimiser, another architecture: refused */
    ck_assert_int_eq(dws_checkpoint_load(path, &back, &ob, &got, "{\"trainer\":\"test\",\"lr\":0.002}", &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    dws_optim sgd;
    dws_optim_config sc = dws_optim_defaults(DWS_OPT_SGD, 1e-3f);
    ck_assert_int_eq(dws_optim_init(&sgd, &sc, back.n_params, &err), 0);
    ck_assert_int_eq(dws_checkpoint_load(path, &back, &sgd, &got, config, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    dws_optim_free(&sgd);
    dws_net deep;
    dws_arch a = net.arch;
    a.n_dws_layers = 2;
    ck_assert_int_eq(dws_net_init(&deep, &a, 1, &err), 0);
    dws_optim ow;
    ck_assert_int_eq(dws_optim_init(&ow, &c, deep.n_params, &err), 0);
    ck_assert_int_eq(dws_checkpoint_load(path, &deep, &ow, &got, config, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    dws_optim_free(&ow);
    dws_net_free(&deep);
    unlink(path);
    dws_optim_free(&o);
    dws_optim_free(&ob);
    dws_net_free(&net);
    dws_net_free(&back);
}
END_TEST

/* The formats before version 2 (the adapter's raw DWSCKPT1 file, the embedder's
 * "dwsnet-checkpoint" container) are named as such, not as corrupt files. */
START_TEST(older_checkpoints_are_refused_by_version)
{
    dws_error err;
    dws_net net;
    tiny_net(&net, 1);
    dws_optim_config c = dws_optim_defaults(DWS_OPT_ADAMW, 1e-3f);
    dws_optim o;
    ck_assert_int_eq(dws_optim_init(&o, &c, net.n_params, &err), 0);
    dws_train_state st = {0};
    char *path = temp_path();
    FILE *f = fopen(path, "wb");
    char raw[128] = "DWSCKPT1";
    ck_assert_uint_eq(fwrite(raw, 1, sizeof raw, f), sizeof raw);
    fclose(f);
    ck_assert_int_eq(dws_checkpoint_load(path, &net, &o, &st, "{}", &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);
    ck_assert_ptr_nonnull(strstr(err.message, "format version 1"));

    float x[1] = {0};
    dws_named_tensor t = {.name = "params", .ndim = 1, .shape = {1}, .count = 1, .data = x};
    ck_assert_int_eq(dws_model_file_write(path, "{\"format\":\"dwsnet-checkpoint\",\"step\":3}", &t, 1, &err), 0);
    ck_assert_int_eq(dws_checkpoint_load(path, &net, &o, &st, "{}", &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);
    ck_assert_ptr_nonnull(strstr(err.message, "format version 1"));

    ck_assert_int_eq(dws_model_file_write(path, "{\"format\":\"dwsnet-training-checkpoint\",\"version\":3}", &t, 1,
                                          &err), 0);
    ck_assert_int_eq(dws_checkpoint_load(path, &net, &o, &st, "{}", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "format version 3"));

    ck_assert_int_eq(dws_model_file_write(path, "{\"id\":\"a model\"}", &t, 1, &err), 0);
    ck_assert_int_eq(dws_checkpoint_load(path, &net, &o, &st, "{}", &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);
    ck_assert_ptr_nonnull(strstr(err.message, "not a training checkpoint"));
    unlink(path);
    ck_assert_int_eq(dws_checkpoint_load(path, &net, &o, &st, "{}", &err), -1);   /* missing */
    dws_optim_free(&o);
    dws_net_free(&net);
}
END_TEST

START_TEST(progress_time_estimates_what_is_left)
{
    dws_train_progress p = {.step = 30, .steps = 50};
    double t0 = dws_train_seconds();
    dws_train_progress_time(&p, t0 - 10, 10);   /* 20 steps in 10 s: 20 to go take 10 s more */
    ck_assert(p.elapsed >= 10 && p.elapsed < 20);
    ck_assert_double_eq_tol(p.eta, p.elapsed, 1e-9);
    dws_train_progress q = {.step = 10, .steps = 50};
    dws_train_progress_time(&q, t0, 10);   /* nothing done yet: no estimate */
    ck_assert(q.eta == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train_skeleton");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sgd_steps_by_hand);
    tcase_add_test(tc, adam_steps_by_hand);
    tcase_add_test(tc, adamw_step_by_hand);
    tcase_add_test(tc, clips_to_the_global_norm);
    tcase_add_test(tc, adamw_matches_pytorch);
    tcase_add_test(tc, every_kind_minimises_a_quadratic_deterministically);
    tcase_add_test(tc, optimizer_names_round_trip);
    tcase_add_test(tc, schedule_by_hand);
    tcase_add_test(tc, schedule_reproduces_the_loops_before_it);
    tcase_add_test(tc, checkpoint_round_trip_is_exact);
    tcase_add_test(tc, older_checkpoints_are_refused_by_version);
    tcase_add_test(tc, progress_time_estimates_what_is_left);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
