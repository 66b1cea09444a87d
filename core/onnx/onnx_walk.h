/* What the MLP recogniser's files share (onnx_recognise.c walks the chain,
 * onnx_layers.c reads layers, onnx_io.c checks the input and output,
 * onnx_ops.c knows the operators). Internal to the codec. */
#ifndef DWS_ONNX_WALK_H
#define DWS_ONNX_WALK_H

#include "onnx_internal.h"

typedef enum {
    OP_UNKNOWN = 0, OP_CONSTANT, OP_FLATTEN, OP_RESHAPE, OP_IDENTITY, OP_DROPOUT, OP_GEMM, OP_MATMUL, OP_ADD,
    OP_ACTIVATION, OP_SOFTMAX, OP_LOG_SOFTMAX, OP_OTHER_ACTIVATION,
    OP_TRANSPOSE,     /* only of a weight, as torch writes a bias-free Linear without constant folding */
    OP_SHAPE_MATH,    /* Shape, Gather, Concat, ...: only in the computation of a Reshape's shape */
} dws_op_kind;

/* State of one recognition: the model, its graph index and what was found so far. */
typedef struct {
    const Onnx__ModelProto *model;
    const Onnx__GraphProto *g;
    const dws_onnx_limits *lim;
    dws_graph gr;
    dws_mlp_layout *layout;
    dws_onnx_info *info;
    int64_t opset;
    int64_t reshape_d0;      /* the feature count a Reshape asks for, or -1 */
    int64_t total_params;
} dws_walker;

/* ---- operators and attributes (onnx_ops.c) ---- */
dws_op_kind dws_op_classify(const Onnx__NodeProto *n, dws_activation *act);
const Onnx__AttributeProto *dws_op_attr(const Onnx__NodeProto *n, const char *name);
const char *dws_walk_label(const dws_walker *w, int ni, char *buf, size_t cap);
int dws_walk_attr_int(const dws_walker *w, int ni, const char *name, int64_t dflt, int64_t *out, dws_error *err);
int dws_walk_attr_float(const dws_walker *w, int ni, const char *name, float dflt, float *out, dws_error *err);
/* An INTS attribute of at most max values: 1 when present (*n values), 0 when absent, -1 on error. */
int dws_walk_attr_ints(const dws_walker *w, int ni, const char *name, int64_t *out, size_t max, size_t *n,
                       dws_error *err);

/* ---- layers (onnx_layers.c) ---- */
int dws_walk_gemm(dws_walker *w, int ni, dws_error *err);
/* MatMul node ni and the bias Add after it; *next_out is the Add's output. */
int dws_walk_matmul(dws_walker *w, int ni, const dws_graph_tensor **next_out, dws_error *err);

/* ---- input and output (onnx_io.c) ---- */
int dws_walk_read_input(dws_walker *w, const dws_graph_tensor *in, dws_error *err);
int dws_walk_flatten(dws_walker *w, int ni, dws_error *err);
int dws_walk_check_io(const dws_walker *w, const dws_graph_tensor *out, dws_error *err);

/* ---- Reshape to [N, d0], its shape constant or computed (onnx_shape.c) ---- */
int dws_walk_reshape(dws_walker *w, int ni, dws_error *err);

/* ---- element-wise preprocessing and Transpose of the data (onnx_preprocess.c) ---- */
/* 1 when node ni is a preprocessing op (Sub, Add, Mul, Div, Transpose). */
int dws_walk_is_preprocess(const dws_walker *w, int ni);
/* Records node ni, which reads the data tensor `data`, as a preprocessing step. */
int dws_walk_preprocess(dws_walker *w, int ni, const char *data, dws_error *err);
/* Records a Flatten/Reshape among the steps. */
int dws_walk_preprocess_flatten(dws_walker *w, int ni, dws_error *err);

/* ---- activations spelt out: GELU with Erf or tanh, SiLU (onnx_gelu.c) ---- */
/* 1 when cur's readers are such a pattern (*out its output, *act which; nodes marked
 * used), 0 when not, -1 on error. */
int dws_walk_act_pattern(dws_walker *w, const dws_graph_tensor *cur, const dws_graph_tensor **out,
                         dws_activation *act, dws_error *err);
/* ---- rules of the ONNX spec (onnx_rules.c, onnx_attr_rules.c): invalid_model ---- */
#define DWS_ONNX_MAX_IR_VERSION 11
int dws_onnx_check_rules(const Onnx__ModelProto *m, int64_t opset, dws_error *err);
int dws_onnx_check_attributes(const Onnx__GraphProto *g, int64_t opset, dws_error *err);

/* ---- Dropout, the identity at inference (onnx_dropout.c) ---- */
int dws_walk_dropout(dws_walker *w, int ni, dws_error *err);

#endif
