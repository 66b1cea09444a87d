/* The baselines of `dwsnet baseline`: gradients of the rescale and flat-MLP adapters
 * against finite differences, the flat-MLP adapter starting as the identity, the
 * zero-padding round trip, the trainer learning a synthetic contrast shift, the
 * fine-tuning oracle on a synthetic shifted task, the adapter file and the results
 * JSON round trips. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/eval.h"
#include "mlp/mlp.h"
#include "train/train.h"
#include "base/base.h"
#include "ws/ws.h"

static void make_mlp(dws_mlp *m, int n_layers, const int64_t *widths, uint64_t seed)
{
    dws_error err = {0};
    ck_assert_int_eq(dws_mlp_init(m, n_layers, widths, &err), 0);
    dws_rng r;
    dws_rng_seed(&r, seed);
    dws_mlp_init_default(m, &r);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] *= 3.f;   /* sharper logits */
}

static void random_data(float *x, uint8_t *y, int n, int dim, int classes, uint64_t seed)
{
    dws_rng r;
    dws_rng_seed(&r, seed);
    for (int i = 0; i < n * dim; i++) x[i] = (float)dws_rng_uniform(&r);
    for (int i = 0; i < n; i++) y[i] = (uint8_t)dws_rng_below(&r, (uint64_t)classes);
}

/* Mean loss over the batch of the adapted classifiers; if grad, also a->grads. */
static double adapted_loss(dws_baseline *a, const dws_mlp *const *in, int batch, const float *x, const uint8_t *y,
                           int n, int grad)
{
    dws_error err = {0};
    dws_mlp out[4] = {0}, dout[4] = {0};
    dws_mlp *outp[4] = {0}, *doutp[4] = {0};
    double total = 0;
    for (int b = 0; b < batch; b++) {
        ck_assert_int_eq(dws_mlp_clone(&out[b], in[b], &err), 0);
        ck_assert_int_eq(dws_mlp_clone(&dout[b], in[b], &err), 0);
        outp[b] = &out[b];
        doutp[b] = &dout[b];
    }
    ck_assert_int_eq(a->forward(a, in, outp, batch, &err), 0);
    for (int b = 0; b < batch; b++) {
        float *ws = malloc(dws_mlp_grad_ws_floats(&out[b], n) * sizeof(float)), loss;
        ck_assert_int_eq(dws_mlp_xent_grad(&out[b], x, y, n, &dout[b], NULL, ws, &loss, NULL, &err), 0);
        free(ws);
        total += loss / batch;
        for (size_t j = 0; j < dout[b].n_params; j++) dout[b].params[j] /= (float)batch;
    }
    if (grad) {
        memset(a->grads, 0, a->n_params * sizeof(float));
        a->backward(a, in, (const dws_mlp *const *)doutp, batch);
    }
    for (int b = 0; b < batch; b++) {
        dws_mlp_free(&out[b]);
        dws_mlp_free(&dout[b]);
    }
    return total;
}

/* Central differences on every adapter parameter, two classifiers of different widths. */
static void check_gradient(dws_baseline *a, float h, double tol)
{
    const int64_t w1[4] = {6, 5, 4, 3}, w2[4] = {6, 3, 4, 3};
    dws_mlp m1, m2;
    make_mlp(&m1, 3, w1, 1);
    make_mlp(&m2, 3, w2, 2);
    const dws_mlp *in[2] = {&m1, &m2};
    enum { N = 5 };
    float x[N * 6];
    uint8_t y[N];
    random_data(x, y, N, 6, 3, 3);
    adapted_loss(a, in, 2, x, y, N, 1);
    float *analytic = malloc(a->n_params * sizeof(float));
    memcpy(analytic, a->grads, a->n_params * sizeof(float));
    for (size_t i = 0; i < a->n_params; i++) {
        float keep = a->params[i];
        a->params[i] = keep + h;
        double up = adapted_loss(a, in, 2, x, y, N, 0);
        a->params[i] = keep - h;
        double down = adapted_loss(a, in, 2, x, y, N, 0);
        a->params[i] = keep;
        double fd = (up - down) / (2 * h);
        ck_assert_msg(fabs(fd - analytic[i]) < tol + 2e-2 * fabs(fd), "%s param %zu: fd %g analytic %g", a->method, i,
                      fd, analytic[i]);
    }
    free(analytic);
    dws_mlp_free(&m1);
    dws_mlp_free(&m2);
}

START_TEST(rescale_gradient_matches_finite_differences)
{
    dws_error err = {0};
    dws_baseline *a = dws_rescale_create(&err);
    ck_assert_ptr_nonnull(a);
    a->params[0] = 1.3f;
    a->params[1] = 0.2f;
    check_gradient(a, 1e-3f, 2e-3);
    a->destroy(a);
}
END_TEST

START_TEST(flat_gradient_matches_finite_differences)
{
    dws_error err = {0};
    const int64_t max_w[4] = {6, 5, 4, 3};
    dws_baseline *a = dws_flat_create(3, max_w, 3, 2, 7, &err);
    ck_assert_ptr_nonnull(a);
    /* Leave the identity start so every layer carries gradient, and use uneven scales. */
    dws_rng r;
    dws_rng_seed(&r, 9);
    for (size_t i = 0; i < a->n_params; i++) a->params[i] = (float)(0.1 * dws_rng_normal(&r));
    const int64_t w1[4] = {6, 5, 4, 3}, w2[4] = {6, 3, 4, 3};
    dws_mlp m1, m2;
    make_mlp(&m1, 3, w1, 1);
    make_mlp(&m2, 3, w2, 2);
    const dws_mlp *both[2] = {&m1, &m2};
    dws_flat_fit_scales(a, both, 2);
    int ns;
    const float *sc = dws_flat_scales(a, &ns);
    ck_assert_int_eq(ns, 6);
    for (int t = 0; t < ns; t++) ck_assert(sc[t] > 0 && sc[t] != 1.0f);
    check_gradient(a, 1e-3f, 3e-3);
    dws_mlp_free(&m1);
    dws_mlp_free(&m2);
    a->destroy(a);
}
END_TEST

START_TEST(flat_starts_as_identity_and_refuses_what_does_not_fit)
{
    dws_error err = {0};
    const int64_t max_w[4] = {12, 8, 8, 3}, w[4] = {12, 5, 8, 3}, too_wide[4] = {12, 9, 8, 3};
    dws_baseline *a = dws_flat_create(3, max_w, 4, 1, 3, &err);
    ck_assert_ptr_nonnull(a);
    dws_mlp m, out, wide;
    make_mlp(&m, 3, w, 4);
    const dws_mlp *ms[1] = {&m};
    dws_flat_fit_scales(a, ms, 1);
    ck_assert_int_eq(dws_baseline_adapt_one(a, &m, &out, &err), 0);
    ck_assert_int_eq(dws_mlp_same_shape(&m, &out), 1);
    ck_assert_int_eq(memcmp(m.params, out.params, m.n_params * sizeof(float)), 0);
    dws_mlp_free(&out);
    make_mlp(&wide, 3, too_wide, 5);
    ck_assert_int_ne(dws_baseline_adapt_one(a, &wide, &out, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    dws_mlp_free(&wide);
    dws_mlp_free(&m);
    a->destroy(a);
}
END_TEST

START_TEST(padding_round_trip_keeps_weights_and_function)
{
    dws_error err = {0};
    const int64_t max_w[4] = {7, 9, 6, 4}, w[4] = {7, 4, 5, 4};
    dws_mlp m, padded, back;
    make_mlp(&m, 3, w, 11);
    ck_assert_int_eq(dws_pad_fits(&m, 3, max_w), 1);
    ck_assert_int_eq(dws_mlp_init(&padded, 3, max_w, &err), 0);
    dws_pad_mlp(&m, max_w, padded.params);
    /* Entries outside the corner (the mask's zeros) are zero; inside they are m's. */
    for (int l = 0; l < 3; l++)
        for (int64_t i = 0; i < max_w[l + 1]; i++) {
            for (int64_t k = 0; k < max_w[l]; k++) {
                float v = padded.W[l][i * max_w[l] + k];
                if (i < w[l + 1] && k < w[l]) ck_assert_float_eq(v, m.W[l][i * w[l] + k]);
                else ck_assert_float_eq(v, 0.0f);
            }
            ck_assert_float_eq(padded.b[l][i], i < w[l + 1] ? m.b[l][i] : 0.0f);
        }
    ck_assert_int_eq(dws_mlp_init(&back, 3, w, &err), 0);
    dws_unpad_mlp(padded.params, max_w, &back);
    ck_assert_int_eq(memcmp(m.params, back.params, m.n_params * sizeof(float)), 0);
    enum { N = 6 };
    float x[N * 7], y1[N * 4], y2[N * 4];
    uint8_t labels[N];
    random_data(x, labels, N, 7, 4, 12);
    float *s1 = malloc(dws_mlp_scratch_floats(&m, N) * sizeof(float));
    float *s2 = malloc(dws_mlp_scratch_floats(&padded, N) * sizeof(float));
    dws_mlp_forward(&m, x, N, y1, s1);
    dws_mlp_forward(&padded, x, N, y2, s2);
    for (int i = 0; i < N * 4; i++) ck_assert_float_eq_tol(y1[i], y2[i], 1e-5f);
    free(s1);
    free(s2);
    const int64_t other_depth[3] = {7, 4, 4};
    dws_mlp shallow;
    make_mlp(&shallow, 2, other_depth, 1);
    ck_assert_int_eq(dws_pad_fits(&shallow, 3, max_w), 0);
    dws_mlp_free(&shallow);
    dws_mlp_free(&m);
    dws_mlp_free(&padded);
    dws_mlp_free(&back);
}
END_TEST

/* A synthetic task: class k has mean mu_k (3 classes, 16 dims). Shift 1 lowers the
 * contrast around 0.5 and adds an offset (what a rescale of W_1 undoes); shift 2 mixes
 * every feature's mean with its neighbour's, so class k half looks like class k+1 to
 * a clean classifier (only labeled target data can fix that). */
enum { DIM = 16, CLASSES = 3 };

static void synthetic(float *x, uint8_t *y, int n, int shift, uint64_t seed)
{
    dws_rng r;
    dws_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int k = (int)dws_rng_below(&r, CLASSES);
        y[i] = (uint8_t)k;
        for (int j = 0; j < DIM; j++) {
            int source = shift == 2 ? (j + 1) % DIM : j;
            double mu = source % CLASSES == k ? 0.8 : 0.3;
            if (shift == 2) mu = 0.5 * mu + 0.5 * (j % CLASSES == k ? 0.8 : 0.3);
            double v = mu + 0.25 * dws_rng_normal(&r);
            x[i * DIM + j] = (float)(shift == 1 ? 0.5 + (v - 0.5) * 0.3 + 0.15 : v);
        }
    }
}

static void train_clean(dws_mlp *m, uint64_t seed, int epochs)
{
    enum { N = 600 };
    static float x[N * DIM];
    static uint8_t y[N];
    const int64_t w[4] = {DIM, 8 + (int64_t)(seed % 3) * 4, 8, CLASSES};
    dws_error err = {0};
    ck_assert_int_eq(dws_mlp_init(m, 3, w, &err), 0);
    dws_rng r;
    dws_rng_seed(&r, seed);
    dws_mlp_init_default(m, &r);
    synthetic(x, y, N, 0, seed + 100);
    dws_samples s = dws_samples_of_floats(x, y, N, DIM);
    dws_train_config cfg = {.optim = dws_optim_defaults(DWS_OPT_ADAM, 1e-2f), .epochs = epochs, .batch_size = 32,
                            .seed = seed};
    dws_train_progress res;
    ck_assert_int_eq(dws_mlp_train(m, &s, &cfg, &res, &err), 0);
}

START_TEST(oracle_improves_a_classifier_on_a_shifted_task)
{
    enum { N = 20000 };   /* 157 Adam steps of 128 at 5e-4: enough to re-learn the features */
    static float xs[N * DIM], xt[N * DIM];
    static uint8_t ys[N], yt[N];
    dws_mlp m;
    train_clean(&m, 1, 10);
    synthetic(xs, ys, N, 2, 7);      /* labeled target-domain training set */
    synthetic(xt, yt, N, 2, 8);      /* target-domain test set */
    dws_samples train = dws_samples_of_floats(xs, ys, N, DIM), test = dws_samples_of_floats(xt, yt, N, DIM);
    dws_error err = {0};
    double before, after;
    ck_assert_int_eq(dws_mlp_accuracy(&m, &test, &before, &err), 0);
    ck_assert_int_eq(dws_oracle_finetune(&m, &train, 3, &err), 0);
    ck_assert_int_eq(dws_mlp_accuracy(&m, &test, &after, &err), 0);
    ck_assert_msg(after > before + 0.15, "oracle: %.3f -> %.3f", before, after);
    dws_mlp_free(&m);
}
END_TEST

/* The rescale, trained on a few clean-trained classifiers with shifted images, must
 * raise the validation classifiers' accuracy and keep the best step. */
START_TEST(trainer_learns_the_rescale_of_a_contrast_shift)
{
    enum { K = 6, N = 1500 };
    static float xf[N * DIM], xv[N * DIM];
    static uint8_t yf[N], yv[N];
    dws_mlp zoo[K];
    const dws_mlp *ptr[K];
    for (int i = 0; i < K; i++) {
        train_clean(&zoo[i], 10 + (uint64_t)i, 6);
        ptr[i] = &zoo[i];
    }
    synthetic(xf, yf, N, 1, 20);
    synthetic(xv, yv, N, 1, 21);
    dws_samples fit = dws_samples_of_floats(xf, yf, N, DIM), val = dws_samples_of_floats(xv, yv, N, DIM);
    dws_error err = {0};
    dws_baseline *a = dws_rescale_create(&err);
    dws_baseline_train_config cfg = {.steps = 150, .classifiers_per_step = 2, .images_per_step = 64, .lr = 0.05f,
                                     .val_every = 25, .val_images = N, .seed = 4};
    dws_baseline_train_result res;
    ck_assert_int_eq(dws_baseline_train(a, ptr, 4, ptr + 4, 2, &fit, &val, &cfg, &res, &err), 0);
    ck_assert_msg(res.best_val_acc > res.identity_val_acc + 0.05, "val %.3f -> %.3f", res.identity_val_acc,
                  res.best_val_acc);
    ck_assert_msg(a->params[0] > 1.5f, "a = %g (the contrast was divided by 0.3)", a->params[0]);
    ck_assert_int_eq(res.classifier_batches, 300);
    ck_assert_int_eq(res.images_seen, 300 * 64);
    double kept;
    ck_assert_int_eq(dws_baseline_mean_accuracy(a, ptr + 4, 2, &val, &kept, &err), 0);
    ck_assert_double_eq_tol(kept, res.best_val_acc, 1e-12);
    a->destroy(a);
    for (int i = 0; i < K; i++) dws_mlp_free(&zoo[i]);
}
END_TEST

/* A saved flat-MLP adapter adapts like the original; truncated or foreign files are refused. */
START_TEST(adapter_file_round_trip)
{
    dws_error err = {0};
    const int64_t max_w[4] = {6, 5, 4, 3}, w[4] = {6, 3, 4, 3};
    dws_baseline *a = dws_flat_create(3, max_w, 3, 1, 7, &err);
    ck_assert_ptr_nonnull(a);
    dws_rng r;
    dws_rng_seed(&r, 2);
    for (size_t i = 0; i < a->n_params; i++) a->params[i] = (float)(0.1 * dws_rng_normal(&r));
    dws_mlp m, out1, out2;
    make_mlp(&m, 3, w, 5);
    const dws_mlp *ms[1] = {&m};
    dws_flat_fit_scales(a, ms, 1);
    char path[] = "/tmp/dws_adapter_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(dws_baseline_save(a, path, &err), 0);
    dws_baseline *b = dws_baseline_load(path, 1, &err);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b->method, "flat-mlp");
    ck_assert_int_eq(dws_baseline_adapt_one(a, &m, &out1, &err), 0);
    ck_assert_int_eq(dws_baseline_adapt_one(b, &m, &out2, &err), 0);
    ck_assert_int_eq(memcmp(out1.params, out2.params, m.n_params * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(out1.params, m.params, m.n_params * sizeof(float)), 0);
    b->destroy(b);
    ck_assert_int_eq(truncate(path, 100), 0);
    ck_assert_ptr_null(dws_baseline_load(path, 1, &err));
    ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);

    dws_baseline *rs = dws_rescale_create(&err);
    rs->params[0] = 2.5f;
    rs->params[1] = -0.25f;
    ck_assert_int_eq(dws_baseline_save(rs, path, &err), 0);
    dws_baseline *rs2 = dws_baseline_load(path, 1, &err);
    ck_assert_ptr_nonnull(rs2);
    ck_assert_float_eq(rs2->params[0], 2.5f);
    ck_assert_float_eq(rs2->params[1], -0.25f);
    unlink(path);
    rs->destroy(rs);
    rs2->destroy(rs2);
    a->destroy(a);
    dws_mlp_free(&m);
    dws_mlp_free(&out1);
    dws_mlp_free(&out2);
}
END_TEST

START_TEST(results_json_round_trip)
{
    dws_result_row rows[3] = {
        {.id = 123, .split = DWS_ZOO_TEST, .n_layers = 3, .widths = {3072, 64, 128, 10}, .target_before = 0.25,
         .target_after = 0.30, .clean_before = 0.41, .clean_after = 0.39},
        {.id = 7, .split = DWS_ZOO_TEST, .n_layers = 3, .widths = {3072, 32, 32, 10}, .target_before = 0.30,
         .target_after = 0.28, .clean_before = 0.45, .clean_after = 0.44},
        {.id = 9, .split = DWS_ZOO_TEST_UNSEEN_WIDTHS, .n_layers = 3, .widths = {3072, 48, 96, 10},
         .target_before = 0.2, .target_after = 0.3, .clean_before = 0.3, .clean_after = 0.3},
    };
    cJSON *settings = cJSON_CreateObject();
    cJSON_AddNumberToObject(settings, "steps", 5);
    cJSON *doc = dws_results_to_json("rescale", settings, rows, 3);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "per_classifier"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "id")->valuestring, "000123");
    const cJSON *test = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "test");
    ck_assert_int_eq(cJSON_GetObjectItem(test, "n")->valueint, 2);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(test, "gain_mean")->valuedouble, 0.015, 1e-12);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(test, "improved_fraction")->valuedouble, 0.5, 1e-12);
    char *text = cJSON_Print(doc);
    char path[] = "/tmp/dws_results_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    free(text);
    cJSON_Delete(doc);

    char method[32];
    dws_result_row *back;
    int n;
    dws_error err = {0};
    ck_assert_int_eq(dws_results_read(path, method, sizeof method, &back, &n, &err), 0);
    ck_assert_str_eq(method, "rescale");
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(back[i].id, rows[i].id);
        ck_assert_int_eq(back[i].split, rows[i].split);
        ck_assert_int_eq(back[i].n_layers, 3);
        for (int l = 0; l < 4; l++) ck_assert_int_eq(back[i].widths[l], rows[i].widths[l]);
        ck_assert_double_eq(back[i].target_before, rows[i].target_before);
        ck_assert_double_eq(back[i].target_after, rows[i].target_after);
        ck_assert_double_eq(back[i].clean_before, rows[i].clean_before);
        ck_assert_double_eq(back[i].clean_after, rows[i].clean_after);
    }
    free(back);

    /* A row without clean_after is refused with bad_data. */
    FILE *f = fopen(path, "w");
    fputs("{\"method\":\"none\",\"per_classifier\":[{\"id\":\"000001\",\"split\":\"test\",\"widths\":[4,2,3],"
          "\"target_before\":0.1,\"target_after\":0.1,\"clean_before\":0.2}]}",
          f);
    fclose(f);
    ck_assert_int_ne(dws_results_read(path, method, sizeof method, &back, &n, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
    unlink(path);
}
END_TEST

/* Rows of classifiers from outside the zoo keep their file name as id through a file. */
START_TEST(results_extra_rows_round_trip)
{
    dws_result_row rows[2] = {
        {.id = 5, .split = DWS_ZOO_TEST, .n_layers = 2, .widths = {4, 3, 2}, .target_before = 0.5},
        {.id = -1, .split = DWS_RESULT_EXTRA, .name = "torch_mlp", .n_layers = 2, .widths = {4, 3, 2},
         .target_after = 0.25},
    };
    char path[] = "/tmp/dws_results_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dws_error err = {0};
    ck_assert_int_eq(dws_results_write(path, "dwsnet", NULL, rows, 2, &err), 0);
    char method[32];
    dws_result_row *back;
    int n;
    ck_assert_int_eq(dws_results_read(path, method, sizeof method, &back, &n, &err), 0);
    unlink(path);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(method, "dwsnet");
    ck_assert_int_eq(back[1].split, DWS_RESULT_EXTRA);
    ck_assert_str_eq(back[1].name, "torch_mlp");
    ck_assert_double_eq(back[1].target_after, 0.25);
    ck_assert(dws_result_same_classifier(&back[0], &rows[0]) && dws_result_same_classifier(&back[1], &rows[1]));
    ck_assert(!dws_result_same_classifier(&back[0], &rows[1]));
    free(back);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("baseline");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rescale_gradient_matches_finite_differences);
    tcase_add_test(tc, flat_gradient_matches_finite_differences);
    tcase_add_test(tc, flat_starts_as_identity_and_refuses_what_does_not_fit);
    tcase_add_test(tc, padding_round_trip_keeps_weights_and_function);
    tcase_add_test(tc, oracle_improves_a_classifier_on_a_shifted_task);
    tcase_add_test(tc, trainer_learns_the_rescale_of_a_contrast_shift);
    tcase_add_test(tc, adapter_file_round_trip);
    tcase_add_test(tc, results_json_round_trip);
    tcase_add_test(tc, results_extra_rows_round_trip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
