/* Non-finite numbers: NaN, infinity, or a number that overflows a float once read
 * (a DOUBLE 1e300, a bias times Gemm's beta) is refused by the decoder with
 * bad_data naming the tensor and the storage index, in every storage the codec
 * reads; the encoder refuses (not_representable) a new value its tensor's type
 * cannot hold (FLOAT16 above 65504, a FLOAT that a Gemm alpha scales past the
 * float range, NaN); adapters and encoders never return non-finite numbers. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_onnx.h"
#include "model/model.h"
#include "onnx/onnx_codec.h"
#include "onnx/onnx_internal.h"
#include "ws/ws.h"
#include "base/base.h"

#define FIX "tests/fixtures/"

/* Every storage the codec reads: raw FLOAT, float_data, double_data, raw DOUBLE,
 * int32_data and raw FLOAT16, a Gemm alpha and beta, Constant-node weights. */
static const char *const storages[] = {"gemm_flatten", "helper_ir3_opset9", "helper_double", "helper_gemm_no_bias",
                                       "helper_float16", "helper_transb0_alpha_beta", "helper_constant_weights"};
#define N_STORAGES (int)(sizeof storages / sizeof storages[0])

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, FIX "%s.onnx", name);
    dws_error err = {0};
    uint8_t *buf = dws_read_file(path, (size_t)1 << 26, len, &err);
    ck_assert_msg(buf != NULL, "%s: %s", path, err.message);
    return buf;
}

/* The tensor named `name`: an initializer or a Constant node's value. */
static Onnx__TensorProto *find_tensor(Onnx__ModelProto *mp, const char *name)
{
    Onnx__GraphProto *g = mp->graph;
    for (size_t i = 0; i < g->n_initializer; i++)
        if (!strcmp(g->initializer[i]->name, name)) return g->initializer[i];
    for (size_t i = 0; i < g->n_node; i++)
        if (!strcmp(g->node[i]->op_type, "Constant") && !strcmp(g->node[i]->output[0], name))
            for (size_t a = 0; a < g->node[i]->n_attribute; a++)
                if (g->node[i]->attribute[a]->t) return g->node[i]->attribute[a]->t;
    ck_abort_msg("no tensor '%s'", name);
    return NULL;
}

/* Stores v as element k of t, in whatever field and type t uses. */
static void poke(Onnx__TensorProto *t, size_t k, double v)
{
    int raw = t->has_raw_data && t->raw_data.len > 0;
    float f = (float)v;
    uint16_t h = dws_float_to_half(f);
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        if (raw) memcpy(t->raw_data.data + 4 * k, &f, 4);
        else t->float_data[k] = f;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        if (raw) memcpy(t->raw_data.data + 8 * k, &v, 8);
        else t->double_data[k] = v;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        if (raw) memcpy(t->raw_data.data + 2 * k, &h, 2);
        else t->int32_data[k] = h;
        break;
    default:
        ck_abort_msg("unexpected type %d", t->data_type);
    }
}

static dws_onnx *decode_bytes(const uint8_t *buf, size_t len, dws_error *err)
{
    dws_error_clear(err);
    return dws_onnx_decode(buf, len, NULL, err);
}

START_TEST(non_finite_weights_are_refused_where_they_are)
{
    size_t len;
    uint8_t *buf = slurp(storages[_i], &len);
    dws_error err;
    dws_onnx *m = decode_bytes(buf, len, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    const dws_mlp_layout *ly = &m->layout;
    unsigned seed = 17u + (unsigned)_i;
    const double bad[] = {NAN, INFINITY, -INFINITY, 1e300};
    int tried = 0;
    for (int l = 0; l < ly->n_layers; l++) {
        for (int bias = 0; bias < 2; bias++) {
            const dws_tensor_ref *r = bias ? &ly->bias[l] : &ly->weight[l];
            if (!r->tensor) continue;
            size_t count = (size_t)(r->rows * r->cols);
            for (size_t v = 0; v < sizeof bad / sizeof bad[0]; v++) {
                seed = seed * 1103515245u + 12345u;
                size_t k = (seed >> 8) % count;
                Onnx__ModelProto *mp = ho_unpack(buf, len);
                poke(find_tensor(mp, r->tensor->name), k, bad[v]);
                size_t n;
                uint8_t *mod = ho_pack(mp, &n);
                dws_onnx *again = decode_bytes(mod, n, &err);
                free(mod);
                /* A DOUBLE 1e300 is finite in the file; every other storage turns it into infinity. */
                ck_assert_msg(again == NULL, "%s: %g at %s[%zu] was accepted", storages[_i], bad[v], r->tensor->name, k);
                ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
                char where[160];
                snprintf(where, sizeof where, "'%s'", r->tensor->name);
                ck_assert_msg(strstr(err.message, where) != NULL, "%s lacks %s", err.message, where);
                snprintf(where, sizeof where, "at index %zu", k);
                ck_assert_msg(strstr(err.message, where) != NULL, "%s lacks %s", err.message, where);
                tried++;
            }
        }
    }
    ck_assert_int_ge(tried, 8);
    dws_onnx_free(m);
    free(buf);
}
END_TEST

/* A bias that fits a float but not once Gemm's beta (1.7) scales it. */
START_TEST(a_scaled_value_that_overflows_is_refused)
{
    size_t len;
    uint8_t *buf = slurp("helper_transb0_alpha_beta", &len);
    Onnx__ModelProto *mp = ho_unpack(buf, len);
    poke(find_tensor(mp, "B0"), 3, 3e38);
    size_t n;
    uint8_t *mod = ho_pack(mp, &n);
    dws_error err;
    ck_assert_ptr_null(decode_bytes(mod, n, &err));
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
    ck_assert_msg(strstr(err.message, "at index 3") != NULL, "%s", err.message);
    free(mod), free(buf);
}
END_TEST

/* Encoding value x into W_1[0][0] of a fixture: 0 when written (and read back as
 * x's value in the storage type), -1 when refused as not representable. */
static int encode_one(const char *fixture, float x, float *read_back)
{
    size_t len;
    uint8_t *buf = slurp(fixture, &len);
    dws_error err;
    dws_onnx *m = decode_bytes(buf, len, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    dws_mlp w;
    ck_assert_int_eq(dws_mlp_clone(&w, dws_onnx_weights(m), &err), 0);
    w.W[0][0] = x;
    uint8_t *out = NULL;
    size_t out_len;
    int rc = dws_onnx_encode(m, &w, NULL, 0, &out, &out_len, &err);
    if (rc != 0) {
        ck_assert_str_eq(err.code, DWS_E_NOT_REPRESENTABLE);
        ck_assert_msg(strstr(err.message, m->layout.weight[0].tensor->name) != NULL, "%s", err.message);
        ck_assert_ptr_null(out);
    } else {
        dws_onnx *again = decode_bytes(out, out_len, &err);
        ck_assert_msg(again != NULL, "%s wrote what it cannot read: %s", fixture, err.message);
        *read_back = dws_onnx_weights(again)->W[0][0];
        dws_onnx_free(again);
        free(out);
    }
    dws_mlp_free(&w);
    dws_onnx_free(m);
    free(buf);
    return rc;
}

START_TEST(encode_refuses_what_the_storage_cannot_hold)
{
    float back;
    /* FLOAT16: 65504 is the largest; 65519 still rounds to it, 65520 to infinity. */
    ck_assert_int_eq(encode_one("helper_float16", 65504.f, &back), 0);
    ck_assert(back == 65504.f);
    ck_assert_int_eq(encode_one("helper_float16", 65519.f, &back), 0);
    ck_assert(back == 65504.f);
    ck_assert_int_eq(encode_one("helper_float16", 65520.f, &back), -1);
    ck_assert_int_eq(encode_one("helper_float16", -1e6f, &back), -1);
    ck_assert_int_eq(encode_one("helper_float16", NAN, &back), -1);
    /* FLOAT and DOUBLE hold any finite float, but not infinity or NaN. */
    for (int i = 0; i < 2; i++) {
        const char *f = i ? "helper_double" : "gemm_flatten";
        ck_assert_int_eq(encode_one(f, 3.4e38f, &back), 0);
        ck_assert(back == 3.4e38f);
        ck_assert_int_eq(encode_one(f, INFINITY, &back), -1);
        ck_assert_int_eq(encode_one(f, NAN, &back), -1);
    }
    /* Gemm alpha 0.3: the stored number is x / 0.3, past the float range for 3.4e38. */
    ck_assert_int_eq(encode_one("helper_transb0_alpha_beta", 1e38f, &back), 0);
    ck_assert_int_eq(encode_one("helper_transb0_alpha_beta", 3.4e38f, &back), -1);
}
END_TEST

/* Whatever the input's scale, an adapter or encoder returns finite numbers or
 * refuses with not_representable. */
START_TEST(models_never_return_non_finite_numbers)
{
    static const int64_t widths[] = {12, 8, 8, 4};
    int refused = 0;
    for (int kind = 0; kind < 2; kind++) {
        dws_arch a;
        dws_arch_default(&a, kind ? DWS_MODEL_ENCODER : DWS_MODEL_ADAPTER);
        a.d0 = 12, a.dL = 4, a.depth = 3, a.image.planes = 0;
        dws_net net;
        dws_error err = {0};
        ck_assert_msg(dws_net_init(&net, &a, 3, &err) == 0, "%s", err.message);
        if (!kind)
            for (int k = 0; k < 2 * a.depth; k++) net.params[net.alpha + (size_t)k] = 0.5f;
        dws_model_info info = {.id = kind ? "e" : "a", .min_width = 8, .max_width = 8};
        dws_model *m = dws_model_from_net(&net, &info, &err);
        ck_assert_msg(m != NULL, "%s", err.message);
        static const double scales[] = {1, 1e10, 1e30, 1e36, 1e37, 1e38, 3.4e38};
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
            double scale = scales[si];
            dws_mlp in;
            ck_assert_int_eq(dws_mlp_init(&in, 3, widths, &err), 0);
            ho_fill_weights(&in, 5);
            for (size_t i = 0; i < in.n_params; i++) in.params[i] = (float)(in.params[i] * scale);
            dws_error_clear(&err);
            int rc;
            if (kind) {
                float *e = NULL;
                int dim = 0;
                rc = dws_encoder_embed(m, &in, &e, &dim, NULL, &err);
                for (int i = 0; rc == 0 && i < dim; i++) ck_assert_msg(isfinite(e[i]), "embedding %d at scale %g", i, scale);
                free(e);
            } else {
                dws_mlp out = {0};
                rc = dws_adapter_apply(m, &in, &out, NULL, &err);
                for (size_t i = 0; rc == 0 && i < out.n_params; i++)
                    ck_assert_msg(isfinite(out.params[i]), "adapted %zu at scale %g", i, scale);
                dws_mlp_free(&out);
            }
            if (rc != 0) {   /* an overflow inside, or (adapters) weights far outside the training ones */
                ck_assert_msg(!strcmp(err.code, DWS_E_NOT_REPRESENTABLE) ||
                                  (!kind && !strcmp(err.code, DWS_E_INCOMPATIBLE_MODEL) && strstr(err.message, "(weights)")),
                              "%s: %s", err.code, err.message);
                refused++;
            }
            dws_mlp_free(&in);
        }
        dws_model_free(m);
    }
    ck_assert_int_gt(refused, 0);   /* the largest scales do overflow inside the networks */
}
END_TEST

static Suite *finite_suite(void)
{
    Suite *s = suite_create("codec_finite");
    TCase *t = tcase_create("finite");
    tcase_set_timeout(t, 60);
    tcase_add_loop_test(t, non_finite_weights_are_refused_where_they_are, 0, N_STORAGES);
    tcase_add_test(t, a_scaled_value_that_overflows_is_refused);
    tcase_add_test(t, encode_refuses_what_the_storage_cannot_hold);
    tcase_add_test(t, models_never_return_non_finite_numbers);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(finite_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
