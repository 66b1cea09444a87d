/* Building ONNX models in tests: a small MLP from dws_onnx_build unpacked with
 * malloc, so that tests (and the shape fuzz target) can swap in nodes,
 * attributes, initializers and strings before packing it again. Failures that
 * only a broken test could cause abort. */
#ifndef DWS_TEST_HELPER_ONNX_H
#define DWS_TEST_HELPER_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "mlp/mlp.h"

char *ho_strdup(const char *s);
/* Replaces a malloc'd string field. */
void ho_set_str(char **field, const char *v);

/* Deterministic weights in [-1, 1). */
void ho_fill_weights(dws_mlp *w, unsigned seed);
/* dws_onnx_build of an MLP of these widths, every hidden layer act. */
void ho_build(const int64_t *widths, int n_layers, dws_activation act, uint8_t **out, size_t *len);
Onnx__ModelProto *ho_unpack(const uint8_t *buf, size_t len);
/* Orders g's nodes so that each comes after the nodes it reads from, as ONNX
 * requires (tests append nodes in any order); a cycle is left as it is. */
void ho_toposort(Onnx__GraphProto *g);
/* Packs mp (nodes sorted) into a malloc'd buffer (one spare byte) and frees mp. */
uint8_t *ho_pack(Onnx__ModelProto *mp, size_t *len);
/* The same, mp kept (its nodes sorted). */
uint8_t *ho_pack_keep(Onnx__ModelProto *mp, size_t *len);

/* A ReLU MLP as dws_onnx_build writes it:
 *   nodes  0 Flatten, 1 Gemm, 2 Relu, 3 Gemm, 4 Relu, 5 Gemm -> "logits"
 *   inits  0 1.weight, 1 1.bias, 2 3.weight, 3 3.bias, 4 5.weight, 5 5.bias
 * ho_base_model() is 6-5-4-3. */
Onnx__ModelProto *ho_base_model_widths(const int64_t *widths, int n_layers);
Onnx__ModelProto *ho_base_model(void);

/* A node named after its one output, reading the NULL-terminated inputs in. */
Onnx__NodeProto *ho_node_n(Onnx__GraphProto *g, const char *op, const char *const *in, const char *out);
Onnx__NodeProto *ho_node(Onnx__GraphProto *g, const char *op, const char *in0, const char *in1, const char *out);
/* A new attribute (has_type set, type and value left to the caller). */
Onnx__AttributeProto *ho_attr(Onnx__NodeProto *n, const char *name);
/* Drops every attribute of n (when its op_type is changed to another operator). */
void ho_clear_attrs(Onnx__NodeProto *n);
Onnx__AttributeProto *ho_attr_int(Onnx__NodeProto *n, const char *name, int64_t v);
void ho_float_initializer(Onnx__GraphProto *g, const char *name, int64_t n);
/* An INT64 initializer: a vector of n values, or a scalar when n is 0 (value v[0]). */
void ho_int_initializer(Onnx__GraphProto *g, const char *name, int n, const int64_t *v);
void ho_ints(Onnx__GraphProto *g, const char *name, int64_t v);   /* [v] */

/* ho_base_model with its Flatten turned into Reshape(input, "shape") and the input
 * declared with the given dims (-1: dynamic; dim 0 is always the dynamic batch). */
Onnx__ModelProto *ho_reshape_model(const int64_t *dims, int rank);
void ho_unsqueeze(Onnx__GraphProto *g, const char *in, const char *out);
/* out = Shape(input)[index], a scalar (as torch writes x.size(index)), or unsqueezed to [1]. */
void ho_dim(Onnx__GraphProto *g, int64_t index, int unsqueeze, const char *out);
/* "shape" = Concat(a, b) along axis 0. */
void ho_concat(Onnx__GraphProto *g, const char *a, const char *b);

#endif
