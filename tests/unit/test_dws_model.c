/* Models through .dws files: bit-exact save/load, the model card, rejection of
 * corrupt, truncated, tampered and incompatible files, input checks, the
 * apply/embed API and concurrent use of one model. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "ws/ws.h"
#include "helper_dws.h"
#include "helper_onnx.h"
#include "base/base.h"

static void small_arch(dws_arch *a, dws_model_kind kind)
{
    dws_arch_default(a, kind);
    a->d0 = 3 * 6 * 6;
    a->image = (dws_image_shape){3, 6, 6};
    a->dL = 4;
    a->channels = 8;
    a->n_dws_layers = 3;
    a->embed_dim = 5;
    a->mlp_hidden = 12;
}

/* A model with random (nonzero everywhere) parameters and statistics; an encoder
 * with `probes` probe features. */
static dws_model *make_model(dws_model_kind kind, int probes, uint64_t seed)
{
    dws_error err;
    dws_arch a;
    small_arch(&a, kind);
    a.probes = probes;
    a.probe_scale = 0.37f;
    a.head_skip = probes > 0;
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, seed, &err), 0);
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    th_randomise_net(&net, &rng);
    dws_model_info info = {.id = kind == DWS_MODEL_ADAPTER ? "test-adapter" : "test-encoder",
                           .target_domain = "cifar10c: contrast 4, gaussian_noise 2", .min_width = 32,
                           .max_width = 256};
    dws_model *m = dws_model_from_net(&net, &info, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_ptr_null(net.params);   /* taken over */
    return m;
}

static void temp_path(char *path, size_t n)
{
    snprintf(path, n, "%s/dws_model_test_XXXXXX", P_tmpdir);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static dws_mlp random_mlp(const int64_t *widths, dws_rng *rng)
{
    dws_mlp m;
    ck_assert_int_eq(dws_mlp_init(&m, 3, widths, NULL), 0);
    th_fill_normal(m.params, m.n_params, 0.1f, rng);
    return m;
}

START_TEST(save_load_is_bit_exact)
{
    dws_error err;
    dws_model *m = make_model(_i ? DWS_MODEL_ENCODER : DWS_MODEL_ADAPTER, _i == 2 ? 3 : 0, 21);
    ck_assert_int_eq(dws_model_set_card_entry(m, "metrics", "{\"accuracy\": 0.713}", &err), 0);
    ck_assert_int_eq(dws_model_set_card_entry(m, "training", "{\"data_hashes\": {\"zoo\": \"sha256:abc\"}}", &err), 0);
    char path[256];
    temp_path(path, sizeof path);
    ck_assert_int_eq(dws_model_save(m, path, &err), 0);
    dws_model *l = dws_model_load(path, &err);
    ck_assert_msg(l != NULL, "%s", err.message);
    const dws_net *a = dws_model_net(m), *b = dws_model_net(l);
    ck_assert_uint_eq(a->n_params, b->n_params);
    ck_assert(memcmp(a->params, b->params, sizeof(float) * a->n_params) == 0);
    ck_assert(memcmp(a->norm_mean, b->norm_mean, sizeof a->norm_mean) == 0);
    ck_assert(memcmp(a->norm_std, b->norm_std, sizeof a->norm_std) == 0);
    ck_assert_int_eq(b->arch.probes, _i == 2 ? 3 : 0);
    if (_i == 2) ck_assert(b->arch.probe_scale == a->arch.probe_scale);
    ck_assert_str_eq(dws_model_card_json(m), dws_model_card_json(l));
    ck_assert_str_eq(dws_model_id(l), _i ? "test-encoder" : "test-adapter");
    ck_assert_int_eq(dws_model_get_kind(l), _i ? DWS_MODEL_ENCODER : DWS_MODEL_ADAPTER);
    const dws_signature *s = dws_model_signature(l);
    ck_assert(s->d0 == 108 && s->dL == 4 && s->depth == 3 && s->activation == DWS_ACT_RELU);
    ck_assert(s->min_width == 32 && s->max_width == 256);
    /* The card says what the task needs. */
    cJSON *card = cJSON_Parse(dws_model_card_json(l));
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(card, "input_convention")));
    ck_assert_str_eq(cJSON_GetObjectItem(card, "target_domain")->valuestring, "cifar10c: contrast 4, gaussian_noise 2");
    ck_assert_str_eq(cJSON_GetObjectItem(card, "written_by")->valuestring, "dwsnet 0.1.0");
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(card, "metrics"), "accuracy")->valuedouble, 0.713);
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(card, "architecture"), "parameters")->valuedouble,
                        (double)a->n_params);
    cJSON_Delete(card);
    /* Same model, same outputs, bit for bit. */
    dws_rng rng;
    dws_rng_seed(&rng, 3);
    const int64_t widths[] = {108, 20, 30, 4};
    dws_mlp in = random_mlp(widths, &rng);
    dws_run_opts opts = {.threads = 2};
    if (_i) {
        float *e1, *e2;
        int d1, d2;
        ck_assert_int_eq(dws_encoder_embed(m, &in, &e1, &d1, &opts, &err), 0);
        ck_assert_int_eq(dws_encoder_embed(l, &in, &e2, &d2, &opts, &err), 0);
        ck_assert_int_eq(d1, 5);
        ck_assert_int_eq(d2, 5);
        ck_assert(memcmp(e1, e2, sizeof(float) * 5) == 0);
        free(e1), free(e2);
    } else {
        dws_mlp o1, o2;
        ck_assert_int_eq(dws_adapter_apply(m, &in, &o1, &opts, &err), 0);
        ck_assert_int_eq(dws_adapter_apply(l, &in, &o2, &opts, &err), 0);
        ck_assert(memcmp(o1.params, o2.params, sizeof(float) * in.n_params) == 0);
        ck_assert(th_rel_err(o1.params, in.params, in.n_params) > 1e-3);
        dws_mlp_free(&o1), dws_mlp_free(&o2);
    }
    dws_mlp_free(&in);
    unlink(path);
    dws_model_free(m);
    dws_model_free(l);
}
END_TEST

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(*n);
    ck_assert_uint_eq(fread(buf, 1, *n, f), *n);
    fclose(f);
    return buf;
}

static void write_all(const char *path, const char *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static void expect_rejected(const char *path, const char *code, const char *what)
{
    dws_error err;
    dws_error_clear(&err);
    dws_model *m = dws_model_load(path, &err);
    ck_assert_msg(m == NULL, "%s: loaded", what);
    ck_assert_msg(err.code && !strcmp(err.code, code), "%s: code %s (%s), wanted %s", what,
                  err.code ? err.code : "none", err.message, code);
    ck_assert(err.message[0] != '\0');
}

START_TEST(corrupt_and_truncated_files_are_rejected)
{
    dws_error err;
    dws_model *m = make_model(DWS_MODEL_ADAPTER, 0, 22);
    char path[256], bad[256];
    temp_path(path, sizeof path);
    temp_path(bad, sizeof bad);
    ck_assert_int_eq(dws_model_save(m, path, &err), 0);
    size_t n;
    char *buf = read_all(path, &n);
    dws_rng rng;
    dws_rng_seed(&rng, 4);
    for (int k = 0; k < 40; k++) {   /* one flipped byte anywhere (after the magic) */
        size_t at = 8 + (size_t)dws_rng_below(&rng, n - 8);
        char was = buf[at];
        buf[at] ^= (char)(1 + dws_rng_below(&rng, 255));
        write_all(bad, buf, n);
        expect_rejected(bad, DWS_E_BAD_MODEL_FILE, "flipped byte");
        buf[at] = was;
    }
    for (int k = 0; k < 60; k++) {   /* cut short anywhere */
        size_t len = k < 12 ? (size_t)k : (size_t)dws_rng_below(&rng, n);
        write_all(bad, buf, len);
        expect_rejected(bad, DWS_E_BAD_MODEL_FILE, "truncated");
    }
    free(buf);
    unlink(path), unlink(bad);
    dws_model_free(m);
}
END_TEST

/* A well-formed container whose content is wrong: rewrite the card or tensors
 * and write a valid file around them. */
typedef void (*tamper_fn)(cJSON *card, dws_model_file *f);

static void tamper_and_expect(tamper_fn fn, const char *code, const char *what)
{
    dws_error err;
    dws_model *m = make_model(DWS_MODEL_ENCODER, 0, 23);
    char path[256];
    temp_path(path, sizeof path);
    ck_assert_int_eq(dws_model_save(m, path, &err), 0);
    dws_model_file f;
    ck_assert_int_eq(dws_model_file_read(path, &f, &err), 0);
    cJSON *card = cJSON_Parse(f.card_json);
    fn(card, &f);
    char *text = cJSON_PrintUnformatted(card);
    ck_assert_int_eq(dws_model_file_write(path, text, f.tensors, f.n_tensors, &err), 0);
    expect_rejected(path, code, what);
    free(text);
    cJSON_Delete(card);
    dws_model_file_free(&f);
    unlink(path);
    dws_model_free(m);
}

static void set_number(cJSON *obj, const char *key, double v)
{
    cJSON_ReplaceItemInObject(obj, key, cJSON_CreateNumber(v));
}

static void more_channels(cJSON *card, dws_model_file *f)
{
    (void)f;
    set_number(cJSON_GetObjectItem(card, "architecture"), "channels", 9);
}
static void unknown_kind(cJSON *card, dws_model_file *f)
{
    (void)f;
    cJSON_ReplaceItemInObject(card, "kind", cJSON_CreateString("decoder"));
}
static void not_a_model(cJSON *card, dws_model_file *f)
{
    (void)f;
    cJSON_ReplaceItemInObject(card, "format", cJSON_CreateString("something-else"));
}
static void huge_layers(cJSON *card, dws_model_file *f)
{
    (void)f;
    set_number(cJSON_GetObjectItem(card, "architecture"), "dws_layers", 1e9);
}
static void fractional_depth(cJSON *card, dws_model_file *f)
{
    (void)f;
    set_number(cJSON_GetObjectItem(card, "signature"), "depth", 2.5);
}
static void unknown_activation(cJSON *card, dws_model_file *f)
{
    (void)f;
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(card, "signature"), "activation", cJSON_CreateString("swish"));
}
static void no_signature(cJSON *card, dws_model_file *f)
{
    (void)f;
    cJSON_DeleteItemFromObject(card, "signature");
}
static void nan_weight(cJSON *card, dws_model_file *f)
{
    (void)card;
    f->tensors[0].data[0] = NAN;
}
static void zero_std(cJSON *card, dws_model_file *f)
{
    (void)card;
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, "input_norm.std")) f->tensors[i].data[1] = 0.f;
}
static void renamed_tensor(cJSON *card, dws_model_file *f)
{
    (void)card;
    snprintf(f->tensors[2].name, sizeof f->tensors[2].name, "layer0.Extra");
}

START_TEST(tampered_content_is_rejected)
{
    tamper_and_expect(more_channels, DWS_E_BAD_MODEL_FILE, "tensor shapes disagree with the card");
    tamper_and_expect(unknown_kind, DWS_E_INCOMPATIBLE_MODEL, "unknown kind");
    tamper_and_expect(not_a_model, DWS_E_BAD_MODEL_FILE, "other format");
    tamper_and_expect(huge_layers, DWS_E_INCOMPATIBLE_MODEL, "too many layers");
    tamper_and_expect(fractional_depth, DWS_E_BAD_MODEL_FILE, "fractional depth");
    tamper_and_expect(unknown_activation, DWS_E_INCOMPATIBLE_MODEL, "unknown activation");
    tamper_and_expect(no_signature, DWS_E_BAD_MODEL_FILE, "no signature");
    tamper_and_expect(nan_weight, DWS_E_BAD_MODEL_FILE, "NaN weight");
    tamper_and_expect(zero_std, DWS_E_BAD_MODEL_FILE, "zero std");
    tamper_and_expect(renamed_tensor, DWS_E_BAD_MODEL_FILE, "unexpected tensor");
}
END_TEST

START_TEST(missing_tensor_is_rejected)
{
    dws_error err;
    dws_model *m = make_model(DWS_MODEL_ADAPTER, 0, 24);
    char path[256];
    temp_path(path, sizeof path);
    ck_assert_int_eq(dws_model_save(m, path, &err), 0);
    dws_model_file f;
    ck_assert_int_eq(dws_model_file_read(path, &f, &err), 0);
    ck_assert_int_eq(dws_model_file_write(path, f.card_json, f.tensors, f.n_tensors - 1, &err), 0);
    expect_rejected(path, DWS_E_BAD_MODEL_FILE, "missing tensor");
    expect_rejected("/nonexistent/dir/model.dws", DWS_E_IO, "missing file");
    dws_model_file_free(&f);
    unlink(path);
    dws_model_free(m);
}
END_TEST

START_TEST(card_entries_and_ids)
{
    dws_error err;
    dws_model *m = make_model(DWS_MODEL_ADAPTER, 0, 25);
    ck_assert_int_ne(dws_model_set_card_entry(m, "signature", "{}", &err), 0);
    ck_assert_int_ne(dws_model_set_card_entry(m, "metrics", "{not json", &err), 0);
    ck_assert_int_eq(dws_model_set_card_entry(m, "metrics", "[1, 2]", &err), 0);
    ck_assert(strstr(dws_model_card_json(m), "\"metrics\":[1,2]") != NULL);
    dws_model_free(m);
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 1, &err), 0);
    dws_model_info info = {.id = "bad id/with slash"};
    ck_assert_ptr_null(dws_model_from_net(&net, &info, &err));
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(net.params);   /* not taken on failure */
    dws_net_free(&net);
}
END_TEST

START_TEST(inputs_are_checked)
{
    dws_error err;
    dws_model *m = make_model(DWS_MODEL_ADAPTER, 0, 26);
    dws_rng rng;
    dws_rng_seed(&rng, 6);
    const int64_t ok[] = {108, 8, 8, 4}, bad_d0[] = {100, 8, 8, 4}, bad_classes[] = {108, 8, 8, 10};
    const int64_t two[] = {108, 8, 4};
    const char *expect[] = {"d0", "classes", "depth", "activation"};
    for (int k = 0; k < 4; k++) {
        dws_mlp in;
        if (k == 2) ck_assert_int_eq(dws_mlp_init(&in, 2, two, NULL), 0);
        else in = random_mlp(k == 0 ? bad_d0 : k == 1 ? bad_classes : ok, &rng);
        if (k == 3) in.act[1] = DWS_ACT_TANH;
        dws_mlp out;
        ck_assert_int_ne(dws_adapter_apply(m, &in, &out, NULL, &err), 0);
        ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
        ck_assert_msg(strstr(err.message, expect[k]) != NULL, "message '%s' does not name %s", err.message, expect[k]);
        dws_mlp_free(&in);
    }
    /* An adapter is not an encoder. */
    dws_mlp in = random_mlp(ok, &rng);
    float *e;
    int d;
    ck_assert_int_ne(dws_encoder_embed(m, &in, &e, &d, NULL, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    dws_mlp_free(&in);
    dws_model_free(m);
}
END_TEST

START_TEST(fresh_adapter_model_returns_its_input)
{
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 2, &err), 0);
    dws_model_info info = {.id = "fresh"};
    dws_model *m = dws_model_from_net(&net, &info, &err);
    dws_rng rng;
    dws_rng_seed(&rng, 7);
    const int64_t widths[] = {108, 64, 32, 4};
    dws_mlp in = random_mlp(widths, &rng), out;
    ck_assert_int_eq(dws_adapter_apply(m, &in, &out, NULL, &err), 0);
    ck_assert(dws_mlp_same_shape(&in, &out));
    ck_assert(memcmp(in.params, out.params, sizeof(float) * in.n_params) == 0);
    dws_mlp_free(&in), dws_mlp_free(&out);
    dws_model_free(m);
}
END_TEST

/* Many threads on one model at once get what one thread gets. */
typedef struct {
    const dws_model *m;
    const dws_mlp *in;
    dws_mlp out;
    int rc;
} apply_job;

static void *apply_thread(void *arg)
{
    apply_job *j = arg;
    dws_error err;
    dws_run_opts opts = {.threads = 2};
    j->rc = dws_adapter_apply(j->m, j->in, &j->out, &opts, &err);
    return NULL;
}

START_TEST(concurrent_calls_on_one_model)
{
    dws_model *m = make_model(DWS_MODEL_ADAPTER, 0, 27);
    dws_rng rng;
    dws_rng_seed(&rng, 8);
    const int64_t widths[] = {108, 48, 24, 4};
    dws_mlp in = random_mlp(widths, &rng);
    apply_job serial = {.m = m, .in = &in};
    apply_thread(&serial);
    ck_assert_int_eq(serial.rc, 0);
    apply_job jobs[4];
    pthread_t tid[4];
    for (int k = 0; k < 4; k++) {
        jobs[k] = (apply_job){.m = m, .in = &in};
        ck_assert_int_eq(pthread_create(&tid[k], NULL, apply_thread, &jobs[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(tid[k], NULL);
        ck_assert_int_eq(jobs[k].rc, 0);
        ck_assert(memcmp(jobs[k].out.params, serial.out.params, sizeof(float) * in.n_params) == 0);
        dws_mlp_free(&jobs[k].out);
    }
    dws_mlp_free(&serial.out);
    dws_mlp_free(&in);
    dws_model_free(m);
}
END_TEST

/* A conditioned adapter (every corruption type, severities 1-5, chains of 2),
 * random parameters, default domain fog:3. */
static dws_model *make_conditioned(uint64_t seed)
{
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    dws_arch_condition_on_domains(&a, 8);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, seed, &err), 0);
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    th_randomise_net(&net, &rng);
    dws_model_info info = {.id = "test-cond", .target_domain = "fog:3", .min_width = 8, .max_width = 64};
    dws_model *m = dws_model_from_net(&net, &info, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    return m;
}

/* Batches give each member exactly what it gets alone: the same bits, the same
 * error word for word, whatever else shares the batch (members of other widths,
 * a member whose adapted weights overflow, one the model does not read). _i: 0
 * adapter, 1 encoder, 2 encoder with probes; a conditioned adapter on 3 a named
 * chain, 4 its default, 5 `any`, 6 `none`. */
static const char *const batch_domains[] = {NULL, NULL, NULL, "gaussian_noise:2,fog:1", NULL, "any", "none"};

START_TEST(batch_members_get_what_they_get_alone)
{
    dws_model *m = _i >= 3 ? make_conditioned(33)
                           : make_model(_i ? DWS_MODEL_ENCODER : DWS_MODEL_ADAPTER, _i == 2 ? 3 : 0, 31);
    const int embed = _i == 1 || _i == 2;
    dws_adapt_domain domain = {0};
    dws_error derr;
    ck_assert_int_eq(dws_adapt_domain_parse(batch_domains[_i], &domain, &derr), 0);
    dws_rng rng;
    dws_rng_seed(&rng, 9);
    const int64_t wa[] = {108, 48, 24, 4}, wb[] = {108, 16, 40, 4}, wbad[] = {108, 16, 16, 5};
    const int64_t *shape[] = {wa, wb, wa, wbad, wa, wb, wa};
    enum { N = 7 };
    dws_mlp in[N];
    const dws_mlp *ptr[N];
    for (int i = 0; i < N; i++) {
        in[i] = random_mlp(shape[i], &rng);
        ptr[i] = &in[i];
    }
    /* Near the top of the float range: the probe encoder's features overflow
     * (not_representable); the others answer it, as they do alone. */
    ho_fill_weights(&in[4], 5);
    for (size_t j = 0; j < in[4].n_params; j++) in[4].params[j] = (float)(in[4].params[j] * 3.4e38);
    dws_run_opts opts = {.threads = 2, .workspace = dws_workspace_new(), .domain = &domain};
    for (int order = 0; order < 2; order++) {
        dws_mlp out[N];
        float *emb[N];
        int dim[N], rc[N];
        dws_error errs[N];
        int good = embed ? dws_encoder_embed_batch(m, ptr, N, emb, dim, rc, errs, &opts)
                      : dws_adapter_apply_batch(m, ptr, N, out, rc, errs, &opts);
        int want_good = 0;
        for (int i = 0; i < N; i++) {
            dws_error err;
            dws_error_clear(&err);
            dws_mlp alone;
            float *e = NULL;
            int d = 0;
            dws_run_opts one = {.threads = 1, .domain = &domain};
            int r = embed ? dws_encoder_embed(m, ptr[i], &e, &d, &one, &err)
                          : dws_adapter_apply(m, ptr[i], &alone, &one, &err);
            want_good += r == 0;
            ck_assert_int_eq(rc[i], r);
            if (r != 0) {
                ck_assert_str_eq(errs[i].code, err.code);
                ck_assert_str_eq(errs[i].message, err.message);
                continue;
            }
            if (embed) {
                ck_assert_int_eq(dim[i], d);
                ck_assert(memcmp(emb[i], e, sizeof(float) * (size_t)d) == 0);
                free(e), free(emb[i]);
            } else {
                ck_assert(dws_mlp_same_shape(&out[i], &alone));
                ck_assert(memcmp(out[i].params, alone.params, sizeof(float) * alone.n_params) == 0);
                dws_mlp_free(&alone), dws_mlp_free(&out[i]);
            }
        }
        ck_assert_int_eq(good, want_good);
        for (int i = 0; i < N; i++) {
            if (ptr[i] == &in[3]) ck_assert_str_eq(errs[i].code, DWS_E_INCOMPATIBLE_MODEL);   /* 5 classes */
            if (ptr[i] == &in[4] && _i == 2) ck_assert_str_eq(errs[i].code, DWS_E_NOT_REPRESENTABLE);
            if (ptr[i] != &in[4]) ck_assert_int_eq(rc[i], ptr[i] == &in[3] ? -1 : 0);
        }
        /* Again in another order, on the workspace the first batch left. */
        for (int i = 0; i < N / 2; i++) {
            const dws_mlp *t = ptr[i];
            ptr[i] = ptr[N - 1 - i], ptr[N - 1 - i] = t;
        }
    }
    /* The other kind's call: every member gets the refusal it gets alone. */
    dws_mlp out[N];
    float *emb[N];
    int dim[N], rc[N];
    dws_error errs[N];
    ck_assert_int_eq(embed ? dws_adapter_apply_batch(m, ptr, N, out, rc, errs, &opts)
                        : dws_encoder_embed_batch(m, ptr, N, emb, dim, rc, errs, &opts),
                     0);
    for (int i = 0; i < N; i++) {
        dws_error err;
        dws_mlp alone;
        float *e;
        int d;
        ck_assert_int_ne(embed ? dws_adapter_apply(m, ptr[i], &alone, NULL, &err)
                            : dws_encoder_embed(m, ptr[i], &e, &d, NULL, &err),
                         0);
        ck_assert_int_eq(rc[i], -1);
        ck_assert_str_eq(errs[i].message, err.message);
    }
    dws_workspace_free(opts.workspace);
    for (int i = 0; i < N; i++) dws_mlp_free(&in[i]);
    dws_model_free(m);
}
END_TEST

typedef struct {
    const dws_onnx_job *base;
    int calls[8];
} done_log;

static void on_done(dws_onnx_job *j, void *ctx)
{
    done_log *log = ctx;
    log->calls[j - log->base]++;
}

/* The ONNX path: dws_adapt_onnx_batch / dws_embed_onnx_batch give each job the
 * bytes (and errors) dws_adapt_onnx / dws_embed_onnx give it alone, its own
 * outside normalisation included, and call done once per job. _i: 0 adapt, 1
 * embed. */
START_TEST(onnx_batch_is_byte_identical)
{
    dws_model *m = make_model(_i ? DWS_MODEL_ENCODER : DWS_MODEL_ADAPTER, 0, 41);
    const int64_t wa[] = {108, 24, 12, 4}, wb[] = {108, 8, 8, 4}, wbad[] = {108, 8, 8, 5};
    const int64_t *shape[] = {wa, wa, wb, wbad, wa};
    enum { N = 5 };
    dws_onnx *o[N];
    dws_error err;
    for (int i = 0; i < N; i++) {
        dws_mlp w;
        ck_assert_int_eq(dws_mlp_init(&w, 3, shape[i], &err), 0);
        ho_fill_weights(&w, 11u + (unsigned)i);
        for (size_t j = 0; j < w.n_params; j++) w.params[j] *= 0.05f;   /* within the weights it was trained on */
        uint8_t *buf;
        size_t len;
        ck_assert_int_eq(dws_onnx_build(&w, "test", NULL, 0, &buf, &len, &err), 0);
        o[i] = dws_onnx_decode(buf, len, NULL, &err);
        ck_assert_msg(o[i] != NULL, "%s", err.message);
        free(buf);
        dws_mlp_free(&w);
    }
    dws_input_norm norm;
    ck_assert_int_eq(dws_input_norm_parse(&norm, "0.5,0.4,0.3", "0.2,0.25,0.3", NULL, &err), 0);
    dws_onnx_job jobs[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) jobs[i].onnx = o[i];
    jobs[1].input_norm = &norm;
    dws_run_opts opts = {.threads = 2, .workspace = dws_workspace_new()};
    done_log log = {.base = jobs};
    int good = _i ? dws_embed_onnx_batch(m, jobs, N, &opts, on_done, &log)
                  : dws_adapt_onnx_batch(m, jobs, N, &opts, on_done, &log);
    for (int i = 0; i < N; i++) ck_assert_int_eq(log.calls[i], 1);
    ck_assert_int_ge(good, 2);   /* jobs 0 and 4 at least: a real batch ran */
    int want_good = 0;
    for (int i = 0; i < N; i++) {
        dws_run_opts one = {.threads = 1, .input_norm = jobs[i].input_norm};
        dws_error_clear(&err);
        if (_i) {
            float *e = NULL;
            int d = 0;
            int r = dws_embed_onnx(m, o[i], &one, &e, &d, &err);
            want_good += r == 0;
            ck_assert_int_eq(jobs[i].rc, r);
            if (r == 0) {
                ck_assert_int_eq(jobs[i].dim, d);
                ck_assert(memcmp(jobs[i].embedding, e, sizeof(float) * (size_t)d) == 0);
            } else {
                ck_assert_str_eq(jobs[i].err.message, err.message);
            }
            free(e);
            free(jobs[i].embedding);
        } else {
            uint8_t *bytes = NULL;
            size_t len = 0;
            int r = dws_adapt_onnx(m, o[i], &one, NULL, &bytes, &len, &err);
            want_good += r == 0;
            ck_assert_int_eq(jobs[i].rc, r);
            if (r == 0) {
                ck_assert_uint_eq(jobs[i].len, len);
                ck_assert(memcmp(jobs[i].bytes, bytes, len) == 0);
            } else {
                ck_assert_str_eq(jobs[i].err.message, err.message);
            }
            free(bytes);
            free(jobs[i].bytes);
            dws_mlp_free(&jobs[i].adapted);
        }
    }
    ck_assert_int_eq(good, want_good);
    ck_assert_int_eq(jobs[3].rc, -1);
    ck_assert_str_eq(jobs[3].err.code, DWS_E_INCOMPATIBLE_MODEL);
    dws_workspace_free(opts.workspace);
    for (int i = 0; i < N; i++) dws_onnx_free(o[i]);
    dws_model_free(m);
}
END_TEST

/* A model of arch a with random parameters (seed), saved and read back: *made is the
 * model made in memory, the result the one read from the file; rng goes on with the
 * seed's stream. */
static dws_model *random_model_round_trip(const dws_arch *a, int seed, const char *id, dws_rng *rng,
                                          dws_model **made)
{
    dws_error err;
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, a, seed, &err), 0);
    dws_rng_seed(rng, (uint64_t)seed);
    th_randomise_net(&net, rng);
    dws_model_info info = {.id = id, .target_domain = "fog:3", .min_width = 8, .max_width = 64};
    *made = dws_model_from_net(&net, &info, &err);
    ck_assert_msg(*made != NULL, "%s", err.message);
    char path[256];
    temp_path(path, sizeof path);
    ck_assert_int_eq(dws_model_save(*made, path, &err), 0);
    dws_model *back = dws_model_load(path, &err);
    ck_assert_msg(back != NULL, "%s", err.message);
    unlink(path);
    return back;
}

/* A depth-range adapter conditioned on the activation (ws.h, dws depth): the card
 * names its depths and activations, the file round-trips every depth's network bit
 * for bit, every depth and activation is adapted, others are refused saying why. */
START_TEST(any_mlp_adapter_reads_every_depth_and_activation)
{
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    dws_arch_condition_on_domains(&a, 8);
    a.depth_min = 2;
    a.depth_max = 5;
    a.cond_acts = 4;
    dws_rng rng;
    dws_model *m, *back = random_model_round_trip(&a, 5, "test-any", &rng, &m);
    const dws_signature *sig = dws_model_signature(back);
    ck_assert_int_eq(sig->depth_min, 2);
    ck_assert_int_eq(sig->depth_max, 5);
    ck_assert_int_eq(sig->n_activations, 4);
    ck_assert_int_eq(sig->activations[3], DWS_ACT_TANH);
    const dws_activation acts[] = {DWS_ACT_TANH, DWS_ACT_GELU, DWS_ACT_LEAKY_RELU, DWS_ACT_RELU};
    for (int L = 2; L <= 5; L++) {
        int64_t w[8];
        for (int n = 0; n <= L; n++) w[n] = n == 0 ? a.d0 : n == L ? a.dL : 6 + n;
        dws_mlp in, out1, out2;
        ck_assert_int_eq(dws_mlp_init(&in, L, w, &err), 0);
        th_fill_normal(in.params, in.n_params, 0.1f, &rng);
        for (int l = 0; l + 1 < L; l++) in.act[l] = acts[L - 2], in.leaky_alpha[l] = DWS_COND_LEAKY_SLOPE;
        ck_assert_msg(dws_adapter_apply(m, &in, &out1, NULL, &err) == 0, "depth %d: %s", L, err.message);
        ck_assert_int_eq(dws_adapter_apply(back, &in, &out2, NULL, &err), 0);
        ck_assert(!memcmp(out1.params, out2.params, sizeof(float) * in.n_params));
        ck_assert(th_rel_err(out1.params, in.params, in.n_params) > 1e-3);
        ck_assert_uint_gt(dws_model_run_bytes(back, L, w, NULL, &err), 0);
        dws_mlp_free(&out1), dws_mlp_free(&out2);
        if (L == 3) {   /* outside the activation table */
            for (int l = 0; l + 1 < L; l++) in.act[l] = DWS_ACT_SIGMOID;
            ck_assert_int_eq(dws_adapter_apply(back, &in, &out1, NULL, &err), -1);
            ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
            ck_assert_ptr_nonnull(strstr(err.message, "sigmoid"));
        }
        dws_mlp_free(&in);
    }
    int64_t w6[7] = {a.d0, 8, 8, 8, 8, 8, a.dL};
    dws_mlp deep;
    ck_assert_int_eq(dws_mlp_init(&deep, 6, w6, &err), 0);
    ck_assert_int_eq(dws_model_check_input(back, &deep, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "2 to 5"));
    dws_mlp_free(&deep);
    dws_model_free(m);
    dws_model_free(back);
}
END_TEST

/* An adapter that reads the standardized frame (design.md section 17): its card
 * round-trips the frames, an MLP in that frame gets the frame's row (another edit
 * than the same weights in the pixel frame), a batch keeps frames apart (each
 * member gets what it gets alone), and an adapter without the row refuses it. */
START_TEST(frame_adapter_reads_the_standardized_frame)
{
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    dws_arch_condition_on_domains(&a, 8);
    a.cond_frames = 1;
    dws_rng rng;
    dws_model *m, *back = random_model_round_trip(&a, 6, "test-frame", &rng, &m);
    ck_assert_int_eq(dws_model_frame_for_normalized(back), DWS_FRAME_STANDARDIZED);
    int64_t w[4] = {a.d0, 8, 8, a.dL};
    dws_mlp px, st, out_px, out_st, out[2];
    ck_assert_int_eq(dws_mlp_init(&px, 3, w, &err), 0);
    th_fill_normal(px.params, px.n_params, 0.1f, &rng);
    ck_assert_int_eq(dws_mlp_clone(&st, &px, &err), 0);
    st.frame = DWS_FRAME_STANDARDIZED;
    ck_assert_int_eq(dws_adapter_apply(back, &px, &out_px, NULL, &err), 0);
    ck_assert_int_eq(dws_adapter_apply(back, &st, &out_st, NULL, &err), 0);
    ck_assert(th_rel_err(out_px.params, out_st.params, px.n_params) > 1e-4);
    const dws_mlp *both[2] = {&px, &st};
    int rc[2];
    dws_error errs[2];
    ck_assert_int_eq(dws_adapter_apply_batch(back, both, 2, out, rc, errs, NULL), 2);
    ck_assert(!memcmp(out[0].params, out_px.params, sizeof(float) * px.n_params));
    ck_assert(!memcmp(out[1].params, out_st.params, sizeof(float) * px.n_params));
    dws_mlp_free(&out[0]), dws_mlp_free(&out[1]), dws_mlp_free(&out_px), dws_mlp_free(&out_st);
    /* Without the row (pixel only): refused saying which frame. */
    a.cond_frames = 0;
    dws_net plain;
    ck_assert_int_eq(dws_net_init(&plain, &a, 6, &err), 0);
    dws_model_info info = {.id = "test-pixel", .target_domain = "fog:3", .min_width = 8, .max_width = 64};
    dws_model *pm = dws_model_from_net(&plain, &info, &err);
    ck_assert_msg(pm != NULL, "%s", err.message);
    ck_assert_int_eq(dws_model_frame_for_normalized(pm), DWS_FRAME_PIXEL);
    ck_assert_int_eq(dws_adapter_apply(pm, &st, &out_st, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "standardized"));
    dws_mlp_free(&px), dws_mlp_free(&st);
    dws_model_free(pm);
    dws_model_free(m);
    dws_model_free(back);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dws_model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, save_load_is_bit_exact, 0, 3);
    tcase_add_test(tc, corrupt_and_truncated_files_are_rejected);
    tcase_add_test(tc, tampered_content_is_rejected);
    tcase_add_test(tc, missing_tensor_is_rejected);
    tcase_add_test(tc, card_entries_and_ids);
    tcase_add_test(tc, inputs_are_checked);
    tcase_add_test(tc, fresh_adapter_model_returns_its_input);
    tcase_add_test(tc, concurrent_calls_on_one_model);
    tcase_add_loop_test(tc, batch_members_get_what_they_get_alone, 0, 7);
    tcase_add_loop_test(tc, onnx_batch_is_byte_identical, 0, 2);
    tcase_add_test(tc, any_mlp_adapter_reads_every_depth_and_activation);
    tcase_add_test(tc, frame_adapter_reads_the_standardized_frame);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
