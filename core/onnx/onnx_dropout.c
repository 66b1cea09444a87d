/* Dropout on the chain, as torch.onnx.export writes it for a model exported in
 * training mode: the identity at inference, so the MLP passes through it. Its mask
 * output must be unused; ratio and training_mode (inputs since opset 12) must be
 * constants. A training_mode of true is counted: a runtime that honours it drops
 * units at random (onnxruntime does with graph optimizations off; its default
 * optimizer removes Dropout), which dwsnet's forward never does. */
#include <stdio.h>

#include "onnx_walk.h"

int dws_walk_dropout(dws_walker *w, int ni, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160], q[96];
    dws_walk_label(w, ni, lab, sizeof lab);
    if (n->n_output < 1 || n->n_output > 2 || !n->output[0][0]) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Dropout node %s has %zu outputs", lab, n->n_output);
        return -1;
    }
    if (n->n_output == 2 && n->output[1][0]) {
        const dws_graph_tensor *mask = dws_graph_find(&w->gr, n->output[1]);
        if (mask->n_consumers > 0 || mask->is_output) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "Dropout node %s: its mask '%s' is used; only the data may go on",
                          lab, (dws_safe_copy(q, sizeof q, n->output[1]), q));
            return -1;
        }
    }
    const Onnx__TensorProto *t;
    if (n->n_input >= 2 && n->input[1][0] && dws_graph_shared_constant(&w->gr, n->input[1], "Dropout ratio", &t, err) != 0)
        return -1;
    int training = 0;
    if (n->n_input >= 3 && n->input[2][0]) {
        int64_t mode;
        size_t count;
        int rank;
        char what[200];
        snprintf(what, sizeof what, "training_mode of Dropout node %s", lab);
        if (dws_graph_shared_constant(&w->gr, n->input[2], "Dropout training_mode", &t, err) != 0 ||
            dws_tensor_read_ints(t, &mode, 1, &count, &rank, what, err) != 0)
            return -1;
        if (count != 1) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "%s holds no value", what);
            return -1;
        }
        training = mode != 0;
    }
    w->info->dropout_nodes++;
    w->info->dropout_training += training;
    return 0;
}
