/* What the core/onnx_*.c files share. Not a public API: everything outside the
 * codec goes through onnx_codec.h. */
#ifndef DWS_ONNX_INTERNAL_H
#define DWS_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "onnx_codec.h"

/* ---- float16 / bfloat16 (onnx_float16.c) ---- */
float dws_half_to_float(uint16_t h);
uint16_t dws_float_to_half(float f);      /* round to nearest even */
float dws_bfloat_to_float(uint16_t h);
uint16_t dws_float_to_bfloat(float f);    /* round to nearest even */

/* ---- string -> int hash table over names owned by the parsed model (onnx_names.c) ---- */
typedef struct {
    const char **keys;
    int *vals;
    size_t cap;    /* power of two, at least twice the entries it was sized for */
} dws_name_table;

int dws_names_init(dws_name_table *t, size_t max_entries, dws_error *err);
void dws_names_free(dws_name_table *t);
int dws_names_find(const dws_name_table *t, const char *key);   /* value, or -1 */
/* Adds key -> val; returns -1 (and adds nothing) when key is already present. */
int dws_names_add(dws_name_table *t, const char *key, int val);

/* ---- a tensor whose numbers we read as floats (onnx_tensor.c) ---- */

/* Where one weight or bias lives and how its storage maps to the weight-space
 * matrix (rows x cols: d_l x d_{l-1} for W_l, d_l x 1 for b_l). */
typedef struct {
    const Onnx__TensorProto *tensor;
    int init_index;     /* index in graph->initializer, or -1 */
    int node_index;     /* Constant node holding the tensor, or -1 */
    int attr_index;     /* that node's 'value' attribute */
    double scale;       /* Gemm alpha (weights) or beta (bias); 1 otherwise */
    int transposed;     /* stored cols x rows (MatMul, Gemm transB = 0) */
    int64_t rows, cols;
} dws_tensor_ref;

const char *dws_tensor_type_name(int32_t data_type);   /* "FLOAT", ..., or "type 7" style */
int dws_tensor_type_is_float(int32_t data_type);      /* FLOAT, DOUBLE, FLOAT16, BFLOAT16 */

/* Checks that t holds exactly `count` numbers of a float type in one storage field
 * and no external or segmented data. what names the tensor in messages. */
int dws_tensor_check_data(const Onnx__TensorProto *t, int64_t count, const char *what, dws_error *err);
/* "raw_data FLOAT", "float_data FLOAT", "int32_data FLOAT16", ... (after check_data). */
const char *dws_tensor_field_name(const Onnx__TensorProto *t);

/* dst (rows x cols, row-major) = scale * stored values (after check_data); zeros
 * when r has no tensor (a layer without a bias). Returns the storage index of the
 * first value that is not a finite float (NaN, infinity, or too large for a float
 * once read or scaled), or -1. */
int64_t dws_tensor_read(const dws_tensor_ref *r, float *dst);

/* Reads a small integer tensor (INT64, INT32 or BOOL; a scalar or a vector of at
 * most max values) into out: *n values, *rank 0 or 1. what names it in messages. */
int dws_tensor_read_ints(const Onnx__TensorProto *t, int64_t *out, size_t max, size_t *n, int *rank,
                         const char *what, dws_error *err);

/* *out = a new tensor of data_type (a float type) with the caller's dims, holding
 * values[i] / scale in raw_data (a fresh malloc'd buffer, returned in *data for
 * the caller to free). */
int dws_tensor_create(char *name, int32_t data_type, size_t n_dims, int64_t *dims, const float *values,
                      size_t count, double scale, Onnx__TensorProto *out, void **data, dws_error *err);

/* *out = a shallow copy of r->tensor whose data (a fresh malloc'd buffer, returned in
 * *data for the caller to free) holds `next` written the way r->tensor stores
 * numbers. Entries where next equals `prev` bit for bit keep their stored bits, so
 * unchanged weights survive a round trip exactly whatever the type or scale. A new
 * value that is not finite in the tensor's type (NaN, or e.g. 70000 in FLOAT16) is
 * refused with DWS_E_NOT_REPRESENTABLE naming the tensor and index (so is one in
 * dws_tensor_create). */
int dws_tensor_rewrite(const dws_tensor_ref *r, const float *prev, const float *next,
                       Onnx__TensorProto *out, void **data, dws_error *err);

/* ---- the graph as tensors with producers and consumers (onnx_graph.c) ---- */
enum { DWS_FROM_INPUT = -1, DWS_FROM_INITIALIZER = -2 };

typedef struct {
    const char *name;
    int producer;       /* node index, DWS_FROM_INPUT or DWS_FROM_INITIALIZER */
    int init_index;     /* when an initializer (IR 3 lists these as inputs too) */
    int is_output;
    int n_consumers;    /* a node reading it twice counts twice */
    int consumers_at;   /* its consumers: graph.consumers[consumers_at ...] */
} dws_graph_tensor;

typedef struct {
    const Onnx__GraphProto *g;
    dws_name_table names;          /* tensor name -> index in tensors */
    dws_graph_tensor *tensors;
    size_t n_tensors;
    int *consumers;                /* node indices, grouped per tensor */
    unsigned char *used;           /* per node: part of the recognised MLP */
} dws_graph;

/* Indexes the graph; rejects duplicate producers, missing tensors and cycles. */
int dws_graph_init(dws_graph *gr, const Onnx__GraphProto *g, dws_error *err);
void dws_graph_free(dws_graph *gr);
const dws_graph_tensor *dws_graph_find(const dws_graph *gr, const char *name);
/* "'name' (Op)" or "#3 (Op)" with unprintable bytes replaced, for messages. */
const char *dws_node_label(const Onnx__NodeProto *n, int index, char *buf, size_t cap);
/* Copies src into dst (cap bytes), replacing bytes outside printable ASCII with '?'. */
void dws_safe_copy(char *dst, size_t cap, const char *src);
/* Free text (doc strings, metadata, producer) is `bytes` in proto/onnx.proto, so
 * that a NUL in it survives a round trip: the same copy from such a field, ... */
void dws_safe_copy_bytes(char *dst, size_t cap, const ProtobufCBinaryData *src);
/* ... comparing one with a C string, and pointing one at a C string (no copy). */
int dws_bytes_is(const ProtobufCBinaryData *b, const char *s);
ProtobufCBinaryData dws_bytes_of(const char *s);

int dws_onnx_default_domain(const char *domain);   /* "", "ai.onnx" or absent */

/* Resolves a constant input (an initializer or a Constant node's 'value') that
 * only its one consumer reads. Marks a Constant node as used. */
int dws_graph_constant(dws_graph *gr, const char *name, const char *role, dws_tensor_ref *ref,
                       dws_error *err);
/* The same for a small operand that several nodes may share (a Dropout ratio). */
int dws_graph_shared_constant(dws_graph *gr, const char *name, const char *role, const Onnx__TensorProto **t,
                              dws_error *err);

/* ---- input preprocessing before layer 1 (onnx_preprocess.c) ---- */
#define DWS_MAX_PRE_STEPS 16
typedef struct {
    char op;                 /* '-', '+', '*', '/': with a constant; 'T': Transpose; 'F': Flatten/Reshape */
    int const_first;         /* the constant is the first operand (k - x) */
    dws_tensor_ref k;        /* the constant (rows = its element count, cols 1) */
    int k_rank;
    int64_t k_dims[DWS_ONNX_MAX_RANK];
    int n_perm;              /* Transpose: perm, batch axis included */
    int64_t perm[DWS_ONNX_MAX_RANK];
} dws_pre_step;

/* ---- recognising the MLP (onnx_recognise.c) ---- */
typedef struct {
    int n_layers;
    int64_t widths[DWS_MAX_LAYERS + 1];
    dws_activation act[DWS_MAX_LAYERS];
    float leaky_alpha[DWS_MAX_LAYERS];
    dws_tensor_ref weight[DWS_MAX_LAYERS], bias[DWS_MAX_LAYERS];   /* bias.tensor NULL: none stored */
    int node[DWS_MAX_LAYERS];      /* the layer's Gemm or MatMul node */
    int n_pre;                     /* preprocessing steps before layer 1, in graph order */
    dws_pre_step pre[DWS_MAX_PRE_STEPS];
} dws_mlp_layout;

int dws_onnx_recognise(const Onnx__ModelProto *model, const dws_onnx_limits *lim,
                       dws_mlp_layout *layout, dws_onnx_info *info, dws_error *err);

/* ---- a bias tensor for bias-free layers given a nonzero bias (onnx_add_bias.c) ---- */
typedef struct dws_bias_patch dws_bias_patch;
/* Extends graph (the encoder's shallow copy of m's graph, its node list indexed as
 * m's) with what w's nonzero biases of bias-free layers need. *patch (NULL when
 * nothing was added) owns every addition: free it after packing. *record is the
 * metadata value listing them (after any earlier list), or NULL. */
int dws_bias_patch_apply(const dws_onnx *m, const dws_mlp *w, Onnx__GraphProto *graph, dws_bias_patch **patch,
                         const ProtobufCBinaryData **record, dws_error *err);
void dws_bias_patch_free(dws_bias_patch *p);

/* ---- protobuf wire pre-scan (onnx_wire.c) ---- */
#define DWS_ONNX_MAX_NESTING 64
/* Whether a message of type d in buf nests sub-messages at most max_depth deep, has
 * no field numbered 0 and no NUL byte in a string field (*field names the field
 * for DWS_WIRE_NUL_IN_STRING; see onnx_wire.c). */
typedef enum { DWS_WIRE_OK = 0, DWS_WIRE_TOO_DEEP, DWS_WIRE_FIELD_ZERO, DWS_WIRE_NUL_IN_STRING } dws_wire_check;
dws_wire_check dws_protobuf_check(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *d, int max_depth,
                                  const char **field);

/* ---- the decoded model (onnx_decode.c) ---- */
typedef struct {
    size_t used, budget;
    int exceeded, out_of_memory;
} dws_pb_budget;

struct dws_onnx {
    Onnx__ModelProto *model;
    ProtobufCAllocator alloc;    /* frees model; allocator_data points at budget */
    dws_pb_budget budget;
    dws_mlp weights;
    dws_mlp_layout layout;
    dws_onnx_info info;
    int has_pre;                 /* preprocessing other than the identity before layer 1 */
    dws_input_affine pre;        /* it, as a pixel-frame affine map (mlp.h) */
};

/* Builds m->pre from m->layout.pre (after the weights are read); fills
 * info->preprocess. */
int dws_onnx_build_preprocess(dws_onnx *m, dws_error *err);

#endif
