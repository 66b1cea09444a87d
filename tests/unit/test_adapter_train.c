/* Adapter training: input normalisation from a zoo, and that a run stopped at a
 * checkpoint and resumed ends with exactly the parameters of an uninterrupted run;
 * checkpoints of another run are refused. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn/learn.h"
#include "train/train.h"

static void random_zoo(dws_zoo_set *z, int n, uint64_t seed)
{
    dws_error err;
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    z->n = n;
    z->m = calloc((size_t)n, sizeof *z->m);
    for (int i = 0; i < n; i++) {
        int64_t w[4] = {3072, i % 2 ? 16 : 8, 8, 10};
        z->m[i].id = i;
        ck_assert_int_eq(dws_mlp_init(&z->m[i].mlp, 3, w, &err), 0);
        dws_mlp_init_default(&z->m[i].mlp, &rng);
    }
}

START_TEST(normalisation_is_each_tensors_mean_and_std)
{
    dws_zoo_set z;
    random_zoo(&z, 3, 5);
    dws_arch a;
    dws_arch_default(&a, DWS_MODEL_ADAPTER);
    a.channels = 2;
    a.n_dws_layers = 1;
    dws_net net;
    dws_error err;
    ck_assert_int_eq(dws_net_init(&net, &a, 1, &err), 0);
    ck_assert_int_eq(dws_adapter_set_norm(&net, &z, &err), 0);
    /* b_2 (k = 5): 10 entries per classifier. */
    double s = 0, q = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 10; j++) s += z.m[i].mlp.b[2][j], q += (double)z.m[i].mlp.b[2][j] * z.m[i].mlp.b[2][j];
    double mean = s / 30, std = sqrt(q / 30 - mean * mean);
    ck_assert_double_eq_tol(net.norm_mean[5], mean, 1e-6);
    ck_assert_double_eq_tol(net.norm_std[5], std, 1e-6);
    /* W_1 of PyTorch's init: U(+-1/sqrt(3072)) has std 1/sqrt(3 * 3072). */
    ck_assert_double_eq_tol(net.norm_std[0], 1 / sqrt(3.0 * 3072), 2e-4);
    dws_net_free(&net);
    dws_zoo_set_free(&z);
}
END_TEST

typedef struct {
    int64_t stop_at;
    int validations;
} stopper;

static int stop_hook(void *ctx, const dws_train_progress *p, dws_error *err)
{
    stopper *s = ctx;
    ck_assert(p->validated && p->steps == 6);
    s->validations++;
    ck_assert(p->val_before > 0 && p->val_after > 0);
    if (p->step == s->stop_at) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "stopped by the test");
        return -1;
    }
    return 0;
}

static void fixture(dws_zoo_set *train, dws_zoo_set *val, dws_image_set *img, dws_adapter_train_config *c)
{
    random_zoo(train, 4, 11);
    random_zoo(val, 1, 12);
    memset(img, 0, sizeof *img);
    img->n = 300;
    img->channels = 3, img->height = 32, img->width = 32, img->dim = 3072, img->n_classes = 10;
    img->pixels = malloc(img->n * img->dim);
    img->labels = malloc(img->n);
    dws_rng rng;
    dws_rng_seed(&rng, 13);
    for (size_t i = 0; i < img->n * img->dim; i++) img->pixels[i] = (uint8_t)dws_rng_below(&rng, 256);
    for (size_t i = 0; i < img->n; i++) img->labels[i] = (uint8_t)dws_rng_below(&rng, 10);
    dws_adapter_train_defaults(c);
    c->steps = 6;
    c->warmup = 1;
    c->val_every = 3;
    c->val_images = 50;
    c->batch_images = 16;
    c->batch_nets = 2;
    c->lr = 0.05f;
    c->seed = 3;
}

/* The small adapter these tests train: 2 DWS layers of 2 channels, conditioned on the
 * domain (a 4-float embedding) when cond_dim is 4. */
static dws_arch small_arch(int cond_dim)
{
    dws_arch a;
    dws_arch_default(&a, DWS_MODEL_ADAPTER);
    a.channels = 2;
    a.n_dws_layers = 2;
    if (cond_dim) dws_arch_condition_on_domains(&a, cond_dim);
    return a;
}

static void fresh_net(dws_net *net, const dws_zoo_set *train)
{
    dws_arch a = small_arch(0);
    dws_error err;
    ck_assert_int_eq(dws_net_init(net, &a, 7, &err), 0);
    ck_assert_int_eq(dws_adapter_set_norm(net, train, &err), 0);
}

START_TEST(resumed_run_matches_an_uninterrupted_one)
{
    dws_zoo_set train, val;
    dws_image_set img;
    dws_adapter_train_config c;
    fixture(&train, &val, &img, &c);
    char ckpt[] = "/tmp/test_adapter_train_XXXXXX";
    int fd = mkstemp(ckpt);
    ck_assert(fd >= 0);
    close(fd);
    remove(ckpt);
    dws_error err;
    dws_train_progress fin;

    dws_net straight, resumed;
    fresh_net(&straight, &train);
    stopper s0 = {.stop_at = -1};
    dws_adapter_train_hooks h0 = {.progress = stop_hook, .ctx = &s0};
    ck_assert_int_eq(dws_adapter_train(&straight, &train, &val, &img, &c, &h0, &fin, &err), 0);
    ck_assert_int_eq(fin.step, 6);
    ck_assert_int_eq(s0.validations, 2);
    double alpha_norm = 0;
    for (int k = 0; k < 6; k++) alpha_norm += fabs(straight.params[straight.alpha + (size_t)k]);
    ck_assert(alpha_norm > 0);   /* it trained */

    fresh_net(&resumed, &train);
    stopper s1 = {.stop_at = 3};
    dws_adapter_train_hooks h1 = {.progress = stop_hook, .checkpoint = ckpt, .resume = 1, .ctx = &s1};
    ck_assert_int_eq(dws_adapter_train(&resumed, &train, &val, &img, &c, &h1, &fin, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    dws_net_free(&resumed);
    fresh_net(&resumed, &train);   /* a new process: parameters come from the checkpoint */
    s1.stop_at = -1;
    ck_assert_int_eq(dws_adapter_train(&resumed, &train, &val, &img, &c, &h1, &fin, &err), 0);
    ck_assert_int_eq(fin.step, 6);
    ck_assert_int_eq(memcmp(straight.params, resumed.params, sizeof(float) * straight.n_params), 0);

    /* A run of another length or learning rate does not take this checkpoint. */
    c.steps = 8;
    ck_assert_int_eq(dws_adapter_train(&resumed, &train, &val, &img, &c, &h1, &fin, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    c.steps = 6;
    c.lr = 0.04f;
    ck_assert_int_eq(dws_adapter_train(&resumed, &train, &val, &img, &c, &h1, &fin, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    remove(ckpt);
    dws_net_free(&straight);
    dws_net_free(&resumed);
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&img);
}
END_TEST

/* Ablations: the template kernel and the position embedding stay exactly zero,
 * every other tensor trains. */
START_TEST(frozen_tensors_stay_zero)
{
    dws_zoo_set train, val;
    dws_image_set img;
    dws_adapter_train_config c;
    fixture(&train, &val, &img, &c);
    c.no_template_conv = c.no_position_embedding = 1;
    dws_net net;
    fresh_net(&net, &train);
    float *before = malloc(sizeof(float) * net.n_params);
    memcpy(before, net.params, sizeof(float) * net.n_params);
    dws_error err;
    dws_train_progress fin;
    dws_adapter_train_hooks h = {0};
    ck_assert_int_eq(dws_adapter_train(&net, &train, &val, &img, &c, &h, &fin, &err), 0);
    int frozen = 0;
    for (int i = 0; i < net.table.n; i++) {
        const dws_param_tensor *t = &net.table.t[i];
        const char *kind = strrchr(t->name, '.') + 1;
        int is_frozen = !strcmp(kind, "K") || !strcmp(kind, "pos");
        int changed = 0, nonzero = 0;
        for (size_t j = 0; j < t->count; j++) {
            changed |= net.params[t->offset + j] != before[t->offset + j];
            nonzero |= net.params[t->offset + j] != 0.f;
        }
        frozen += is_frozen;
        if (is_frozen) ck_assert_msg(!nonzero, "%s is not zero", t->name);
        else ck_assert_msg(changed, "%s did not train", t->name);
    }
    ck_assert_int_eq(frozen, 4);   /* K and pos of both layers */
    free(before);
    dws_net_free(&net);
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&img);
}
END_TEST

/* An any-MLP adapter (depth range, activation condition) trains on a zoo of mixed
 * depths and activations: the tied tensors of every depth it met (M_one for one hidden
 * layer, M_int for three) and the rows of the activations it met leave zero, the row
 * of the activation it never met stays there. */
START_TEST(any_mlp_training_reaches_every_tied_tensor)
{
    dws_zoo_set train, val;
    dws_image_set img;
    dws_adapter_train_config c;
    fixture(&train, &val, &img, &c);
    dws_zoo_set_free(&train);
    const int depth[3] = {2, 3, 5};
    const dws_activation act[3] = {DWS_ACT_TANH, DWS_ACT_RELU, DWS_ACT_GELU};
    dws_error err;
    dws_rng rng;
    dws_rng_seed(&rng, 21);
    train.n = 3;
    train.m = calloc(3, sizeof *train.m);
    for (int i = 0; i < 3; i++) {
        int64_t w[8];
        for (int n = 0; n <= depth[i]; n++) w[n] = n == 0 ? 3072 : n == depth[i] ? 10 : 8;
        train.m[i].id = i;
        ck_assert_int_eq(dws_mlp_init(&train.m[i].mlp, depth[i], w, &err), 0);
        dws_mlp_init_default(&train.m[i].mlp, &rng);
        for (int l = 0; l + 1 < depth[i]; l++) train.m[i].mlp.act[l] = act[i];
    }
    dws_arch a = small_arch(4);
    a.depth_min = 2;
    a.depth_max = 5;
    a.cond_acts = 4;
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 7, &err), 0);
    ck_assert_int_eq(dws_adapter_set_norm(&net, &train, &err), 0);
    c.steps = 12;
    c.batch_nets = 1;
    ck_assert_msg(dws_adapter_train(&net, &train, &val, &img, &c, &(dws_adapter_train_hooks){0}, NULL, &err) == 0,
                  "%s", err.message);
    const char *moved[] = {"layer0.Mone", "layer1.Mone", "layer0.Mint", "layer1.Mint"};
    for (size_t i = 0; i < sizeof moved / sizeof *moved; i++) {
        const dws_param_tensor *t = dws_param_table_find(&net.table, moved[i]);
        double n = 0;
        for (size_t j = 0; j < t->count; j++) n += fabs(net.params[t->offset + j]);
        ck_assert_msg(n > 0, "%s did not train", moved[i]);
    }
    const float *rows = net.params + net.cond_act;   /* relu, leaky_relu, gelu, tanh */
    for (int r = 0; r < 4; r++) {
        double n = 0;
        for (int j = 0; j < 4; j++) n += fabs(rows[r * 4 + j]);
        ck_assert_msg(r == 1 ? n == 0 : n > 0, "activation row %d: %g", r, n);
    }
    dws_net_free(&net);
    /* Draw weights by depth: with one hidden layer weighted 1000 to 1, no step meets
     * three hidden layers, so M_int stays where it started (zero). */
    ck_assert_int_eq(dws_net_init(&net, &a, 7, &err), 0);
    ck_assert_int_eq(dws_adapter_set_norm(&net, &train, &err), 0);
    c.depth_weight[2] = 1000.f;
    ck_assert_msg(dws_adapter_train(&net, &train, &val, &img, &c, &(dws_adapter_train_hooks){0}, NULL, &err) == 0,
                  "%s", err.message);
    for (int l = 0; l < 2; l++) {
        char name[2][32];
        double sum[2] = {0, 0};
        snprintf(name[0], sizeof name[0], "layer%d.Mone", l);
        snprintf(name[1], sizeof name[1], "layer%d.Mint", l);
        for (int k = 0; k < 2; k++) {
            const dws_param_tensor *t = dws_param_table_find(&net.table, name[k]);
            for (size_t j = 0; j < t->count; j++) sum[k] += fabs(net.params[t->offset + j]);
        }
        ck_assert_msg(sum[0] > 0 && sum[1] == 0, "layer %d: M_one %g, M_int %g", l, sum[0], sum[1]);
    }
    dws_net_free(&net);
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&img);
}
END_TEST

/* Classifiers trained on standardized inputs (held as pixel-frame twins, whose b_1
 * is far from the zoo's) are read in their frame: the input normalisation sees
 * their frame's weights, and training moves the frame's condition row only when
 * they are drawn. */
START_TEST(standardized_classifiers_train_the_frame_row)
{
    dws_zoo_set train, val;
    dws_image_set img;
    dws_adapter_train_config c;
    fixture(&train, &val, &img, &c);
    dws_error err;
    for (int i = 0; i < train.n; i++) {   /* all four become pixel twins of standardized-frame nets */
        dws_mlp own = train.m[i].mlp;
        own.frame = DWS_FRAME_STANDARDIZED;
        ck_assert_int_eq(dws_mlp_to_pixel_frame(&own, DWS_FRAME_STANDARDIZED, &train.m[i].mlp, &err), 0);
        dws_mlp_free(&own);
        train.m[i].frame = DWS_FRAME_STANDARDIZED;
    }
    dws_arch a = small_arch(4);
    dws_net net;
    for (int frames = 0; frames <= 1; frames++) {
        a.cond_frames = frames;
        ck_assert_int_eq(dws_net_init(&net, &a, 7, &err), 0);
        ck_assert_int_eq(dws_adapter_set_norm(&net, &train, &err), 0);
        /* b_1 of PyTorch's init is U(+-1/sqrt(3072)); the twins' absorbs -W_1 mean / std. */
        if (frames) ck_assert_double_lt(net.norm_std[1], 0.05);
        else ck_assert_double_gt(net.norm_std[1], 0.2);
        ck_assert_msg(dws_adapter_train(&net, &train, &val, &img, &c, &(dws_adapter_train_hooks){0}, NULL, &err) == 0,
                      "%s", err.message);
        if (frames) {
            double n = 0;
            for (int j = 0; j < 4; j++) n += fabs(net.params[net.cond_frame + (size_t)j]);
            ck_assert_msg(n > 0, "the frame row did not train");
        }
        dws_net_free(&net);
    }
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&img);
}
END_TEST

/* How often a run validates changes which step it keeps, never the steps it takes:
 * a conditioned adapter validated after every step and one validated only at the end
 * finish with the same parameters (make pretrained validates rarely for that reason). */
START_TEST(validation_cadence_leaves_the_trajectory_alone)
{
    dws_zoo_set train, val;
    dws_image_set img;
    dws_adapter_train_config c;
    fixture(&train, &val, &img, &c);
    dws_error err;
    dws_arch a = small_arch(4);
    dws_net net[2];
    const int64_t every[2] = {1, 6};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(dws_net_init(&net[k], &a, 7, &err), 0);
        ck_assert_int_eq(dws_adapter_set_norm(&net[k], &train, &err), 0);
        c.val_every = every[k];
        ck_assert_msg(dws_adapter_train(&net[k], &train, &val, &img, &c, &(dws_adapter_train_hooks){0}, NULL, &err) == 0,
                      "%s", err.message);
    }
    double moved = 0;
    for (int j = 0; j < 6; j++) moved += fabs(net[0].params[net[0].alpha + (size_t)j]);
    ck_assert(moved > 0);
    ck_assert_int_eq(memcmp(net[0].params, net[1].params, sizeof(float) * net[0].n_params), 0);
    dws_net_free(&net[0]);
    dws_net_free(&net[1]);
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&img);
}
END_TEST

START_TEST(bad_configs_are_refused)
{
    dws_zoo_set train, val;
    dws_image_set img;
    dws_adapter_train_config c;
    fixture(&train, &val, &img, &c);
    dws_net net;
    fresh_net(&net, &train);
    dws_adapter_train_hooks h = {0};
    dws_error err;
    c.val_images = 300;   /* nothing left to train on */
    ck_assert_int_eq(dws_adapter_train(&net, &train, &val, &img, &c, &h, NULL, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    c.val_images = 50;
    c.batch_nets = 0;
    ck_assert_int_eq(dws_adapter_train(&net, &train, &val, &img, &c, &h, NULL, &err), -1);
    dws_net_free(&net);
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adapter_train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, normalisation_is_each_tensors_mean_and_std);
    tcase_add_test(tc, resumed_run_matches_an_uninterrupted_one);
    tcase_add_test(tc, frozen_tensors_stay_zero);
    tcase_add_test(tc, bad_configs_are_refused);
    tcase_add_test(tc, any_mlp_training_reaches_every_tied_tensor);
    tcase_add_test(tc, standardized_classifiers_train_the_frame_row);
    tcase_add_test(tc, validation_cadence_leaves_the_trajectory_alone);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
