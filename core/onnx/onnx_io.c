/* The MLP's input (type, shape, Flatten to [N, d0]) and output. */
#include <stdio.h>
#include <string.h>

#include "onnx_walk.h"

static const Onnx__ValueInfoProto *value_info(const Onnx__ValueInfoProto *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (list[i]->name && !strcmp(list[i]->name, name)) return list[i];
    return NULL;
}

static const Onnx__TypeProto__Tensor *tensor_type(const Onnx__ValueInfoProto *vi)
{
    if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return NULL;
    return vi->type->tensor_type;
}

/* Type and shape of the graph input, into info (dims -1 when not a fixed size). */
int dws_walk_read_input(dws_walker *w, const dws_graph_tensor *in, dws_error *err)
{
    char q[96];
    const Onnx__ValueInfoProto *vi = value_info((const Onnx__ValueInfoProto *const *)w->g->input, w->g->n_input, in->name);
    if (vi && vi->type && vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "input '%s' is not a tensor", (dws_safe_copy(q, sizeof q, in->name), q));
        return -1;
    }
    const Onnx__TypeProto__Tensor *tt = tensor_type(vi);
    snprintf(w->info->input_type, sizeof w->info->input_type, "UNKNOWN");
    if (tt && tt->has_elem_type) {
        if (!dws_tensor_type_is_float(tt->elem_type)) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "input '%s' has type %s; an MLP classifier takes floats",
                          (dws_safe_copy(q, sizeof q, in->name), q), dws_tensor_type_name(tt->elem_type));
            return -1;
        }
        snprintf(w->info->input_type, sizeof w->info->input_type, "%s", dws_tensor_type_name(tt->elem_type));
    }
    if (tt && tt->shape) {
        if (tt->shape->n_dim > DWS_ONNX_MAX_RANK) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "input '%s' has rank %zu", (dws_safe_copy(q, sizeof q, in->name), q),
                          tt->shape->n_dim);
            return -1;
        }
        w->info->input_rank = (int)tt->shape->n_dim;
        for (size_t d = 0; d < tt->shape->n_dim; d++) {
            const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
            int fixed = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value > 0;
            w->info->input_dims[d] = fixed ? dim->dim_value : -1;
        }
    }
    return 0;
}

/* The product of the input's dims after the batch axis, or -1 if one is dynamic. */
static int64_t input_features(const dws_onnx_info *info)
{
    int64_t p = 1;
    for (int d = 1; d < info->input_rank; d++) {
        if (info->input_dims[d] < 0 || __builtin_mul_overflow(p, info->input_dims[d], &p)) return -1;
    }
    return p;
}

int dws_walk_flatten(dws_walker *w, int ni, dws_error *err)
{
    int64_t axis;
    if (dws_walk_attr_int(w, ni, "axis", 1, &axis, err) != 0) return -1;
    int rank = w->info->input_rank;
    if (axis == 1 || (axis < 0 && rank > 0 && axis + rank == 1)) return 0;
    char lab[160];
    dws_error_set(err, DWS_E_NOT_AN_MLP, "Flatten node %s flattens from axis %lld; an MLP input flattens from axis 1",
                  dws_walk_label(w, ni, lab, sizeof lab), (long long)axis);
    return -1;
}

/* The input feeds d_0 features to the first layer, and the output has d_L classes. */
int dws_walk_check_io(const dws_walker *w, const dws_graph_tensor *out, dws_error *err)
{
    const dws_onnx_info *info = w->info;
    int64_t d0 = w->layout->widths[0], dL = w->layout->widths[w->layout->n_layers];
    int64_t features = input_features(info);
    if (!info->input_flatten && info->input_rank != 0 && info->input_rank != 2) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "input '%s' has rank %d and no Flatten or Reshape; a layer needs [N, %lld]",
                      info->input_name, info->input_rank, (long long)d0);
        return -1;
    }
    if ((info->input_rank >= 2 && features > 0 && features != d0) || (w->reshape_d0 > 0 && w->reshape_d0 != d0)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "input '%s' gives %lld features but the first layer takes %lld",
                      info->input_name, (long long)(w->reshape_d0 > 0 ? w->reshape_d0 : features), (long long)d0);
        return -1;
    }
    const Onnx__TypeProto__Tensor *tt =
        tensor_type(value_info((const Onnx__ValueInfoProto *const *)w->g->output, w->g->n_output, out->name));
    if (tt && tt->shape && tt->shape->n_dim > 0) {
        const Onnx__TensorShapeProto__Dimension *last = tt->shape->dim[tt->shape->n_dim - 1];
        int fixed = last->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (tt->shape->n_dim != 2 || (fixed && last->dim_value != dL)) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "output '%s' is declared with rank %zu and %lld classes, but the last layer has %lld",
                          info->output_name, tt->shape->n_dim, fixed ? (long long)last->dim_value : -1LL, (long long)dL);
            return -1;
        }
    }
    return 0;
}
