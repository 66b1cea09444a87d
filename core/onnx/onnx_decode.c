/* Decoding: bytes -> ModelProto (memory-bounded) -> recognised MLP -> weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "base/base.h"

void dws_onnx_limits_default(dws_onnx_limits *lim)
{
    lim->max_bytes = (size_t)256 << 20;
    lim->max_params = (int64_t)64 << 20;
    lim->max_dim = (int64_t)1 << 20;
    lim->max_layers = DWS_MAX_LAYERS;
    lim->max_nodes = 4096;
    lim->max_memory = 0;
}

/* protobuf-c allocates per message and per repeated field, so a hostile file of
 * many empty sub-messages can expand many times over. This allocator charges every
 * block to a budget proportional to the input and fails once it is spent. */
typedef union {
    size_t size;
    max_align_t align;
} block_header;

/* What a block really costs: its header and malloc's own (two words). */
#define BLOCK_OVERHEAD (sizeof(block_header) + 2 * sizeof(size_t))

static void *budget_alloc(void *data, size_t size)
{
    dws_pb_budget *b = data;
    if (size > SIZE_MAX - BLOCK_OVERHEAD || size + BLOCK_OVERHEAD > b->budget - b->used) {
        b->exceeded = 1;
        return NULL;
    }
    block_header *h = malloc(sizeof *h + size);
    if (!h) {
        b->out_of_memory = 1;
        return NULL;
    }
    h->size = size;
    b->used += size + BLOCK_OVERHEAD;
    return h + 1;
}

static void budget_free(void *data, void *p)
{
    if (!p) return;
    block_header *h = (block_header *)p - 1;
    ((dws_pb_budget *)data)->used -= h->size + BLOCK_OVERHEAD;
    free(h);
}

/* A real model parses into about its own size (the raw bytes are copied once) plus
 * per-message overhead; 4x leaves room for packed integers, which widen. */
static size_t unpack_budget(size_t len)
{
    size_t fixed = (size_t)16 << 20;
    return len > (SIZE_MAX - fixed) / 4 ? SIZE_MAX : 4 * len + fixed;
}

static void resolve_limits(const dws_onnx_limits *in, dws_onnx_limits *out)
{
    if (in) *out = *in;
    else dws_onnx_limits_default(out);
    if (out->max_layers > DWS_MAX_LAYERS) out->max_layers = DWS_MAX_LAYERS;
}

/* NaN or infinity in a weight would flow through the DWSNet into every adapted
 * weight and the embedding: refused, naming where. */
static int non_finite(const dws_tensor_ref *r, int64_t index, dws_error *err)
{
    char name[96];
    dws_safe_copy(name, sizeof name, r->tensor->name ? r->tensor->name : "");
    dws_error_set(err, DWS_E_BAD_DATA, "tensor '%s' (%s) holds a value that is not a finite float at index %lld",
                  name, dws_tensor_field_name(r->tensor), (long long)index);
    return -1;
}

static int read_weights(dws_onnx *m, dws_error *err)
{
    const dws_mlp_layout *ly = &m->layout;
    if (dws_mlp_init(&m->weights, ly->n_layers, ly->widths, err) != 0) return -1;
    for (int l = 0; l < ly->n_layers; l++) {
        m->weights.act[l] = ly->act[l];
        m->weights.leaky_alpha[l] = ly->leaky_alpha[l];
        int64_t bad = dws_tensor_read(&ly->weight[l], m->weights.W[l]);
        if (bad >= 0) return non_finite(&ly->weight[l], bad, err);
        if ((bad = dws_tensor_read(&ly->bias[l], m->weights.b[l])) >= 0) return non_finite(&ly->bias[l], bad, err);
    }
    return 0;
}

dws_onnx *dws_onnx_decode(const void *buf, size_t len, const dws_onnx_limits *limits, dws_error *err)
{
    dws_onnx_limits lim;
    resolve_limits(limits, &lim);
    if (len > lim.max_bytes) {
        dws_error_set(err, DWS_E_TOO_LARGE, "the model is %zu bytes (limit %zu)", len, lim.max_bytes);
        return NULL;
    }
    const char *field;
    switch (dws_protobuf_check(buf, len, &onnx__model_proto__descriptor, DWS_ONNX_MAX_NESTING, &field)) {
    case DWS_WIRE_OK: break;
    case DWS_WIRE_NUL_IN_STRING:
        dws_error_set(err, DWS_E_INVALID_MODEL, "a %s holds a NUL byte; ONNX names are identifiers", field);
        return NULL;
    case DWS_WIRE_TOO_DEEP:
        dws_error_set(err, DWS_E_TOO_LARGE, "the model nests messages more than %d levels deep", DWS_ONNX_MAX_NESTING);
        return NULL;
    case DWS_WIRE_FIELD_ZERO:
        dws_error_set(err, DWS_E_INVALID_PROTOBUF, "not a valid ONNX ModelProto (a field numbered 0)");
        return NULL;
    }
    dws_onnx *m = calloc(1, sizeof *m);
    if (!m) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the model");
        return NULL;
    }
    m->budget.budget = unpack_budget(len);
    if (lim.max_memory && m->budget.budget > lim.max_memory) m->budget.budget = lim.max_memory;
    m->alloc = (ProtobufCAllocator){.alloc = budget_alloc, .free = budget_free, .allocator_data = &m->budget};
    m->model = onnx__model_proto__unpack(&m->alloc, len, buf);
    if (!m->model) {
        if (m->budget.out_of_memory)
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory parsing the %zu-byte model", len);
        else if (m->budget.exceeded)
            dws_error_set(err, DWS_E_TOO_LARGE, "parsing the %zu-byte model needs more than %zu bytes of memory%s",
                          len, m->budget.budget, m->budget.budget == lim.max_memory ? " (the memory limit)" : "");
        else
            dws_error_set(err, DWS_E_INVALID_PROTOBUF, "not a valid ONNX ModelProto (protobuf parse failed)");
        goto fail;
    }
    if (!m->model->graph || !m->model->has_ir_version) {
        dws_error_set(err, DWS_E_INVALID_PROTOBUF, "not an ONNX model: it has no %s",
                      m->model->graph ? "ir_version" : "graph");
        goto fail;
    }
    if (m->model->ir_version < 3) {
        dws_error_set(err, DWS_E_INVALID_PROTOBUF, "ONNX IR version %lld is not supported (3 and later are)",
                      (long long)m->model->ir_version);
        goto fail;
    }
    if (dws_onnx_recognise(m->model, &lim, &m->layout, &m->info, err) != 0) goto fail;
    size_t weights = sizeof(float) * dws_mlp_param_count(m->layout.n_layers, m->layout.widths);
    if (lim.max_memory && (weights > lim.max_memory || m->budget.used > lim.max_memory - weights)) {
        dws_error_set(err, DWS_E_TOO_LARGE, "decoding needs %zu bytes (parse %zu, weights %zu), more than the %zu allowed",
                      m->budget.used + weights, m->budget.used, weights, lim.max_memory);
        goto fail;
    }
    if (read_weights(m, err) != 0 || dws_onnx_build_preprocess(m, err) != 0) goto fail;
    return m;
fail:
    dws_onnx_free(m);
    return NULL;
}

dws_onnx *dws_onnx_decode_file(const char *path, const dws_onnx_limits *limits, dws_error *err)
{
    dws_onnx_limits lim;
    resolve_limits(limits, &lim);
    size_t len;
    uint8_t *buf = dws_read_file(path, lim.max_bytes, &len, err);
    if (!buf) return NULL;
    dws_onnx *m = dws_onnx_decode(buf, len, &lim, err);
    free(buf);
    return m;
}

void dws_onnx_free(dws_onnx *m)
{
    if (!m) return;
    if (m->model) onnx__model_proto__free_unpacked(m->model, &m->alloc);
    dws_mlp_free(&m->weights);
    dws_input_affine_free(&m->pre);
    free(m);
}

const dws_mlp *dws_onnx_weights(const dws_onnx *m)
{
    return &m->weights;
}

size_t dws_onnx_decoded_bytes(const dws_onnx *m)
{
    return sizeof *m + m->budget.used + m->weights.n_params * sizeof(float);
}

const dws_onnx_info *dws_onnx_get_info(const dws_onnx *m)
{
    return &m->info;
}
