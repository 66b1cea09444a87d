/* Contrastive training of the encoder end to end on a small zoo of random MLPs:
 * views, the grouped training loop (loss goes down, deterministic), checkpoints,
 * and the trained model's embeddings after a save/load: invariant to hidden
 * permutations, the same whether embedded alone or in width groups. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "learn/learn.h"
#include "helper_dws.h"
#include "ws/ws.h"
#include "train/train.h"

#define N_NETS 16

static void tiny_arch(dws_arch *a)
{
    dws_arch_default(a, DWS_MODEL_ENCODER);
    a->d0 = 4;
    a->image = (dws_image_shape){0, 0, 0};
    a->dL = 2;
    a->depth = 3;
    a->channels = 4;
    a->n_dws_layers = 2;
    a->embed_dim = 6;
    a->mlp_hidden = 16;
}

/* Networks of two width classes, each with its own scale per layer (something
 * for the views to share and the negatives to lack). */
static void make_zoo(dws_mlp *nets, const dws_mlp **ptr)
{
    dws_rng rng;
    dws_rng_seed(&rng, 77);
    dws_error err;
    for (int i = 0; i < N_NETS; i++) {
        int64_t w[4] = {4, i % 2 ? 5 : 3, i % 2 ? 3 : 6, 2};
        ck_assert_int_eq(dws_mlp_init(&nets[i], 3, w, &err), 0);
        th_fill_normal(nets[i].params, nets[i].n_params, 1.f, &rng);
        for (int l = 0; l < 3; l++) {
            float s = (float)(0.2 + 2 * dws_rng_uniform(&rng));
            for (int64_t j = 0; j < w[l + 1] * w[l]; j++) nets[i].W[l][j] *= s;
        }
        ptr[i] = &nets[i];
    }
}

static void free_zoo(dws_mlp *nets)
{
    for (int i = 0; i < N_NETS; i++) dws_mlp_free(&nets[i]);
}

START_TEST(views)
{
    dws_mlp nets[N_NETS], v;
    const dws_mlp *ptr[N_NETS];
    make_zoo(nets, ptr);
    dws_error err;
    dws_rng rng;
    dws_rng_seed(&rng, 1);
    ck_assert_int_eq(dws_mlp_clone(&v, &nets[0], &err), 0);
    /* permutation only: the same function, other weights */
    dws_view_config perm = {.noise = 0, .mask = 0, .permute = 1};
    ck_assert_int_eq(dws_view_make(&perm, &nets[0], &v, &rng, &err), 0);
    float x[4 * 3], a[3 * 2], b[3 * 2], *scr = malloc(sizeof(float) * dws_mlp_scratch_floats(&v, 3));
    th_fill_normal(x, 12, 1.f, &rng);
    dws_mlp_forward(&nets[0], x, 3, a, scr);
    dws_mlp_forward(&v, x, 3, b, scr);
    ck_assert_double_lt(th_rel_err(b, a, 6), 1e-5);
    ck_assert(memcmp(v.params, nets[0].params, sizeof(float) * v.n_params) != 0);
    /* positive rescaling of hidden neurons: the same ReLU function, other weights */
    dws_view_config scale = {.noise = 0, .mask = 0, .permute = 0, .rescale = 1.f};
    ck_assert_int_eq(dws_view_make(&scale, &nets[0], &v, &rng, &err), 0);
    dws_mlp_forward(&v, x, 3, b, scr);
    ck_assert_double_lt(th_rel_err(b, a, 6), 1e-5);
    ck_assert(th_rel_err(v.W[0], nets[0].W[0], (size_t)v.widths[1] * v.widths[0]) > 0.1);
    /* masking half of the entries */
    dws_view_config mask = {.noise = 0, .mask = 0.5f, .permute = 0};
    ck_assert_int_eq(dws_view_make(&mask, &nets[0], &v, &rng, &err), 0);
    size_t zeros = 0, kept = 0;
    for (size_t j = 0; j < v.n_params; j++) {
        zeros += v.params[j] == 0.f;
        kept += v.params[j] == nets[0].params[j];
    }
    ck_assert(zeros > v.n_params / 4 && zeros < 3 * v.n_params / 4);
    ck_assert_int_eq(zeros + kept, v.n_params);
    /* noise relative to each tensor's RMS */
    dws_view_config noise = {.noise = 0.1f, .mask = 0, .permute = 0};
    ck_assert_int_eq(dws_view_make(&noise, &nets[0], &v, &rng, &err), 0);
    double d = 0, s = 0;
    for (size_t j = 0; j < v.n_params; j++) {
        d += pow(v.params[j] - nets[0].params[j], 2);
        s += pow(nets[0].params[j], 2);
    }
    ck_assert(sqrt(d / s) > 0.05 && sqrt(d / s) < 0.2);
    dws_view_config bad = {.noise = -1, .mask = 0, .permute = 0};
    ck_assert_int_ne(dws_view_make(&bad, &nets[0], &v, &rng, &err), 0);
    ck_assert_int_ne(dws_view_make(&noise, &nets[1], &v, &rng, &err), 0);   /* other widths */
    ck_assert_str_eq(err.code, DWS_E_SHAPE_MISMATCH);
    free(scr);
    dws_mlp_free(&v);
    free_zoo(nets);
}
END_TEST

typedef struct {
    double first, last;
    int steps;
} loss_log;

static int record(void *ctx, const dws_train_progress *s, dws_error *err)
{
    (void)err;
    loss_log *l = ctx;
    ck_assert(isfinite(s->loss) && s->batch == 8 && s->steps == 60);
    if (s->step <= 10) l->first += s->loss / 10;
    if (s->step > 50) l->last += s->loss / 10;
    l->steps++;
    return 0;
}

/* The recipe of train-embedder: AdamW clipped at norm 1. */
static dws_optim_config adamw(void)
{
    dws_optim_config c = dws_optim_defaults(DWS_OPT_ADAMW, 1e-3f);
    c.clip = 1.f;
    return c;
}

static dws_embedder_config tiny_config(void)
{
    dws_embedder_config c = dws_embedder_defaults();
    c.steps = 60;
    c.groups = 2;
    c.group_size = 4;
    c.warmup = 5;
    c.lr = 3e-3f;
    c.threads = 1;
    return c;
}

static void train_tiny(dws_net *net, const dws_mlp **ptr, loss_log *log)
{
    dws_arch a;
    tiny_arch(&a);
    dws_error err;
    ck_assert_int_eq(dws_net_init(net, &a, 3, &err), 0);
    dws_embedder_fit_norm(net, ptr, N_NETS);
    dws_optim_config ac = adamw();
    dws_optim opt;
    ck_assert_int_eq(dws_optim_init(&opt, &ac, net->n_params, &err), 0);
    dws_embedder_config c = tiny_config();
    ck_assert_int_eq(dws_embedder_train(net, &opt, 0, ptr, N_NETS, &c, record, log, &err), 0);
    dws_optim_free(&opt);
}

START_TEST(training_lowers_the_loss_and_the_model_is_invariant)
{
    dws_mlp nets[N_NETS];
    const dws_mlp *ptr[N_NETS];
    make_zoo(nets, ptr);
    dws_net net;
    loss_log log = {0};
    train_tiny(&net, ptr, &log);
    ck_assert_int_eq(log.steps, 60);
    ck_assert_msg(log.last < 0.8 * log.first, "loss %g -> %g", log.first, log.last);
    /* deterministic: a second run gives the same parameters */
    dws_net again;
    loss_log log2 = {0};
    train_tiny(&again, ptr, &log2);
    ck_assert_int_eq(memcmp(net.params, again.params, sizeof(float) * net.n_params), 0);
    dws_net_free(&again);

    float grouped[N_NETS * 6];
    dws_error err;
    ck_assert_int_eq(dws_embedder_embed_all(&net, ptr, N_NETS, 3, 1, grouped, &err), 0);
    dws_model_info info = {.id = "tiny-embedder", .min_width = 3, .max_width = 6};
    dws_model *m = dws_model_from_net(&net, &info, &err);
    ck_assert_ptr_nonnull(m);
    char path[] = "/tmp/test_embedder_trainXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(dws_model_save(m, path, &err), 0);
    dws_model_free(m);
    m = dws_model_load(path, &err);
    ck_assert_ptr_nonnull(m);
    unlink(path);
    dws_rng rng;
    dws_rng_seed(&rng, 9);
    double spread = 0;
    for (int i = 0; i < N_NETS; i++) {
        dws_mlp p;
        dws_perm g;
        ck_assert_int_eq(dws_mlp_clone(&p, &nets[i], &err), 0);
        ck_assert_int_eq(dws_perm_random(&g, 3, nets[i].widths, &rng, &err), 0);
        dws_perm_apply_mlp(&g, &nets[i], &p);
        dws_perm_free(&g);
        float *e, *ep;
        int d;
        ck_assert_int_eq(dws_encoder_embed(m, &nets[i], &e, &d, NULL, &err), 0);
        ck_assert_int_eq(d, 6);
        ck_assert_int_eq(dws_encoder_embed(m, &p, &ep, &d, NULL, &err), 0);
        ck_assert_double_lt(th_rel_err(ep, e, 6), 1e-5);
        ck_assert_double_lt(th_rel_err(grouped + i * 6, e, 6), 1e-5);
        spread += th_rel_err(grouped + ((i + 2) % N_NETS) * 6, e, 6);   /* other networks differ */
        free(e);
        free(ep);
        dws_mlp_free(&p);
    }
    ck_assert_double_gt(spread / N_NETS, 1e-2);
    dws_model_free(m);
    free_zoo(nets);
}
END_TEST

static int stop_at_20(void *ctx, const dws_train_progress *s, dws_error *err)
{
    (void)ctx, (void)err;
    return s->step >= 20;
}

/* Stop at step 20, checkpoint, restore into a fresh net and optimiser, go on:
 * bit for bit the uninterrupted run. A checkpoint of other settings is refused. */
START_TEST(checkpoint_resume_is_exact)
{
    dws_mlp nets[N_NETS];
    const dws_mlp *ptr[N_NETS];
    make_zoo(nets, ptr);
    dws_net full;
    loss_log log = {0};
    train_tiny(&full, ptr, &log);

    dws_arch a;
    tiny_arch(&a);
    dws_error err;
    dws_embedder_config c = tiny_config();
    dws_optim_config ac = adamw();
    dws_net net;
    dws_optim opt;
    ck_assert_int_eq(dws_net_init(&net, &a, 3, &err), 0);
    dws_embedder_fit_norm(&net, ptr, N_NETS);
    ck_assert_int_eq(dws_optim_init(&opt, &ac, net.n_params, &err), 0);
    ck_assert_int_eq(dws_embedder_train(&net, &opt, 0, ptr, N_NETS, &c, stop_at_20, NULL, &err), 0);
    char path[] = "/tmp/test_embedder_ckptXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dws_train_state st = {.step = 20};
    ck_assert_int_eq(dws_checkpoint_save(path, &net, &opt, &st, "{\"steps\":60}", &err), 0);
    dws_net_free(&net);
    dws_optim_free(&opt);

    dws_net back;
    dws_optim bopt;
    dws_train_state got = {0};
    ck_assert_int_eq(dws_net_init(&back, &a, 99, &err), 0);
    ck_assert_int_eq(dws_optim_init(&bopt, &ac, back.n_params, &err), 0);
    ck_assert_int_ne(dws_checkpoint_load(path, &back, &bopt, &got, "{\"steps\":61}", &err), 0);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    ck_assert_int_eq(dws_checkpoint_load(path, &back, &bopt, &got, "{\"steps\":60}", &err), 0);
    ck_assert_int_eq(got.step, 20);
    ck_assert_int_eq(dws_embedder_train(&back, &bopt, got.step, ptr, N_NETS, &c, NULL, NULL, &err), 0);
    ck_assert_int_eq(memcmp(back.params, full.params, sizeof(float) * full.n_params), 0);
    unlink(path);
    ck_assert_int_ne(dws_checkpoint_load(path, &back, &bopt, &got, "{\"steps\":60}", &err), 0);
    dws_net_free(&back);
    dws_optim_free(&bopt);
    dws_net_free(&full);
    free_zoo(nets);
}
END_TEST

START_TEST(bad_settings_are_refused)
{
    dws_mlp nets[N_NETS];
    const dws_mlp *ptr[N_NETS];
    make_zoo(nets, ptr);
    dws_arch a;
    tiny_arch(&a);
    dws_error err;
    dws_net net;
    dws_optim opt;
    dws_optim_config ac = adamw();
    ck_assert_int_eq(dws_net_init(&net, &a, 3, &err), 0);
    ck_assert_int_eq(dws_optim_init(&opt, &ac, net.n_params, &err), 0);
    dws_embedder_config c = tiny_config();
    c.groups = 0;
    ck_assert_int_ne(dws_embedder_train(&net, &opt, 0, ptr, N_NETS, &c, NULL, NULL, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    c = tiny_config();
    ck_assert_int_ne(dws_embedder_train(&net, &opt, 0, ptr, 1, &c, NULL, NULL, &err), 0);
    dws_net_free(&net);
    dws_optim_free(&opt);
    free_zoo(nets);
}
END_TEST

/* Probes from a range: along every input coordinate each of the K strata of
 * [lo, hi] holds exactly one probe (uniform draws would leave gaps), and the
 * scale makes the probe features unit RMS on the networks. */
START_TEST(probes_from_a_range_cover_every_stratum)
{
    enum { K = 12 };
    dws_mlp nets[N_NETS];
    const dws_mlp *ptr[N_NETS];
    make_zoo(nets, ptr);
    dws_arch a;
    tiny_arch(&a);
    a.probes = K;
    a.probe_scale = 1.f;
    dws_error err;
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 5, &err), 0);
    const float lo = -2.f, hi = 4.f;
    dws_embedder_init_probes(&net, NULL, 0, lo, hi, 9, ptr, N_NETS);
    const float *x = net.params + net.probe_x;
    for (int j = 0; j < a.d0; j++) {
        int seen[K] = {0};
        for (int k = 0; k < K; k++) {
            float v = x[k * a.d0 + j];
            ck_assert(v >= lo && v <= hi);
            int stratum = (int)((v - lo) / (hi - lo) * K);
            seen[stratum < K ? stratum : K - 1]++;
        }
        for (int s = 0; s < K; s++) ck_assert_msg(seen[s] == 1, "input %d, stratum %d holds %d probes", j, s, seen[s]);
    }
    float out[K * 2], scratch[4096];
    double ss = 0;
    ck_assert_uint_le(dws_mlp_scratch_floats(ptr[0], K), 4096);
    for (int i = 0; i < N_NETS; i++) {
        dws_probe_outputs(ptr[i], x, K, net.arch.probe_scale, out, scratch);
        for (int j = 0; j < K * a.dL; j++) ss += (double)out[j] * out[j];
    }
    ck_assert_double_eq_tol(sqrt(ss / (N_NETS * K * a.dL)), 1.0, 1e-3);
    dws_net_free(&net);
    free_zoo(nets);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embedder_train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, views);
    tcase_add_test(tc, training_lowers_the_loss_and_the_model_is_invariant);
    tcase_add_test(tc, checkpoint_resume_is_exact);
    tcase_add_test(tc, bad_settings_are_refused);
    tcase_add_test(tc, probes_from_a_range_cover_every_stratum);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
