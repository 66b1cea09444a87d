/* The ONNX <-> weight-space codec: every committed fixture decodes to the right
 * MLP and computes torch's outputs; encoding is exact and in place; every
 * rejection code is reachable; hostile bytes never crash it. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_onnx.h"
#include "onnx.pb-c.h"
#include "onnx/onnx_codec.h"
#include "onnx/onnx_internal.h"
#include "base/base.h"

#define FIX "tests/fixtures/"

typedef struct {
    const char *name;
    int n_layers;
    int64_t widths[6];
    dws_activation act;       /* every hidden layer */
    float leaky_alpha;
    dws_head head;
    const char *layer_op;
    const char *storage;      /* of W_1 */
    int transposed;           /* W_1 */
    int flatten;
    int64_t opset;
    const char *input_type;
    unsigned no_bias;         /* bit l: layer l + 1 stores no bias */
    const char *no_bias_op;   /* layer_op of those layers */
    int dropouts, dropouts_training;
} fixture;

#define SMALL {48, 16, 16, 10}
static const fixture fixtures[] = {
    {"gemm_flatten", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"gemm_flat_input", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 0, 13, "FLOAT", 0, NULL, 0, 0},
    {"matmul_add", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "MatMul+Add", "initializer raw_data FLOAT", 1, 0, 13, "FLOAT", 0, NULL, 0, 0},
    {"softmax_head", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_SOFTMAX, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"opset11", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 11, "FLOAT", 0, NULL, 0, 0},
    {"opset13", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"opset17", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 17, "FLOAT", 0, NULL, 0, 0},
    {"leaky_relu", 3, SMALL, DWS_ACT_LEAKY_RELU, 0.2f, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"tanh", 3, SMALL, DWS_ACT_TANH, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"sigmoid", 3, SMALL, DWS_ACT_SIGMOID, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"deep3", 4, {48, 32, 16, 16, 10}, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"reshape_input", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"opset9_initializers_as_inputs", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 9, "FLOAT", 0, NULL, 0, 0},
    {"cifar_mlp", 3, {3072, 64, 32, 10}, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"helper_constant_weights", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_IDENTITY, "Gemm", "Constant float_data FLOAT", 0, 0, 13, "FLOAT", 0, NULL, 0, 0},
    {"helper_double", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer double_data DOUBLE", 0, 0, 13, "DOUBLE", 0, NULL, 0, 0},
    {"helper_transb0_alpha_beta", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 1, 0, 13, "FLOAT", 0, NULL, 0, 0},
    {"helper_ir3_opset9", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer float_data FLOAT", 0, 0, 9, "FLOAT", 0, NULL, 0, 0},
    {"helper_float16", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer int32_data FLOAT16", 0, 0, 13, "FLOAT16", 0, NULL, 0, 0},
    {"helper_matmul_logsoftmax", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_LOG_SOFTMAX, "MatMul+Add", "initializer raw_data FLOAT", 1, 0, 17, "FLOAT", 0, NULL, 0, 0},
    {"helper_gelu_opset20", 3, SMALL, DWS_ACT_GELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 0, 20, "FLOAT", 0, NULL, 0, 0},
    {"view_opset9", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 9, "FLOAT", 0, NULL, 0, 0},
    {"view_opset11", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 11, "FLOAT", 0, NULL, 0, 0},
    {"view_opset13", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"view_opset17", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 17, "FLOAT", 0, NULL, 0, 0},
    {"reshape_batch", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"flatten_log_softmax", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_LOG_SOFTMAX, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"view_cifar", 3, {3072, 32, 16, 10}, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 0, 0},
    {"no_bias_hidden", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 2, "MatMul", 0, 0},
    {"no_constant_folding", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 6, "MatMul", 0, 0},
    {"dropout_train_opset11", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 11, "FLOAT", 0, NULL, 2, 0},
    {"dropout_train_opset13", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 1, 13, "FLOAT", 0, NULL, 2, 2},
    {"helper_gemm_no_bias", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data DOUBLE", 0, 0, 11, "DOUBLE", 5, "Gemm", 0, 0},
    {"helper_ir3_matmul_no_bias", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "MatMul+Add", "initializer raw_data FLOAT", 1, 0, 9, "FLOAT", 6, "MatMul", 0, 0},
    {"helper_dropout_opset13", 3, SMALL, DWS_ACT_RELU, 0, DWS_HEAD_NONE, "Gemm", "initializer raw_data FLOAT", 0, 0, 13, "FLOAT", 0, NULL, 3, 0},
};
#define N_FIXTURES ((int)(sizeof fixtures / sizeof fixtures[0]))

static uint8_t *slurp(const char *name, const char *ext, size_t *len)
{
    char path[256];
    dws_error err = {0};
    snprintf(path, sizeof path, FIX "%s%s", name, ext);
    uint8_t *buf = dws_read_file(path, (size_t)1 << 26, len, &err);
    ck_assert_msg(buf != NULL, "%s: %s", path, err.message);
    return buf;
}

static dws_onnx *decode_fixture(const char *name)
{
    dws_error err = {0};
    char path[256];
    snprintf(path, sizeof path, FIX "%s.onnx", name);
    dws_onnx *m = dws_onnx_decode_file(path, NULL, &err);
    ck_assert_msg(m != NULL, "%s: %s: %s", name, err.code, err.message);
    return m;
}

/* max |a - b| / max |b| over each row of `cols` values. */
static double row_rel_error(const float *a, const float *b, size_t n, size_t cols)
{
    double worst = 0;
    for (size_t r = 0; r < n / cols; r++) {
        double scale = 0;
        for (size_t j = 0; j < cols; j++) scale = fmax(scale, fabs(b[r * cols + j]));
        for (size_t j = 0; j < cols; j++) worst = fmax(worst, fabs(a[r * cols + j] - b[r * cols + j]) / scale);
    }
    return worst;
}

/* ---- every fixture decodes to the MLP that made it ---- */

START_TEST(fixture_decodes_to_its_mlp)
{
    const fixture *f = &fixtures[_i];
    dws_onnx *m = decode_fixture(f->name);
    const dws_mlp *w = dws_onnx_weights(m);
    const dws_onnx_info *info = dws_onnx_get_info(m);
    ck_assert_int_eq(w->n_layers, f->n_layers);
    size_t params = 0;
    for (int l = 0; l <= f->n_layers; l++) ck_assert_int_eq(w->widths[l], f->widths[l]);
    for (int l = 0; l < f->n_layers; l++) {
        params += (size_t)(f->widths[l + 1] * f->widths[l] + f->widths[l + 1]);
        ck_assert_int_eq(w->act[l], l + 1 < f->n_layers ? f->act : DWS_ACT_IDENTITY);
        int no_bias = f->no_bias >> l & 1;
        ck_assert_str_eq(info->layer_op[l], no_bias ? f->no_bias_op : f->layer_op);
        ck_assert_int_eq(info->bias_stored[l], !no_bias);
        ck_assert_int_eq(!strcmp(info->bias_storage[l], "none"), no_bias);
        if (no_bias) ck_assert_str_eq(info->bias_name[l], "");
        for (int64_t i = 0; no_bias && i < w->widths[l + 1]; i++) ck_assert_float_eq(w->b[l][i], 0.f);
        if (f->act == DWS_ACT_LEAKY_RELU && l + 1 < f->n_layers) ck_assert_float_eq_tol(w->leaky_alpha[l], f->leaky_alpha, 1e-7);
    }
    ck_assert_uint_eq(w->n_params, params);
    ck_assert_str_eq(info->weight_storage[0], f->storage);
    ck_assert_int_eq(info->weight_transposed[0], f->transposed);
    ck_assert_int_eq(info->input_flatten, f->flatten);
    ck_assert_int_eq(info->head, f->head);
    ck_assert_int_eq(info->opset, f->opset);
    ck_assert_str_eq(info->input_type, f->input_type);
    ck_assert_int_eq(info->dropout_nodes, f->dropouts);
    ck_assert_int_eq(info->dropout_training, f->dropouts_training);
    ck_assert_str_eq(info->input_name, "input");
    ck_assert_str_eq(info->output_name, "logits");
    dws_onnx_free(m);
}
END_TEST

START_TEST(fixture_forward_matches_reference)
{
    const fixture *f = &fixtures[_i];
    dws_onnx *m = decode_fixture(f->name);
    const dws_mlp *w = dws_onnx_weights(m);
    size_t in_len, out_len;
    float *x = (float *)slurp(f->name, ".input.f32", &in_len);
    float *ref = (float *)slurp(f->name, ".output.f32", &out_len);
    int n = (int)(in_len / sizeof(float) / (size_t)w->widths[0]);
    int64_t dL = w->widths[w->n_layers];
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(out_len, (size_t)n * (size_t)dL * sizeof(float));
    float *y = malloc(out_len), *scratch = malloc(dws_mlp_scratch_floats(w, n) * sizeof(float));
    dws_mlp_forward(w, x, n, y, scratch);
    dws_head_apply(dws_onnx_get_info(m)->head, y, (size_t)n, dL);
    double e = row_rel_error(y, ref, (size_t)n * (size_t)dL, (size_t)dL);
    ck_assert_msg(e <= 1e-5, "%s: relative error %g", f->name, e);
    free(x), free(ref), free(y), free(scratch);
    dws_onnx_free(m);
}
END_TEST

/* Unchanged weights, no metadata: the encoder writes back the very bytes the
 * exporter wrote (both serialize fields in number order). */
START_TEST(fixture_roundtrip_is_byte_identical)
{
    const fixture *f = &fixtures[_i];
    size_t len, out_len;
    uint8_t *orig = slurp(f->name, ".onnx", &len), *out;
    dws_onnx *m = decode_fixture(f->name);
    dws_error err = {0};
    ck_assert_int_eq(dws_onnx_encode(m, dws_onnx_weights(m), NULL, 0, &out, &out_len, &err), 0);
    ck_assert_uint_eq(out_len, len);
    ck_assert_msg(memcmp(out, orig, len) == 0, "%s: roundtrip bytes differ", f->name);
    free(out), free(orig);
    dws_onnx_free(m);
}
END_TEST

/* Tolerance of re-reading a written weight: exact for FLOAT at scale 1 (and for
 * DOUBLE, which holds every float), half precision for FLOAT16. */
static double reread_tolerance(const dws_onnx_info *info, int l)
{
    if (strstr(info->weight_storage[l], "FLOAT16")) return 1e-3;
    if (info->weight_scale[l] != 1.0 || info->bias_scale[l] != 1.0) return 1e-6;
    return 0;
}

START_TEST(fixture_encodes_new_weights)
{
    const fixture *f = &fixtures[_i];
    dws_onnx *m = decode_fixture(f->name);
    dws_error err = {0};
    dws_mlp w;
    ck_assert_int_eq(dws_mlp_clone(&w, dws_onnx_weights(m), &err), 0);
    for (size_t i = 0; i < w.n_params; i++) w.params[i] += 0.01f * (float)((int)(i % 7) - 3);
    dws_kv meta[] = {{"dwsnet.operation", "test"}};
    uint8_t *out, *again;
    size_t out_len, again_len;
    ck_assert_int_eq(dws_onnx_encode(m, &w, meta, 1, &out, &out_len, &err), 0);
    dws_onnx *m2 = dws_onnx_decode(out, out_len, NULL, &err);
    ck_assert_msg(m2 != NULL, "%s: %s", f->name, err.message);
    const dws_mlp *w2 = dws_onnx_weights(m2);
    ck_assert(dws_mlp_same_shape(&w, w2));
    for (int l = 0; l < w.n_layers; l++) {
        size_t n = (size_t)(w.widths[l + 1] * (w.widths[l] + 1));   /* W_l and b_l are adjacent */
        double tol = reread_tolerance(dws_onnx_get_info(m), l);
        double e = row_rel_error(w2->W[l], w.W[l], n, n);
        ck_assert_msg(e <= tol, "%s layer %d: re-read error %g > %g", f->name, l + 1, e, tol);
        ck_assert_int_eq(w2->act[l], w.act[l]);
    }
    ck_assert_str_eq(dws_onnx_get_info(m2)->weight_storage[0], f->storage);
    /* Writing the re-read weights back changes nothing any more. */
    ck_assert_int_eq(dws_onnx_encode(m2, w2, NULL, 0, &again, &again_len, &err), 0);
    ck_assert_uint_eq(again_len, out_len);
    ck_assert(memcmp(again, out, out_len) == 0);
    free(out), free(again);
    dws_mlp_free(&w);
    dws_onnx_free(m2);
    dws_onnx_free(m);
}
END_TEST

/* ---- encoding details ---- */

/* One changed weight changes one stored number: the others keep their bits, even
 * for DOUBLE storage or a Gemm alpha where float -> stored -> float is lossy. */
START_TEST(unchanged_entries_keep_their_stored_bits)
{
    const char *names[] = {"helper_double", "helper_transb0_alpha_beta", "helper_float16"};
    for (int k = 0; k < 3; k++) {
        size_t len, out_len;
        uint8_t *orig = slurp(names[k], ".onnx", &len), *out;
        dws_onnx *m = decode_fixture(names[k]);
        dws_error err = {0};
        dws_mlp w;
        ck_assert_int_eq(dws_mlp_clone(&w, dws_onnx_weights(m), &err), 0);
        w.W[0][5] += 0.5f;   /* row 0, column 5 of W_1 */
        ck_assert_int_eq(dws_onnx_encode(m, &w, NULL, 0, &out, &out_len, &err), 0);
        Onnx__ModelProto *a = ho_unpack(orig, len), *b = ho_unpack(out, out_len);
        ck_assert_uint_eq(a->graph->n_initializer, b->graph->n_initializer);
        int changed = 0;
        for (size_t t = 0; t < a->graph->n_initializer; t++) {
            Onnx__TensorProto *ta = a->graph->initializer[t], *tb = b->graph->initializer[t];
            ck_assert_str_eq(ta->name, tb->name);
            ck_assert_int_eq(ta->data_type, tb->data_type);
            ck_assert_uint_eq(ta->raw_data.len, tb->raw_data.len);
            ck_assert_uint_eq(ta->n_double_data, tb->n_double_data);
            ck_assert_uint_eq(ta->n_int32_data, tb->n_int32_data);
            ck_assert_uint_eq(ta->n_float_data, tb->n_float_data);
            for (size_t i = 0; i < ta->raw_data.len; i += 4) changed += memcmp(ta->raw_data.data + i, tb->raw_data.data + i, 4) != 0;
            for (size_t i = 0; i < ta->n_double_data; i++) changed += memcmp(&ta->double_data[i], &tb->double_data[i], 8) != 0;
            for (size_t i = 0; i < ta->n_int32_data; i++) changed += ta->int32_data[i] != tb->int32_data[i];
        }
        ck_assert_msg(changed == 1, "%s: %d stored numbers changed", names[k], changed);
        /* W_1 stored transposed in the transB=0 fixture: entry (0,5) sits at 5*16. */
        if (k == 1) {
            float v;
            memcpy(&v, b->graph->initializer[0]->raw_data.data + 4 * 5 * 16, 4);
            ck_assert_float_eq_tol(v * dws_onnx_get_info(m)->weight_scale[0], w.W[0][5], 1e-6);
        }
        onnx__model_proto__free_unpacked(a, NULL);
        onnx__model_proto__free_unpacked(b, NULL);
        free(orig), free(out);
        dws_mlp_free(&w);
        dws_onnx_free(m);
    }
}
END_TEST

/* The value of key (metadata is bytes: copied into a static buffer), "" if absent. */
static const char *meta_value(const Onnx__ModelProto *mp, const char *key, int *count)
{
    static char v[256];
    v[0] = '\0';
    *count = 0;
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        if (e->key.len == strlen(key) && !memcmp(e->key.data, key, e->key.len)) {
            snprintf(v, sizeof v, "%.*s", (int)e->value.len, (const char *)e->value.data);
            (*count)++;
        }
    }
    return v;
}

START_TEST(metadata_is_added_and_replaced)
{
    dws_onnx *m = decode_fixture("gemm_flatten");
    dws_error err = {0};
    uint8_t *out, *out2;
    size_t len, len2;
    dws_kv meta[] = {{"dwsnet.version", "1"}, {"dwsnet.operation", "adapt"}};
    ck_assert_int_eq(dws_onnx_encode(m, dws_onnx_weights(m), meta, 2, &out, &len, &err), 0);
    dws_onnx *m2 = dws_onnx_decode(out, len, NULL, &err);
    ck_assert(m2 != NULL);
    dws_kv meta2[] = {{"dwsnet.operation", "embed"}};
    ck_assert_int_eq(dws_onnx_encode(m2, dws_onnx_weights(m2), meta2, 1, &out2, &len2, &err), 0);
    Onnx__ModelProto *mp = ho_unpack(out2, len2);
    int count;
    ck_assert_uint_eq(mp->n_metadata_props, 2);
    ck_assert_str_eq(meta_value(mp, "dwsnet.version", &count), "1");
    ck_assert_str_eq(meta_value(mp, "dwsnet.operation", &count), "embed");
    ck_assert_int_eq(count, 1);
    onnx__model_proto__free_unpacked(mp, NULL);
    free(out), free(out2);
    dws_onnx_free(m2);
    dws_onnx_free(m);
}
END_TEST

/* A field this schema does not know survives decode + encode. */
START_TEST(unknown_fields_are_kept)
{
    size_t len, out_len;
    uint8_t *orig = slurp("gemm_flatten", ".onnx", &len), *out;
    const uint8_t extra[] = {0x98, 0x06, 0x2a};   /* field 99, varint 42 */
    uint8_t *buf = malloc(len + sizeof extra);
    memcpy(buf, orig, len);
    memcpy(buf + len, extra, sizeof extra);
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode(buf, len + sizeof extra, NULL, &err);
    ck_assert(m != NULL);
    ck_assert_int_eq(dws_onnx_encode(m, dws_onnx_weights(m), NULL, 0, &out, &out_len, &err), 0);
    ck_assert_uint_eq(out_len, len + sizeof extra);
    ck_assert(memcmp(out, buf, out_len) == 0);
    free(orig), free(buf), free(out);
    dws_onnx_free(m);
}
END_TEST

START_TEST(encode_rejects_other_widths)
{
    dws_onnx *m = decode_fixture("gemm_flatten");
    dws_error err = {0};
    dws_mlp w;
    int64_t widths[] = {48, 17, 16, 10};
    ck_assert_int_eq(dws_mlp_init(&w, 3, widths, &err), 0);
    uint8_t *out;
    size_t len;
    ck_assert_int_eq(dws_onnx_encode(m, &w, NULL, 0, &out, &len, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_SHAPE_MISMATCH);
    ck_assert_ptr_null(out);
    dws_mlp_free(&w);
    dws_onnx_free(m);
}
END_TEST

/* ---- dws_onnx_build ---- */

START_TEST(build_decodes_to_the_same_mlp)
{
    /* GELU (erf and tanh forms) and SiLU are spelt out as torch writes them at opset 13. */
    const dws_activation acts[] = {DWS_ACT_RELU, DWS_ACT_LEAKY_RELU, DWS_ACT_TANH, DWS_ACT_SIGMOID,
                                   DWS_ACT_GELU, DWS_ACT_GELU_TANH, DWS_ACT_SILU};
    int64_t widths[] = {7, 5, 4, 3};
    for (int k = 0; k < (int)(sizeof acts / sizeof *acts); k++) {
        uint8_t *buf, *out;
        size_t len, out_len;
        ho_build(widths, 3, acts[k], &buf, &len);
        dws_error err = {0};
        dws_onnx *m = dws_onnx_decode(buf, len, NULL, &err);
        ck_assert_msg(m != NULL, "%s", err.message);
        dws_mlp w;
        ck_assert_int_eq(dws_mlp_init(&w, 3, widths, &err), 0);
        ho_fill_weights(&w, 7);
        const dws_mlp *got = dws_onnx_weights(m);
        ck_assert(dws_mlp_same_shape(&w, got));
        ck_assert(memcmp(got->params, w.params, w.n_params * sizeof(float)) == 0);
        ck_assert_int_eq(got->act[0], acts[k]);
        ck_assert_int_eq(got->act[2], DWS_ACT_IDENTITY);
        if (acts[k] == DWS_ACT_LEAKY_RELU) ck_assert_float_eq(got->leaky_alpha[1], 0.3f);
        const dws_onnx_info *info = dws_onnx_get_info(m);
        ck_assert_str_eq(info->producer_name, "dwsnet-test");
        ck_assert_int_eq(info->opset, 13);
        ck_assert_int_eq(info->ir_version, 7);
        ck_assert_str_eq(info->weight_name[1], "3.weight");
        ck_assert_str_eq(info->bias_name[2], "5.bias");
        ck_assert_str_eq(info->weight_storage[0], "initializer raw_data FLOAT");
        ck_assert_int_eq(info->input_flatten, 1);
        ck_assert_int_eq(info->input_dims[0], -1);
        ck_assert_int_eq(info->input_dims[1], 7);
        ck_assert_int_eq(dws_onnx_encode(m, got, NULL, 0, &out, &out_len, &err), 0);
        ck_assert_uint_eq(out_len, len);
        ck_assert(memcmp(out, buf, len) == 0);
        Onnx__ModelProto *mp = ho_unpack(buf, len);
        int count;
        ck_assert_str_eq(meta_value(mp, "dwsnet.zoo.id", &count), "m0001");
        onnx__model_proto__free_unpacked(mp, NULL);
        free(buf), free(out);
        dws_mlp_free(&w);
        dws_onnx_free(m);
    }
}
END_TEST

START_TEST(build_rejects_an_activation_on_the_logits)
{
    dws_mlp w;
    dws_error err = {0};
    int64_t widths[] = {4, 3, 2};
    ck_assert_int_eq(dws_mlp_init(&w, 2, widths, &err), 0);
    w.act[1] = DWS_ACT_RELU;
    uint8_t *out;
    size_t len;
    ck_assert_int_eq(dws_onnx_build(&w, "t", NULL, 0, &out, &len, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    dws_mlp_free(&w);
}
END_TEST

/* ---- rejections, from models edited through the generated protobuf API ---- */

static void expect_rejected_bytes(const uint8_t *buf, size_t len, const dws_onnx_limits *lim, const char *code,
                                  const char *part)
{
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode(buf, len, lim, &err);
    ck_assert_msg(m == NULL, "decoded a model that should fail with %s (%s)", code, part);
    ck_assert_msg(err.code && !strcmp(err.code, code), "expected %s, got %s: %s", code, err.code, err.message);
    ck_assert_msg(strstr(err.message, part) != NULL, "message '%s' lacks '%s'", err.message, part);
}

/* Packs mp, expects decode to fail with code and a message containing part; frees mp. */
static void expect_rejected(Onnx__ModelProto *mp, const dws_onnx_limits *lim, const char *code, const char *part)
{
    size_t len;
    uint8_t *buf = ho_pack(mp, &len);
    expect_rejected_bytes(buf, len, lim, code, part);
    free(buf);
}

/* Names are C strings in protobuf-c: one holding a NUL is refused (it would come
 * back cut); free text is bytes and comes back whole, NULs included. */
START_TEST(nul_bytes_in_names_and_text)
{
    Onnx__ModelProto *mp = ho_base_model();
    ho_set_str(&mp->graph->node[2]->name, "cut_HERE_name");
    size_t len;
    uint8_t *buf = ho_pack(mp, &len);
    uint8_t *at = memmem(buf, len, "HERE", 4);
    ck_assert_ptr_nonnull(at);
    at[0] = 0;
    expect_rejected_bytes(buf, len, NULL, DWS_E_INVALID_MODEL, "a name holds a NUL byte");
    free(buf);

    static const uint8_t doc[] = {'a', 0, 'b', 0xff, 0};
    mp = ho_base_model();
    mp->has_doc_string = mp->graph->has_doc_string = 1;
    mp->doc_string = (ProtobufCBinaryData){sizeof doc, (uint8_t *)doc};
    mp->graph->doc_string = mp->doc_string;
    buf = ho_pack_keep(mp, &len);
    mp->doc_string.data = mp->graph->doc_string.data = NULL, mp->doc_string.len = mp->graph->doc_string.len = 0;
    onnx__model_proto__free_unpacked(mp, NULL);
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode(buf, len, NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    uint8_t *out;
    size_t out_len;
    ck_assert_int_eq(dws_onnx_encode(m, dws_onnx_weights(m), NULL, 0, &out, &out_len, &err), 0);
    Onnx__ModelProto *back = ho_unpack(out, out_len);
    ck_assert_uint_eq(back->doc_string.len, sizeof doc);
    ck_assert(!memcmp(back->doc_string.data, doc, sizeof doc));
    ck_assert_uint_eq(back->graph->doc_string.len, sizeof doc);
    onnx__model_proto__free_unpacked(back, NULL);
    free(out), free(buf);
    dws_onnx_free(m);
}
END_TEST

START_TEST(base_model_is_accepted)
{
    Onnx__ModelProto *mp = ho_base_model();
    size_t len = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = malloc(len);
    onnx__model_proto__pack(mp, buf);
    onnx__model_proto__free_unpacked(mp, NULL);
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode(buf, len, NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    dws_onnx_free(m);
    free(buf);
}
END_TEST

START_TEST(rejects_invalid_protobuf)
{
    const uint8_t truncated[] = {0x08, 0x07, 0x3a, 0x10, 0x0a};   /* graph says 16 bytes, has 1 */
    expect_rejected_bytes(truncated, sizeof truncated, NULL, DWS_E_INVALID_PROTOBUF, "parse failed");
    expect_rejected_bytes((const uint8_t *)"", 0, NULL, DWS_E_INVALID_PROTOBUF, "no graph");
    Onnx__ModelProto *mp = ho_base_model();
    mp->ir_version = 2;
    expect_rejected(mp, NULL, DWS_E_INVALID_PROTOBUF, "IR version 2");
}
END_TEST

/* protobuf-c reads a field-0 key written in two bytes as an unknown field, then
 * writes it back in one byte that it rejects: the re-encoding would be unreadable.
 * Found by tests/fuzz/fuzz_onnx_decode.c. */
START_TEST(field_zero_is_rejected)
{
    size_t len;
    uint8_t *orig = slurp("gemm_flatten", ".onnx", &len);
    const uint8_t extra[] = {0x80, 0x00, 0x2a};   /* field 0 (overlong key), varint 42 */
    uint8_t *buf = malloc(len + sizeof extra);
    memcpy(buf, orig, len);
    memcpy(buf + len, extra, sizeof extra);
    expect_rejected_bytes(buf, len + sizeof extra, NULL, DWS_E_INVALID_PROTOBUF, "field numbered 0");
    free(orig), free(buf);
}
END_TEST

START_TEST(rejects_not_an_mlp)
{
    static const int64_t one_layer[] = {6, 3};
    expect_rejected(ho_base_model_widths(one_layer, 1), NULL, DWS_E_NOT_AN_MLP, "no hidden layer");

    Onnx__ModelProto *mp = ho_base_model();   /* a second reader of the first hidden layer */
    ho_node(mp->graph, "Identity", "/2/Relu_output_0", NULL, "side");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "branch");

    mp = ho_base_model();   /* Flatten reads the Relu that its own Gemm feeds: a cycle cannot be sorted */
    ho_set_str(&mp->graph->node[0]->input[0], "/2/Relu_output_0");
    expect_rejected(mp, NULL, DWS_E_INVALID_MODEL, "topologically sorted");

    mp = ho_base_model();
    ho_set_str(&mp->graph->node[1]->input[1], "nope");
    expect_rejected(mp, NULL, DWS_E_INVALID_MODEL, "reads 'nope', which no input, initializer or node defines");

    mp = ho_base_model();   /* the weight is computed, not a constant */
    ho_node(mp->graph, "Identity", "3.weight", NULL, "w_copy");
    ho_set_str(&mp->graph->node[3]->input[1], "w_copy");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "not a constant");

    mp = ho_base_model();   /* Gemm, Relu, Relu, Gemm */
    ho_node(mp->graph, "Relu", "/2/Relu_output_0", NULL, "again");
    ho_set_str(&mp->graph->node[3]->input[0], "again");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "follows another activation");

    mp = ho_base_model();
    ho_set_str(&mp->graph->node[0]->op_type, "Relu");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "before the first layer");

    mp = ho_base_model();
    Onnx__AttributeProto *a = ho_attr(mp->graph->node[1], "transA");
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_i = 1, a->i = 1;
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "transA=1");

    static const int64_t square[] = {4, 4, 4, 3};
    mp = ho_base_model_widths(square, 3);   /* two layers share one weight tensor */
    ho_set_str(&mp->graph->node[3]->input[1], "1.weight");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "also read elsewhere");

    mp = ho_base_model();
    mp->graph->initializer[0]->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "data type INT64");

    mp = ho_base_model();   /* the Add after a MatMul adds a computed tensor, not a bias */
    Onnx__NodeProto *g1 = mp->graph->node[1];
    ho_set_str(&g1->op_type, "MatMul");
    ho_clear_attrs(g1);   /* Gemm's alpha, beta and transB are not MatMul's */
    free(g1->input[2]);
    g1->n_input = 2;
    ho_set_str(&g1->output[0], "m");
    ho_node(mp->graph, "Identity", "1.bias", NULL, "b_copy");
    ho_node(mp->graph, "Add", "m", "b_copy", "/1/Gemm_output_0");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "computed by node 'b_copy' (Identity), not a constant");

    mp = ho_base_model();   /* an Add of the data to itself where the Flatten was (with a
                             * constant it would be input preprocessing: onnx_preprocess.c) */
    ho_set_str(&mp->graph->node[0]->op_type, "Add");
    mp->graph->node[0]->input = realloc(mp->graph->node[0]->input, 2 * sizeof(char *));
    mp->graph->node[0]->input[1] = ho_strdup(mp->graph->node[0]->input[0]);
    mp->graph->node[0]->n_input = 2;
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "is read by 2 nodes");

    mp = ho_base_model();   /* a second graph input, typed like the first */
    uint8_t vbuf[512];
    size_t vlen = onnx__value_info_proto__pack(mp->graph->input[0], vbuf);
    Onnx__ValueInfoProto *vi = onnx__value_info_proto__unpack(NULL, vlen, vbuf);
    ho_set_str(&vi->name, "extra");
    mp->graph->input = realloc(mp->graph->input, 2 * sizeof *mp->graph->input);
    mp->graph->input[mp->graph->n_input++] = vi;
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "2 inputs");
}
END_TEST

START_TEST(rejects_unsupported_operators)
{
    Onnx__ModelProto *mp = ho_base_model();
    ho_set_str(&mp->graph->node[2]->op_type, "Conv");
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_OPERATOR, "'/2/Relu' (Conv)");

    mp = ho_base_model();
    mp->opset_import[0]->version = 8;
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_OPERATOR, "opset 8");

    mp = ho_base_model();
    mp->opset_import[0]->version = 22;
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_OPERATOR, "opset 22");

    mp = ho_base_model();
    ho_set_str(&mp->graph->node[2]->domain, "com.example");
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_OPERATOR, "domain 'com.example'");
}
END_TEST

START_TEST(rejects_unsupported_activations)
{
    Onnx__ModelProto *mp = ho_base_model();
    ho_set_str(&mp->graph->node[4]->op_type, "Elu");
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_ACTIVATION, "'/4/Relu' (Elu)");

    mp = ho_base_model();
    ho_set_str(&mp->graph->node[2]->op_type, "Gelu");
    Onnx__AttributeProto *a = ho_attr(mp->graph->node[2], "approximate");
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, a->has_s = 1;
    a->s.data = (uint8_t *)ho_strdup("tanh"), a->s.len = 4;
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_ACTIVATION, "approximate");

    mp = ho_base_model();   /* a ReLU on the logits */
    ho_set_str(&mp->graph->node[5]->output[0], "pre");
    ho_node(mp->graph, "Relu", "pre", NULL, "logits");
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_ACTIVATION, "follows the last layer");
}
END_TEST

START_TEST(rejects_shape_mismatches)
{
    Onnx__ModelProto *mp = ho_base_model();
    mp->graph->initializer[2]->raw_data.len -= 4;
    expect_rejected(mp, NULL, DWS_E_SHAPE_MISMATCH, "holds 76 bytes");

    mp = ho_base_model();
    mp->graph->initializer[1]->dims[0] = 4;
    expect_rejected(mp, NULL, DWS_E_SHAPE_MISMATCH, "bias of layer 1");

    mp = ho_base_model();   /* layer 2 takes 6 inputs, layer 1 gives 5 */
    mp->graph->initializer[2]->dims[1] = 6;
    mp->graph->initializer[2]->dims[0] = 4 * 5 / 6 + 1;
    expect_rejected(mp, NULL, DWS_E_SHAPE_MISMATCH, "layer 2");

    mp = ho_base_model();
    mp->graph->input[0]->type->tensor_type->shape->dim[1]->dim_value = 7;
    expect_rejected(mp, NULL, DWS_E_SHAPE_MISMATCH, "gives 7 features");

    mp = ho_base_model();
    mp->graph->initializer[0]->dims[1] = -6;
    expect_rejected(mp, NULL, DWS_E_SHAPE_MISMATCH, "dimension of -6");
}
END_TEST

START_TEST(rejects_external_data)
{
    Onnx__ModelProto *mp = ho_base_model();
    mp->graph->initializer[2]->has_data_location = 1;
    mp->graph->initializer[2]->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    expect_rejected(mp, NULL, DWS_E_EXTERNAL_DATA, "'3.weight'");
}
END_TEST

START_TEST(rejects_too_large)
{
    Onnx__ModelProto *mp = ho_base_model();   /* declared, not present: refused before allocating */
    mp->graph->initializer[0]->dims[0] = (int64_t)1 << 40;
    expect_rejected(mp, NULL, DWS_E_TOO_LARGE, "dimension of 1099511627776");

    size_t len;
    uint8_t *buf = slurp("gemm_flatten", ".onnx", &len);
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    lim.max_params = 1000;
    expect_rejected_bytes(buf, len, &lim, DWS_E_TOO_LARGE, "parameter count");
    dws_onnx_limits_default(&lim);
    lim.max_dim = 40;
    expect_rejected_bytes(buf, len, &lim, DWS_E_TOO_LARGE, "dimension of 48");
    dws_onnx_limits_default(&lim);
    lim.max_layers = 2;
    expect_rejected_bytes(buf, len, &lim, DWS_E_TOO_LARGE, "more than 2 layers");
    dws_onnx_limits_default(&lim);
    lim.max_nodes = 4;
    expect_rejected_bytes(buf, len, &lim, DWS_E_TOO_LARGE, "nodes");
    dws_onnx_limits_default(&lim);
    lim.max_bytes = 1000;
    expect_rejected_bytes(buf, len, &lim, DWS_E_TOO_LARGE, "bytes");
    free(buf);
}
END_TEST

/* Empty sub-messages cost 2 bytes each in the file and far more once parsed: the
 * parse itself is cut off by the memory budget. */
START_TEST(parse_memory_is_bounded)
{
    size_t n_nodes = 4u << 20, payload = 2 * n_nodes;
    uint8_t *buf = malloc(payload + 16), *p = buf;
    *p++ = 0x08, *p++ = 0x07;   /* ir_version 7 */
    *p++ = 0x3a;                /* graph, length-delimited */
    for (size_t v = payload; ; v >>= 7) {
        *p++ = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80) break;
    }
    for (size_t i = 0; i < n_nodes; i++) *p++ = 0x0a, *p++ = 0x00;   /* node {} */
    expect_rejected_bytes(buf, (size_t)(p - buf), NULL, DWS_E_TOO_LARGE, "memory");
    free(buf);
}
END_TEST

/* Graph > node > attribute > graph > ... a million levels deep in a few MB: the
 * recursive protobuf parser would overflow the stack; the pre-scan refuses it. */
START_TEST(deep_nesting_is_refused)
{
    int levels = 3 * 300000;
    uint8_t *buf = malloc((size_t)levels * 6 + 16);
    /* Written inside out: each prefix is a tag and the length of all that follows. */
    size_t end = (size_t)levels * 6 + 16, at = end;
    static const uint8_t fields[3] = {1 << 3 | 2, 5 << 3 | 2, 6 << 3 | 2};   /* node, attribute, g (from outside in) */
    for (int i = 0; i < levels; i++) {
        size_t n = end - at;
        uint8_t len[10];
        int k = 0;
        do len[k++] = (uint8_t)((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)); while ((n >>= 7) > 0);
        at -= (size_t)k;
        memcpy(buf + at, len, (size_t)k);
        buf[--at] = i == levels - 1 ? (7 << 3 | 2) : fields[(levels - 2 - i) % 3];
    }
    buf[--at] = 0x07, buf[--at] = 0x08;   /* ir_version 7 */
    expect_rejected_bytes(buf + at, end - at, NULL, DWS_E_TOO_LARGE, "levels deep");
    free(buf);
}
END_TEST

/* ---- layers without a bias ---- */

static const Onnx__TensorProto *find_initializer(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (!strcmp(g->initializer[i]->name, name)) return g->initializer[i];
    return NULL;
}

static int has_input(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_input; i++)
        if (!strcmp(g->input[i]->name, name)) return 1;
    return 0;
}

/* A nonzero bias for a layer stored without one: a new tensor of the weight's type,
 * read as Gemm's C or added by an Add right after the MatMul (also a graph input at
 * IR 3), listed in metadata; decoding the result gives back exactly the new weights. */
START_TEST(bias_free_layers_get_a_new_bias)
{
    const char *names[] = {"no_bias_hidden", "no_constant_folding", "helper_gemm_no_bias", "helper_ir3_matmul_no_bias"};
    for (int k = 0; k < 4; k++) {
        dws_onnx *m = decode_fixture(names[k]);
        const dws_onnx_info *info = dws_onnx_get_info(m);
        dws_error err = {0};
        dws_mlp w;
        ck_assert_int_eq(dws_mlp_clone(&w, dws_onnx_weights(m), &err), 0);
        int added = 0, adds = 0;
        for (int l = 0; l < w.n_layers; l++) {
            if (info->bias_stored[l]) continue;
            for (int64_t i = 0; i < w.widths[l + 1]; i++) w.b[l][i] = 0.25f * (float)(i % 3) - 0.25f;
            added++;
        }
        uint8_t *orig, *out;
        size_t orig_len, out_len;
        orig = slurp(names[k], ".onnx", &orig_len);
        ck_assert_int_eq(dws_onnx_encode(m, &w, NULL, 0, &out, &out_len, &err), 0);
        Onnx__ModelProto *a = ho_unpack(orig, orig_len), *b = ho_unpack(out, out_len);
        const Onnx__GraphProto *ga = a->graph, *gb = b->graph;
        int ir3 = a->ir_version < 4;
        ck_assert_uint_eq(gb->n_initializer, ga->n_initializer + (size_t)added);
        ck_assert_uint_eq(gb->n_input, ga->n_input + (size_t)(ir3 ? added : 0));
        int count;
        const char *record = meta_value(b, DWS_ONNX_ADDED_BIAS_KEY, &count);
        ck_assert_int_eq(count, 1);
        for (int l = 0; l < w.n_layers; l++) {
            if (info->bias_stored[l]) continue;
            char name[160], entry[200];
            snprintf(name, sizeof name, "%s.dwsnet_bias", info->weight_name[l]);
            snprintf(entry, sizeof entry, "layer %d: bias '%s'", l + 1, name);
            ck_assert_msg(strstr(record, entry) != NULL, "%s: record '%s' lacks '%s'", names[k], record, entry);
            const Onnx__TensorProto *t = find_initializer(gb, name), *wt = find_initializer(ga, info->weight_name[l]);
            ck_assert_msg(t != NULL, "%s: no initializer %s", names[k], name);
            ck_assert_int_eq(t->data_type, wt->data_type);
            ck_assert_uint_eq(t->n_dims, 1);
            ck_assert_int_eq(t->dims[0], w.widths[l + 1]);
            ck_assert_int_eq(has_input(gb, name), ir3);
            const Onnx__NodeProto *before = ga->node[m->layout.node[l]], *layer = gb->node[m->layout.node[l] + adds];
            ck_assert_str_eq(layer->op_type, before->op_type);
            ck_assert_str_eq(layer->input[1], before->input[1]);
            if (!strcmp(info->layer_op[l], "Gemm")) {
                ck_assert_uint_eq(layer->n_input, 3);
                ck_assert_str_eq(layer->input[2], name);
                continue;
            }
            const Onnx__NodeProto *add = gb->node[m->layout.node[l] + adds + 1];
            ck_assert_str_eq(add->op_type, "Add");
            ck_assert_str_eq(add->input[0], layer->output[0]);
            ck_assert_str_ne(layer->output[0], before->output[0]);
            ck_assert_str_eq(add->input[1], name);
            ck_assert_str_eq(add->output[0], before->output[0]);
            adds++;
        }
        ck_assert_uint_eq(gb->n_node, ga->n_node + (size_t)adds);
        dws_onnx *m2 = dws_onnx_decode(out, out_len, NULL, &err);
        ck_assert_msg(m2 != NULL, "%s: %s", names[k], err.message);
        const dws_mlp *w2 = dws_onnx_weights(m2);
        ck_assert(dws_mlp_same_shape(&w, w2));
        ck_assert(memcmp(w2->params, w.params, w.n_params * sizeof(float)) == 0);
        for (int l = 0; l < w.n_layers; l++) ck_assert(dws_onnx_get_info(m2)->bias_stored[l]);
        onnx__model_proto__free_unpacked(a, NULL);
        onnx__model_proto__free_unpacked(b, NULL);
        free(orig), free(out);
        dws_mlp_free(&w);
        dws_onnx_free(m2);
        dws_onnx_free(m);
    }
}
END_TEST

/* mp is kept: its nodes are sorted in place (tests append them in any order). */
static dws_onnx *decode_packed(Onnx__ModelProto *mp)
{
    ho_toposort(mp->graph);
    size_t len = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = malloc(len);
    onnx__model_proto__pack(mp, buf);
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode(buf, len, NULL, &err);
    ck_assert_msg(m != NULL, "%s: %s", err.code, err.message);
    free(buf);
    return m;
}

/* Encodes m with layer l's bias set to 1 and decodes the result. */
static dws_onnx *with_bias_one(const dws_onnx *m, int l)
{
    dws_error err = {0};
    dws_mlp w;
    ck_assert_int_eq(dws_mlp_clone(&w, dws_onnx_weights(m), &err), 0);
    for (int64_t i = 0; i < w.widths[l + 1]; i++) w.b[l][i] = 1.f;
    uint8_t *out;
    size_t len;
    ck_assert_int_eq(dws_onnx_encode(m, &w, NULL, 0, &out, &len, &err), 0);
    dws_onnx *m2 = dws_onnx_decode(out, len, NULL, &err);
    ck_assert_msg(m2 != NULL, "%s", err.message);
    free(out);
    dws_mlp_free(&w);
    return m2;
}

/* New names step around names the graph already has, and a second encode adds to
 * the record of the first. */
START_TEST(added_bias_names_are_fresh_and_recorded)
{
    dws_onnx *m = decode_fixture("no_constant_folding");
    const dws_onnx_info *info = dws_onnx_get_info(m);
    char taken[3][200];
    const char *matmul_out = m->model->graph->node[m->layout.node[1]]->output[0];
    snprintf(taken[0], sizeof taken[0], "%s.dwsnet_bias", info->weight_name[1]);
    snprintf(taken[1], sizeof taken[1], "%s.dwsnet_bias_1", info->weight_name[1]);
    snprintf(taken[2], sizeof taken[2], "%s.dwsnet_matmul", matmul_out);
    size_t len;
    uint8_t *buf = slurp("no_constant_folding", ".onnx", &len);
    Onnx__ModelProto *mp = ho_unpack(buf, len);
    for (int i = 0; i < 3; i++) ho_float_initializer(mp->graph, taken[i], 3);   /* unused, but names */
    dws_onnx *crowded = decode_packed(mp);
    onnx__model_proto__free_unpacked(mp, NULL);

    dws_onnx *m2 = with_bias_one(crowded, 1);
    char want[200];
    snprintf(want, sizeof want, "%s.dwsnet_bias_2", info->weight_name[1]);
    ck_assert_str_eq(dws_onnx_get_info(m2)->bias_name[1], want);
    snprintf(want, sizeof want, "%s.dwsnet_matmul_1", matmul_out);
    ck_assert_str_eq(m2->model->graph->node[m2->layout.node[1]]->output[0], want);
    ck_assert(!dws_onnx_get_info(m2)->bias_stored[2]);

    dws_onnx *m3 = with_bias_one(m2, 2);
    int count;
    const char *record = meta_value(m3->model, DWS_ONNX_ADDED_BIAS_KEY, &count);
    ck_assert_int_eq(count, 1);
    ck_assert_msg(strstr(record, "layer 2: ") && strstr(record, "; layer 3: "), "record: %s", record);
    free(buf);
    dws_onnx_free(m3);
    dws_onnx_free(m2);
    dws_onnx_free(crowded);
    dws_onnx_free(m);
}
END_TEST

/* ---- a Reshape's shape computed from the input's Shape ---- */

static void expect_d0(Onnx__ModelProto *mp, int64_t d0)
{
    dws_onnx *m = decode_packed(mp);
    onnx__model_proto__free_unpacked(mp, NULL);
    ck_assert_int_eq(dws_onnx_weights(m)->widths[0], d0);
    ck_assert_int_eq(dws_onnx_get_info(m)->input_flatten, 1);
    dws_onnx_free(m);
}

START_TEST(computed_reshape_shapes_are_evaluated)
{
    static const int64_t image[] = {-1, 2, 3}, dynamic[] = {-1, -1, 3};
    Onnx__ModelProto *mp = ho_reshape_model(image, 3);   /* x.view(x.size(0), -1) */
    ho_dim(mp->graph, 0, 1, "n");
    ho_ints(mp->graph, "minus1", -1);
    ho_concat(mp->graph, "n", "minus1");
    expect_d0(mp, 6);

    mp = ho_reshape_model(dynamic, 3);   /* x.view(x.size(0), x.size(1) * x.size(2)), dim 1 dynamic */
    ho_dim(mp->graph, 0, 1, "n");
    ho_dim(mp->graph, 1, 0, "d1");
    ho_dim(mp->graph, 2, 0, "d2");
    ho_node(mp->graph, "Mul", "d1", "d2", "f");
    ho_unsqueeze(mp->graph, "f", "fv");
    ho_concat(mp->graph, "n", "fv");
    expect_d0(mp, 6);

    mp = ho_reshape_model(image, 3);   /* x.view(x.shape[:1] + (-1,)): Slice, and a Cast */
    ho_node(mp->graph, "Shape", "input", NULL, "s");
    ho_ints(mp->graph, "zero", 0);
    ho_ints(mp->graph, "one", 1);
    const char *slice_in[] = {"s", "zero", "one", NULL};
    ho_node_n(mp->graph, "Slice", slice_in, "b");
    Onnx__AttributeProto *to = ho_attr(ho_node(mp->graph, "Cast", "b", NULL, "bc"), "to");
    to->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, to->has_i = 1, to->i = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    ho_ints(mp->graph, "minus1", -1);
    ho_concat(mp->graph, "bc", "minus1");
    expect_d0(mp, 6);
}
END_TEST

/* x.view(x.size(0), -1) after preprocessing (issue 18): the Shape of the normalised or
 * transposed data, not of the input; torch writes it so with a dynamic batch. */
static Onnx__ModelProto *preprocessed_view(const char *op, int shape_of_flatten)
{
    static const int64_t image[] = {-1, 2, 3}, zero = 0;
    Onnx__ModelProto *mp = ho_reshape_model(image, 3);
    Onnx__GraphProto *g = mp->graph;
    if (!strcmp(op, "Transpose")) {
        Onnx__AttributeProto *perm = ho_attr(ho_node(g, "Transpose", "input", NULL, "x1"), "perm");
        perm->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        perm->n_ints = 3;
        perm->ints = malloc(3 * sizeof(int64_t));
        perm->ints[0] = 0, perm->ints[1] = 2, perm->ints[2] = 1;
    } else {
        ho_float_initializer(g, "k", 1);
        g->initializer[g->n_initializer - 1]->float_data[0] = 0.5f;
        ho_node(g, op, "input", "k", "x1");
    }
    const char *reshaped = "x1";
    if (shape_of_flatten) {   /* a Shape of the data after a Flatten-like Reshape: refused */
        ho_int_initializer(g, "flat2", 2, (int64_t[]){-1, 6});
        ho_node(g, "Reshape", "x1", "flat2", "x2");
        reshaped = "x2";
    }
    ho_set_str(&g->node[0]->input[0], reshaped);
    ho_node(g, "Shape", reshaped, NULL, "n_shape");
    ho_int_initializer(g, "n_index", 0, &zero);
    ho_node(g, "Gather", "n_shape", "n_index", "n_scalar");
    ho_unsqueeze(g, "n_scalar", "n");
    ho_ints(g, "minus1", -1);
    ho_concat(g, "n", "minus1");
    return mp;
}

START_TEST(computed_reshape_of_preprocessed_data)
{
    const char *ops[] = {"Sub", "Mul", "Transpose"}, *shown[] = {"x - 0.5", "x * 0.5", "permute(x, 0,2,1)"};
    for (int k = 0; k < 3; k++) {
        Onnx__ModelProto *mp = preprocessed_view(ops[k], 0);
        dws_onnx *m = decode_packed(mp);
        ck_assert_int_eq(dws_onnx_weights(m)->widths[0], 6);
        ck_assert_str_eq(dws_onnx_get_info(m)->preprocess, shown[k]);
        ck_assert_ptr_nonnull(dws_onnx_input_affine(m));
        dws_onnx_free(m);
        onnx__model_proto__free_unpacked(mp, NULL);
    }
    expect_rejected(preprocessed_view("Sub", 1), NULL, DWS_E_NOT_AN_MLP,
                    "takes the Shape of something other than the input or its preprocessing");
}
END_TEST

START_TEST(bad_reshape_shapes_are_rejected)
{
    static const int64_t image[] = {-1, 2, 3}, flat[] = {-1, 6}, dynamic[] = {-1, -1, 3};
    Onnx__ModelProto *mp = ho_reshape_model(image, 3);   /* [N, N] */
    ho_dim(mp->graph, 0, 1, "n");
    ho_concat(mp->graph, "n", "n");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "Reshape node '/Reshape' (Reshape): its target shape [N, N] does not keep");

    mp = ho_reshape_model(dynamic, 3);   /* [d1, -1]: a dynamic dim where the batch belongs */
    ho_dim(mp->graph, 1, 1, "d");
    ho_ints(mp->graph, "minus1", -1);
    ho_concat(mp->graph, "d", "minus1");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "target shape [d1, -1]");

    mp = ho_reshape_model(image, 3);   /* [N, 7] for a 6-input first layer */
    ho_dim(mp->graph, 0, 1, "n");
    ho_ints(mp->graph, "seven", 7);
    ho_concat(mp->graph, "n", "seven");
    expect_rejected(mp, NULL, DWS_E_SHAPE_MISMATCH, "gives 7 features");

    mp = ho_reshape_model(image, 3);   /* an Add is not shape arithmetic */
    ho_dim(mp->graph, 0, 1, "n");
    ho_ints(mp->graph, "minus1", -1);
    ho_node(mp->graph, "Add", "minus1", "minus1", "sum");
    ho_concat(mp->graph, "n", "sum");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "computed by node 'sum' (Add), which is not shape arithmetic");

    mp = ho_reshape_model(image, 3);   /* the Shape of a weight */
    ho_node(mp->graph, "Shape", "1.weight", NULL, "ws");
    ho_ints(mp->graph, "minus1", -1);
    ho_concat(mp->graph, "ws", "minus1");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "takes the Shape of something other than the input");

    mp = ho_reshape_model(image, 3);   /* the batch through 70 Casts: past the node budget */
    ho_dim(mp->graph, 0, 0, "c0");
    for (int i = 0; i < 70; i++) {
        char in[16], out[16];
        snprintf(in, sizeof in, "c%d", i), snprintf(out, sizeof out, "c%d", i + 1);
        Onnx__AttributeProto *cast_to = ho_attr(ho_node(mp->graph, "Cast", in, NULL, out), "to");
        cast_to->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, cast_to->has_i = 1, cast_to->i = 7;
    }
    ho_unsqueeze(mp->graph, "c70", "n");
    ho_ints(mp->graph, "minus1", -1);
    ho_concat(mp->graph, "n", "minus1");
    expect_rejected(mp, NULL, DWS_E_TOO_LARGE, "more than 64 nodes");

    mp = ho_reshape_model(flat, 2);   /* allowzero (opset 14 on): a 0 is a zero-size dim, not the batch */
    mp->opset_import[0]->version = 14;
    int64_t zero_minus1[] = {0, -1};
    ho_int_initializer(mp->graph, "shape", 2, zero_minus1);
    Onnx__AttributeProto *az = ho_attr(mp->graph->node[0], "allowzero");
    az->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, az->has_i = 1, az->i = 1;
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "target shape [0, -1]");

    mp = ho_base_model();   /* a Shape of the input that no Reshape uses */
    ho_node(mp->graph, "Shape", "input", NULL, "unused");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "node 'unused' (Shape) is not on the chain");

    mp = ho_base_model();   /* shape arithmetic on the data itself */
    ho_set_str(&mp->graph->node[2]->op_type, "Cast");
    ho_attr_int(mp->graph->node[2], "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    expect_rejected(mp, NULL, DWS_E_UNSUPPORTED_OPERATOR, "'/2/Relu' (Cast) works on the data");
}
END_TEST

/* ---- Dropout and Transpose ---- */

/* base_model with its first Relu turned into a Dropout reading the given extra inputs. */
static Onnx__ModelProto *dropout_model(const char *ratio, const char *training_mode)
{
    Onnx__ModelProto *mp = ho_base_model();
    Onnx__NodeProto *n = mp->graph->node[2];
    ho_set_str(&n->op_type, "Dropout");
    n->input = realloc(n->input, 3 * sizeof(char *));
    n->input[1] = ho_strdup(ratio);
    n->input[2] = ho_strdup(training_mode);
    n->n_input = 3;
    return mp;
}

START_TEST(dropout_passes_through)
{
    Onnx__ModelProto *mp = dropout_model("", "tm");   /* training_mode true: counted */
    ho_ints(mp->graph, "tm", 1);
    dws_onnx *m = decode_packed(mp);
    onnx__model_proto__free_unpacked(mp, NULL);
    ck_assert_int_eq(dws_onnx_get_info(m)->dropout_nodes, 1);
    ck_assert_int_eq(dws_onnx_get_info(m)->dropout_training, 1);
    ck_assert_int_eq(dws_onnx_weights(m)->act[0], DWS_ACT_IDENTITY);   /* the Relu it replaced is gone */
    dws_onnx_free(m);

    mp = dropout_model("", "tm");
    ho_float_initializer(mp->graph, "tm", 1);
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "data type FLOAT; an integer was expected");

    mp = dropout_model("r", "");
    ho_float_initializer(mp->graph, "half", 1);
    ho_node(mp->graph, "Identity", "half", NULL, "r");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "Dropout ratio 'r' is computed by node 'r' (Identity), not a constant");

    mp = dropout_model("", "");   /* its mask read by another node */
    Onnx__NodeProto *n = mp->graph->node[2];
    n->output = realloc(n->output, 2 * sizeof(char *));
    n->output[1] = ho_strdup("mask");
    n->n_output = 2;
    ho_node(mp->graph, "Identity", "mask", NULL, "mask_copy");
    expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "its mask 'mask' is used");
}
END_TEST

/* A Transpose of a weight flips how the stored matrix maps to W; only [1, 0] is a layer. */
START_TEST(transposed_weights)
{
    Onnx__ModelProto *base = ho_base_model();
    dws_onnx *plain = decode_packed(base);
    onnx__model_proto__free_unpacked(base, NULL);
    for (int bad = 0; bad < 2; bad++) {
        Onnx__ModelProto *mp = ho_base_model();
        Onnx__NodeProto *gemm = mp->graph->node[3];
        ho_set_str(&gemm->input[1], "wt");
        for (size_t a = 0; a < gemm->n_attribute; a++)
            if (!strcmp(gemm->attribute[a]->name, "transB")) gemm->attribute[a]->i = 0;
        Onnx__AttributeProto *perm = ho_attr(ho_node(mp->graph, "Transpose", "3.weight", NULL, "wt"), "perm");
        perm->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        perm->n_ints = 2;
        perm->ints = malloc(2 * sizeof(int64_t));
        perm->ints[0] = !bad, perm->ints[1] = bad;
        if (bad) {
            expect_rejected(mp, NULL, DWS_E_NOT_AN_MLP, "'wt' (Transpose): a weight may only be");
            continue;
        }
        dws_onnx *m = decode_packed(mp);
        onnx__model_proto__free_unpacked(mp, NULL);
        ck_assert(memcmp(dws_onnx_weights(m)->params, dws_onnx_weights(plain)->params,
                         dws_onnx_weights(m)->n_params * sizeof(float)) == 0);
        ck_assert_str_eq(dws_onnx_get_info(m)->weight_name[1], "3.weight");
        dws_onnx_free(m);
    }
    dws_onnx_free(plain);
}
END_TEST

/* ---- hostile bytes ---- */

static int decode_result(const uint8_t *buf, size_t len)
{
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode(buf, len, NULL, &err);
    if (!m) {
        ck_assert_msg(err.code != NULL, "rejected without a code");
        return 0;
    }
    uint8_t *out;
    size_t out_len;
    ck_assert_int_eq(dws_onnx_encode(m, dws_onnx_weights(m), NULL, 0, &out, &out_len, &err), 0);
    free(out);
    dws_onnx_free(m);
    return 1;
}

/* Models with Constant nodes, shape arithmetic, Transposes and Dropouts. */
static const char *const hostile_bases[] = {"helper_constant_weights", "no_constant_folding", "helper_dropout_opset13"};

START_TEST(every_truncation_is_rejected)
{
    size_t len;
    uint8_t *buf = slurp(hostile_bases[_i], ".onnx", &len);
    int decoded = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut + 1);   /* exact-size copies let ASan see over-reads */
        memcpy(copy, buf, cut);
        decoded += decode_result(copy, cut);
        free(copy);
    }
    ck_assert_int_eq(decoded, 0);
    free(buf);
}
END_TEST

START_TEST(random_mutations_never_crash)
{
    size_t len;
    uint8_t *buf = slurp(_i == 0 ? "gemm_flatten" : hostile_bases[_i], ".onnx", &len);
    uint8_t *copy = malloc(len);
    uint64_t s = 12345;
    int decoded = 0, rounds = 2000;
    for (int r = 0; r < rounds; r++) {
        memcpy(copy, buf, len);
        int flips = 1 + r % 4;
        for (int k = 0; k < flips; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(s >> 33) % len;
            copy[at] = (uint8_t)(s >> 17);
        }
        decoded += decode_result(copy, len);
    }
    /* Most flips land in weight bytes and leave a valid model; some must break it. */
    ck_assert_int_gt(decoded, 0);
    ck_assert_int_lt(decoded, rounds);
    free(copy), free(buf);
}
END_TEST

/* ---- float16 / bfloat16 ---- */

START_TEST(half_conversions_are_exact_and_round_to_even)
{
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = dws_half_to_float((uint16_t)h);
        if (isnan(f)) ck_assert(isnan(dws_half_to_float(dws_float_to_half(f))));
        else ck_assert_uint_eq(dws_float_to_half(f), h);
    }
    ck_assert_uint_eq(dws_float_to_half(1.0f + 1.0f / 2048), 0x3c00);          /* tie: down to even */
    ck_assert_uint_eq(dws_float_to_half(1.0f + 3.0f / 2048), 0x3c02);          /* tie: up to even */
    ck_assert_uint_eq(dws_float_to_half(65519.f), 0x7bff);
    ck_assert_uint_eq(dws_float_to_half(65520.f), 0x7c00);
    ck_assert_uint_eq(dws_float_to_half(-0x1p-25f), 0x8000);                   /* tie to zero */
    ck_assert_uint_eq(dws_float_to_half(0x1.8p-24f), 0x0002);                  /* subnormal tie up */
    ck_assert_float_eq(dws_bfloat_to_float(0x3f80), 1.0f);
    ck_assert_uint_eq(dws_float_to_bfloat(1.0f + 0x1p-8f), 0x3f80);            /* tie: down */
    ck_assert_uint_eq(dws_float_to_bfloat(1.0f + 0x1.8p-7f), 0x3f82);          /* tie: up */
    ck_assert(isnan(dws_bfloat_to_float(dws_float_to_bfloat(NAN))));
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *t = tcase_create("fixtures");
    tcase_set_timeout(t, 60);
    tcase_add_loop_test(t, fixture_decodes_to_its_mlp, 0, N_FIXTURES);
    tcase_add_loop_test(t, fixture_forward_matches_reference, 0, N_FIXTURES);
    tcase_add_loop_test(t, fixture_roundtrip_is_byte_identical, 0, N_FIXTURES);
    tcase_add_loop_test(t, fixture_encodes_new_weights, 0, N_FIXTURES);
    suite_add_tcase(s, t);

    t = tcase_create("encode");
    tcase_add_test(t, unchanged_entries_keep_their_stored_bits);
    tcase_add_test(t, metadata_is_added_and_replaced);
    tcase_add_test(t, unknown_fields_are_kept);
    tcase_add_test(t, encode_rejects_other_widths);
    tcase_add_test(t, build_decodes_to_the_same_mlp);
    tcase_add_test(t, build_rejects_an_activation_on_the_logits);
    tcase_add_test(t, bias_free_layers_get_a_new_bias);
    tcase_add_test(t, added_bias_names_are_fresh_and_recorded);
    suite_add_tcase(s, t);

    t = tcase_create("export_styles");
    tcase_add_test(t, computed_reshape_shapes_are_evaluated);
    tcase_add_test(t, computed_reshape_of_preprocessed_data);
    tcase_add_test(t, bad_reshape_shapes_are_rejected);
    tcase_add_test(t, dropout_passes_through);
    tcase_add_test(t, transposed_weights);
    suite_add_tcase(s, t);

    t = tcase_create("rejections");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, base_model_is_accepted);
    tcase_add_test(t, rejects_invalid_protobuf);
    tcase_add_test(t, rejects_not_an_mlp);
    tcase_add_test(t, rejects_unsupported_operators);
    tcase_add_test(t, rejects_unsupported_activations);
    tcase_add_test(t, rejects_shape_mismatches);
    tcase_add_test(t, rejects_external_data);
    tcase_add_test(t, rejects_too_large);
    tcase_add_test(t, parse_memory_is_bounded);
    tcase_add_test(t, deep_nesting_is_refused);
    tcase_add_test(t, field_zero_is_rejected);
    tcase_add_test(t, nul_bytes_in_names_and_text);
    suite_add_tcase(s, t);

    t = tcase_create("hostile");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, every_truncation_is_rejected, 0, 3);
    tcase_add_loop_test(t, random_mutations_never_crash, 0, 3);
    tcase_add_test(t, half_conversions_are_exact_and_round_to_even);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(codec_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
