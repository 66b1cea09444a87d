/* How much memory one inference takes, computed before it runs (dwsnetd sizes
 * requests with it). Sums what forward_layers (dws_net.c) and the layer passes
 * allocate, with the functions they size their buffers with; the unit test
 * test_ws_memory measures the peak of real runs against it. */
#include <math.h>

#include "dws_layer.h"
#include "input_map.h"
#include "ws.h"
#include "ws_pass.h"

/* Two activations live at a time (keep = 0), each of up to `channels` channels and
 * with its pooled means; the normalised input has one channel. A batch of B
 * networks has B times the tensors and pooled means, and passes of B times the
 * parts. */
size_t dws_net_inference_bytes(const dws_net *net, int n_layers, const int64_t *widths, int batch, int threads,
                               dws_error *err)
{
    const dws_arch *a = &net->arch;
    dws_axes ax;
    dws_ws shape;
    if (n_layers != a->depth || widths[0] != a->d0 || widths[n_layers] != a->dL) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "the network reads MLPs %lld-...-%lld of %d layers",
                      (long long)a->d0, (long long)a->dL, a->depth);
        return 0;
    }
    if (batch < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "a batch of %d networks", batch);
        return 0;
    }
    if (dws_axes_init(&ax, n_layers, widths, net->slots.s[0], err) != 0 ||
        dws_ws_layout(&shape, n_layers, widths, batch, 1, err) != 0)
        return 0;
    const int B = batch, inmap_threads = dws_threads_for_call(threads, DWS_MAX_THREADS);
    threads = dws_threads_for_call(threads, DWS_PASS_PARTS);
    double n = (double)shape.n_floats, c = a->channels;
    double floats = 0;
    floats += n;                                              /* the normalised input x[0] (the input is a view) */
    floats += (double)dws_pool_floats(&ax, B, 1);             /* its pooled means */
    floats += 2 * (n * c + (double)dws_pool_floats(&ax, B, a->channels));   /* activation slots 1 and 2 */
    /* The pass arena and the exec memory grow to their largest request; a growth
     * holds old and new for a moment: the first (one-channel) request is added. */
    size_t arena0 = dws_pass_arena_floats(&ax, B, 1, 0, 1, threads, NULL, NULL), arena = arena0, mem = 0;
    for (int l = 0; l < a->n_dws_layers; l++) {
        size_t lm, la;
        dws_layer_forward_floats(&net->layers[l], &ax, B, threads, &lm, &la);
        if (lm > mem) mem = lm;
        if (la > arena) arena = la;
    }
    floats += (double)arena + (double)(arena > arena0 ? arena0 : 0) + (double)mem;
    if (a->kind == DWS_MODEL_ENCODER) {
        floats += (double)B * a->mlp_hidden;
        if (a->probes)
            floats += (double)B * a->probes * (double)a->dL +
                      (double)dws_probe_ws_floats_for(n_layers, widths, a->probes);
    }
    if (a->input_map)   /* scratch per thread */
        floats += (double)inmap_threads * (double)dws_inmap_scratch_floats(&a->image, a->input_map);
    double bytes = floats * sizeof(float) + (double)dws_pass_blocks_bytes(&ax, B, 1) +
                   (double)dws_pass_blocks_bytes(&ax, B, a->channels) + 65536.0;   /* the state, small arrays */
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)ceil(bytes);
}
