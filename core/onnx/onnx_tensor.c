/* Reading weights out of, and writing them back into, ONNX TensorProtos in
 * whichever of the float types and storage fields the file uses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

/* raw_data is little-endian; reading it with memcpy assumes the host is too. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX codec reads raw_data with memcpy and needs a little-endian host"
#endif

enum {
    T_FLOAT = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
    T_DOUBLE = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE,
    T_FLOAT16 = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16,
    T_BFLOAT16 = ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16,
};

const char *dws_tensor_type_name(int32_t t)
{
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
        "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
        "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ", "UINT4", "INT4",
    };
    if (t < 0 || (size_t)t >= sizeof names / sizeof names[0]) return "UNKNOWN";
    return names[t];
}

int dws_tensor_type_is_float(int32_t t)
{
    return t == T_FLOAT || t == T_DOUBLE || t == T_FLOAT16 || t == T_BFLOAT16;
}

static size_t elem_size(int32_t t)
{
    return t == T_DOUBLE ? 8 : t == T_FLOAT ? 4 : 2;
}

static int uses_raw(const Onnx__TensorProto *t)
{
    return t->has_raw_data && t->raw_data.len > 0;
}

/* Entries in the typed field that holds this data type. */
static size_t typed_count(const Onnx__TensorProto *t)
{
    switch (t->data_type) {
    case T_FLOAT: return t->n_float_data;
    case T_DOUBLE: return t->n_double_data;
    default: return t->n_int32_data;
    }
}

int dws_tensor_check_data(const Onnx__TensorProto *t, int64_t count, const char *what, dws_error *err)
{
    if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        t->n_external_data > 0) {
        dws_error_set(err, DWS_E_EXTERNAL_DATA, "%s keeps its data in an external file", what);
        return -1;
    }
    if (t->segment) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s is a segment of a larger tensor", what);
        return -1;
    }
    if (!t->has_data_type || !dws_tensor_type_is_float(t->data_type)) {
        dws_error_set(err, DWS_E_NOT_AN_MLP,
                      "%s has data type %s; weights must be FLOAT, DOUBLE, FLOAT16 or BFLOAT16", what,
                      t->has_data_type ? dws_tensor_type_name(t->data_type) : "UNDEFINED");
        return -1;
    }
    size_t other = t->n_float_data + t->n_double_data + t->n_int32_data + t->n_int64_data +
                   t->n_uint64_data + t->n_string_data - typed_count(t);
    if (other > 0) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s (%s) holds numbers in a field of another type", what,
                      dws_tensor_type_name(t->data_type));
        return -1;
    }
    size_t want = (size_t)count;
    if (uses_raw(t)) {
        if (typed_count(t) > 0) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s holds its numbers twice (raw_data and %s)", what,
                          dws_tensor_field_name(t));
            return -1;
        }
        size_t esz = elem_size(t->data_type);
        if (t->raw_data.len % esz != 0 || t->raw_data.len / esz != want) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s declares %lld %s values (%zu bytes) but holds %zu bytes",
                          what, (long long)count, dws_tensor_type_name(t->data_type), want * esz,
                          t->raw_data.len);
            return -1;
        }
    } else if (typed_count(t) != want) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s declares %lld values but holds %zu", what,
                      (long long)count, typed_count(t));
        return -1;
    }
    return 0;
}

const char *dws_tensor_field_name(const Onnx__TensorProto *t)
{
    int raw = uses_raw(t);
    switch (t->data_type) {
    case T_FLOAT: return raw ? "raw_data FLOAT" : "float_data FLOAT";
    case T_DOUBLE: return raw ? "raw_data DOUBLE" : "double_data DOUBLE";
    case T_FLOAT16: return raw ? "raw_data FLOAT16" : "int32_data FLOAT16";
    case T_BFLOAT16: return raw ? "raw_data BFLOAT16" : "int32_data BFLOAT16";
    }
    return "unsupported";
}

static double get_elem(const Onnx__TensorProto *t, size_t k)
{
    const uint8_t *raw = uses_raw(t) ? t->raw_data.data : NULL;
    switch (t->data_type) {
    case T_FLOAT: {
        float f;
        if (!raw) return t->float_data[k];
        memcpy(&f, raw + 4 * k, 4);
        return f;
    }
    case T_DOUBLE: {
        double d;
        if (!raw) return t->double_data[k];
        memcpy(&d, raw + 8 * k, 8);
        return d;
    }
    default: {
        uint16_t h;
        if (raw) memcpy(&h, raw + 2 * k, 2);
        else h = (uint16_t)t->int32_data[k];
        return t->data_type == T_FLOAT16 ? dws_half_to_float(h) : dws_bfloat_to_float(h);
    }
    }
}

/* Index in storage of weight-space entry (i, j). */
static size_t storage_index(const dws_tensor_ref *r, int64_t i, int64_t j)
{
    return (size_t)(r->transposed ? j * r->rows + i : i * r->cols + j);
}

int64_t dws_tensor_read(const dws_tensor_ref *r, float *dst)
{
    if (!r->tensor) {
        memset(dst, 0, (size_t)(r->rows * r->cols) * sizeof *dst);
        return -1;
    }
    if (r->tensor->data_type == T_FLOAT && uses_raw(r->tensor) && r->scale == 1.0 && !r->transposed) {
        /* what the loop below gives, (float)(1.0 * f) being f: a copy (torch's layout),
         * storage index k being entry k */
        size_t n = (size_t)(r->rows * r->cols);
        memcpy(dst, r->tensor->raw_data.data, n * sizeof *dst);
        for (size_t k = 0; k < n; k++)
            if (!isfinite(dst[k])) return (int64_t)k;
        return -1;
    }
    int64_t bad = -1;
    for (int64_t i = 0; i < r->rows; i++) {
        for (int64_t j = 0; j < r->cols; j++) {
            size_t k = storage_index(r, i, j);
            float v = (float)(r->scale * get_elem(r->tensor, k));
            dst[i * r->cols + j] = v;
            if (!isfinite(v) && (bad < 0 || (int64_t)k < bad)) bad = (int64_t)k;
        }
    }
    return bad;
}

/* Storage element k of `to` (same type and field as `from`) = element k of from. */
static void copy_elem(const Onnx__TensorProto *from, Onnx__TensorProto *to, size_t k)
{
    if (uses_raw(from)) {
        size_t esz = elem_size(from->data_type);
        memcpy(to->raw_data.data + esz * k, from->raw_data.data + esz * k, esz);
        return;
    }
    switch (from->data_type) {
    case T_FLOAT: to->float_data[k] = from->float_data[k]; break;
    case T_DOUBLE: to->double_data[k] = from->double_data[k]; break;
    default: to->int32_data[k] = from->int32_data[k]; break;
    }
}

/* Stores v as element k; 0, or -1 when v is not finite in the tensor's type (a
 * FLOAT16 above 65504 rounds to infinity: the model would compute with it). */
static int set_elem(Onnx__TensorProto *to, int raw, size_t k, double v)
{
    switch (to->data_type) {
    case T_FLOAT: {
        float f = (float)v;
        if (raw) memcpy(to->raw_data.data + 4 * k, &f, 4);
        else to->float_data[k] = f;
        return isfinite(f) ? 0 : -1;
    }
    case T_DOUBLE:
        if (raw) memcpy(to->raw_data.data + 8 * k, &v, 8);
        else to->double_data[k] = v;
        return isfinite(v) ? 0 : -1;
    default: {
        int half = to->data_type == T_FLOAT16;
        uint16_t h = half ? dws_float_to_half((float)v) : dws_float_to_bfloat((float)v);
        if (raw) memcpy(to->raw_data.data + 2 * k, &h, 2);
        else to->int32_data[k] = h;
        uint16_t exp_all_ones = half ? 0x7c00 : 0x7f80;   /* infinity or NaN */
        return isfinite(v) && (h & exp_all_ones) != exp_all_ones ? 0 : -1;
    }
    }
}

static int not_representable(const Onnx__TensorProto *t, size_t k, double v, dws_error *err)
{
    char name[96];
    dws_safe_copy(name, sizeof name, t->name ? t->name : "");
    dws_error_set(err, DWS_E_NOT_REPRESENTABLE, "tensor '%s' (%s): the new value %g at index %zu does not fit", name,
                  dws_tensor_type_name(t->data_type), v, k);
    return -1;
}

int dws_tensor_rewrite(const dws_tensor_ref *r, const float *prev, const float *next,
                       Onnx__TensorProto *out, void **data, dws_error *err)
{
    const Onnx__TensorProto *t = r->tensor;
    size_t count = (size_t)(r->rows * r->cols);
    int raw = uses_raw(t);
    size_t bytes = raw ? t->raw_data.len : count * (t->data_type == T_DOUBLE ? 8 : 4);
    *out = *t;
    *data = malloc(bytes);
    if (!*data) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu bytes for tensor '%s'", bytes,
                      t->name ? t->name : "");
        return -1;
    }
    if (raw) out->raw_data.data = *data;
    else if (t->data_type == T_FLOAT) out->float_data = *data;
    else if (t->data_type == T_DOUBLE) out->double_data = *data;
    else out->int32_data = *data;

    if (t->data_type == T_FLOAT && raw && r->scale == 1.0 && !r->transposed) {
        /* what the loop below gives: an entry equal to prev keeps its stored bits,
         * which are next's; any other is (float)(next / 1.0), next itself, and must
         * be finite (storage index k is entry k) */
        memcpy(*data, next, count * sizeof(float));
        for (size_t k = 0; k < count; k++) {
            if (!isfinite(next[k]) && memcmp(&prev[k], &next[k], sizeof(float)) != 0) {
                free(*data);
                *data = NULL;
                return not_representable(t, k, (double)next[k], err);
            }
        }
        return 0;
    }
    for (int64_t i = 0; i < r->rows; i++) {
        for (int64_t j = 0; j < r->cols; j++) {
            size_t w = (size_t)(i * r->cols + j), k = storage_index(r, i, j);
            if (memcmp(&prev[w], &next[w], sizeof(float)) == 0) {
                copy_elem(t, out, k);
            } else if (set_elem(out, raw, k, (double)next[w] / r->scale) != 0) {
                free(*data);
                *data = NULL;
                return not_representable(t, k, (double)next[w], err);
            }
        }
    }
    return 0;
}

int dws_tensor_read_ints(const Onnx__TensorProto *t, int64_t *out, size_t max, size_t *n, int *rank,
                         const char *what, dws_error *err)
{
    int32_t type = t->has_data_type ? t->data_type : 0;
    size_t esz = type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? 8 : type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ? 4
               : type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? 1 : 0;
    if (esz == 0) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "%s has data type %s; an integer was expected", what,
                      dws_tensor_type_name(type));
        return -1;
    }
    if (t->n_dims > 1 || (t->n_dims == 1 && (t->dims[0] < 0 || (uint64_t)t->dims[0] > max)) ||
        (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        t->n_external_data > 0 || t->segment) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "%s must be a scalar or a vector of at most %zu values held in the file",
                      what, max);
        return -1;
    }
    size_t count = t->n_dims ? (size_t)t->dims[0] : 1;
    size_t typed = esz == 8 ? t->n_int64_data : t->n_int32_data;
    size_t other = t->n_float_data + t->n_double_data + t->n_int32_data + t->n_int64_data + t->n_uint64_data +
                   t->n_string_data - typed;
    int raw = uses_raw(t);
    if (other > 0 || (raw ? typed != 0 || t->raw_data.len != count * esz : typed != count)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s declares %zu values but holds others", what, count);
        return -1;
    }
    for (size_t k = 0; k < count; k++) {
        if (!raw) {
            out[k] = esz == 8 ? t->int64_data[k] : t->int32_data[k];
        } else if (esz == 8) {
            memcpy(&out[k], t->raw_data.data + 8 * k, 8);
        } else if (esz == 4) {
            int32_t v;
            memcpy(&v, t->raw_data.data + 4 * k, 4);
            out[k] = v;
        } else {
            out[k] = t->raw_data.data[k];
        }
    }
    *n = count;
    *rank = (int)t->n_dims;
    return 0;
}

int dws_tensor_create(char *name, int32_t data_type, size_t n_dims, int64_t *dims, const float *values,
                      size_t count, double scale, Onnx__TensorProto *out, void **data, dws_error *err)
{
    onnx__tensor_proto__init(out);
    out->name = name;
    out->has_data_type = 1;
    out->data_type = data_type;
    out->n_dims = n_dims;
    out->dims = dims;
    size_t bytes = count * elem_size(data_type);
    *data = malloc(bytes ? bytes : 1);
    if (!*data) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu bytes for tensor '%s'", bytes, name);
        return -1;
    }
    out->has_raw_data = 1;
    out->raw_data.len = bytes;
    out->raw_data.data = *data;
    for (size_t k = 0; k < count; k++) {
        if (set_elem(out, 1, k, (double)values[k] / scale) != 0) {
            free(*data);
            *data = NULL;
            return not_representable(out, k, (double)values[k], err);
        }
    }
    return 0;
}
