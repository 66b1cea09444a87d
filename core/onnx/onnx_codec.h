/* ONNX <-> weight-space codec.
 *
 * Decode: parse a ModelProto, recognise an MLP classifier (Flatten/Reshape?, then
 * Gemm | MatMul(+Add) layers with activations between them, optional Softmax /
 * LogSoftmax / Identity head; Identity and Dropout anywhere pass through) and read
 * its weights into a dws_mlp in the layout of docs/design.md section 2, whatever the
 * storage (initializers or Constant nodes, or a Transpose of one; raw_data or typed
 * fields; FLOAT, DOUBLE, FLOAT16; transposed for MatMul and Gemm transB = 0; Gemm
 * alpha/beta folded in). A layer with no bias (nn.Linear(bias=False): Gemm without
 * C, MatMul without Add) reads as b_l = 0. A Reshape's shape may be a constant or
 * computed from the input's Shape, as torch writes x.view(x.size(0), -1).
 * Encode: write new weights into the very same tensors (same names, data type,
 * layout and storage field), leave the rest of the model untouched and record
 * provenance in metadata_props. The one addition: a bias-free layer given a
 * nonzero bias gets a new bias tensor (see dws_onnx_encode).
 *
 * Every size read from the file is checked against the bytes present and against
 * dws_onnx_limits before anything is allocated. Errors use the DWS_E_* codes. */
#ifndef DWS_ONNX_CODEC_H
#define DWS_ONNX_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "mlp/mlp.h"

typedef struct {
    size_t max_bytes;     /* serialized model size; default 256 MiB */
    int64_t max_params;   /* total MLP parameters; default 64 Mi */
    int64_t max_dim;      /* any single width d_l; default 1 Mi */
    int max_layers;       /* Gemm/MatMul layers; default DWS_MAX_LAYERS */
    int max_nodes;        /* graph nodes; default 4096 */
    size_t max_memory;    /* bytes the decoded model may hold (protobuf-c's parse and the
                             weights); checked before each is allocated; 0 = no limit
                             but the parse budget (4 x the input + 16 MiB) */
} dws_onnx_limits;

void dws_onnx_limits_default(dws_onnx_limits *lim);

#define DWS_ONNX_MAX_RANK 8   /* input tensors of higher rank are rejected */

typedef enum { DWS_HEAD_NONE = 0, DWS_HEAD_SOFTMAX, DWS_HEAD_LOG_SOFTMAX, DWS_HEAD_IDENTITY } dws_head;

/* What inspect reports. Strings are copied from the file truncated to fit, with
 * bytes outside printable ASCII replaced by '?' (safe to print and to put in JSON). */
typedef struct {
    char producer_name[64];
    char producer_version[64];
    int64_t ir_version;
    int64_t opset;                 /* default-domain opset */
    char graph_name[128];
    char input_name[128];
    char output_name[128];
    int input_flatten;             /* 1 if the input goes through Flatten or Reshape */
    dws_head head;
    /* Per layer: how it is expressed and where its weights are stored, for `inspect`.
     * layer_op: "Gemm" or "MatMul+Add"; weight_storage e.g. "initializer raw_data FLOAT". */
    char layer_op[DWS_MAX_LAYERS][16];
    int weight_transposed[DWS_MAX_LAYERS];   /* 1 when stored d_{l-1} x d_l */
    char weight_storage[DWS_MAX_LAYERS][64];
    char weight_name[DWS_MAX_LAYERS][128];
    char bias_name[DWS_MAX_LAYERS][128];
    /* Appended by the codec (the fields above are the agreed ones). */
    char input_type[16];                     /* "FLOAT", "DOUBLE", "FLOAT16", "BFLOAT16" */
    int input_rank;                          /* 0 when the model declares no shape */
    int64_t input_dims[DWS_ONNX_MAX_RANK];   /* -1 for a dynamic (named or unknown) dim */
    char bias_storage[DWS_MAX_LAYERS][64];
    double weight_scale[DWS_MAX_LAYERS];     /* Gemm alpha folded into W_l (1 otherwise) */
    double bias_scale[DWS_MAX_LAYERS];       /* Gemm beta folded into b_l (1 otherwise) */
    int bias_stored[DWS_MAX_LAYERS];         /* 0: no bias in the file (bias_name ""); b_l reads as 0 */
    int dropout_nodes;                       /* Dropout nodes passed through as the identity */
    int dropout_training;                    /* of those, with training_mode true (a runtime may drop units) */
    /* Element-wise preprocessing with constants (Sub, Add, Mul, Div) and a Transpose
     * of the data before layer 1, as an expression, e.g. "(x - mean) / std"; "" when none. */
    char preprocess[160];
    int preprocess_permutes;                 /* 1 when it reorders the features */
} dws_onnx_info;

const char *dws_head_name(dws_head h);       /* "none", "softmax", "log_softmax", "identity" */
/* Applies the head in place to n rows of logits (classes values each): what the
 * ONNX model outputs after its last layer. NONE and IDENTITY leave y as it is. */
void dws_head_apply(dws_head h, float *y, size_t n, int64_t classes);

typedef struct dws_onnx dws_onnx;

dws_onnx *dws_onnx_decode(const void *buf, size_t len, const dws_onnx_limits *lim, dws_error *err);
/* Reads a file (bounded by lim->max_bytes) and decodes it. */
dws_onnx *dws_onnx_decode_file(const char *path, const dws_onnx_limits *lim, dws_error *err);
void dws_onnx_free(dws_onnx *m);

const dws_mlp *dws_onnx_weights(const dws_onnx *m);
/* The model's own input preprocessing before layer 1 as a pixel-frame affine map
 * (mlp.h: x' = scale * x[src] + shift over the graph input's features in their
 * stored order), or NULL when there is none. */
const dws_input_affine *dws_onnx_input_affine(const dws_onnx *m);
/* Bytes the decoded model holds: what protobuf-c allocated (with its block
 * overhead), the weights and the bookkeeping. */
size_t dws_onnx_decoded_bytes(const dws_onnx *m);
/* An upper bound of what dws_onnx_encode allocates for new weights of the decoded
 * shape: the rewritten tensors, the copies around them, biases it may add and the
 * serialized output. */
size_t dws_onnx_encode_bytes(const dws_onnx *m);
const dws_onnx_info *dws_onnx_get_info(const dws_onnx *m);

/* The description `dwsnet inspect --json` prints and POST /v1/inspect answers:
 * producer, IR and opset versions, input, output, widths, activations, head,
 * parameter count and, per layer, how its weights are stored. file is the "file"
 * entry (NULL writes null). A cJSON object (cjson/cJSON.h) the caller deletes with
 * cJSON_Delete; NULL when out of memory. */
struct cJSON;
struct cJSON *dws_onnx_inspect_json(const dws_onnx *m, const char *file);

typedef struct {
    const char *key;
    const char *value;
} dws_kv;

/* Serializes the decoded model with w's weights written back in place of the
 * originals; w must have the decoded shape (its activations are not written: the
 * graph's operators stay as they are). Entries of w equal bit for bit to the decoded
 * ones keep their stored bits, so a round trip is exact for every storage type.
 * A layer stored without a bias stays so while w's b_l is all zeros; otherwise it
 * gets a new initializer "<weight name>.dwsnet_bias" (the weight's data type, raw_data;
 * also a graph input below IR version 4): a Gemm reads it as C, a MatMul gets an Add
 * node right after it (the MatMul's output is renamed, the Add writes the old name).
 * Such additions are listed in metadata_props under DWS_ONNX_ADDED_BIAS_KEY.
 * meta entries are added to (or replace same-key entries of) metadata_props.
 * Does not modify m: any number of threads may encode from one decoded model.
 * *out is malloc'd; caller frees. */
#define DWS_ONNX_ADDED_BIAS_KEY "dwsnet.added_bias"
int dws_onnx_encode(const dws_onnx *m, const dws_mlp *w, const dws_kv *meta, size_t n_meta,
                    uint8_t **out, size_t *out_len, dws_error *err);

/* A fresh ONNX model for w, as torch.onnx.export of nn.Sequential(Flatten, Linear,
 * ReLU, ..., Linear) writes it: input "input" [N, d0] with a dynamic batch axis,
 * Gemm(transB=1) layers with FLOAT raw_data initializers, output "logits" [N, dL],
 * opset 13, IR version 7. Hidden activations follow w->act (Relu, LeakyRelu with
 * its alpha, Tanh, Sigmoid; Gelu raises the model to opset 20 / IR 9; identity
 * writes no node); w's last activation must be the identity. Used by the zoo and
 * by tests. */
int dws_onnx_build(const dws_mlp *w, const char *producer, const dws_kv *meta, size_t n_meta,
                   uint8_t **out, size_t *out_len, dws_error *err);

#endif
