#include "work_need.h"

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

int dwsd_work_need_of(const dws_model *m, const dws_onnx *onnx, const dws_input_norm *norm, int adapt, int threads,
                      dwsd_work_need *need, dws_error *err)
{
    const dws_mlp *w = dws_onnx_weights(onnx);
    *need = (dwsd_work_need){.decode = dws_onnx_decoded_bytes(onnx)};
    if (m) {
        dws_run_opts opts = {.threads = threads};
        if (!(need->run = dws_model_run_bytes(m, w->n_layers, w->widths, &opts, err))) return -1;
        need->run = sat_add(need->run, dws_pixel_frame_bytes(onnx, norm));
        if (adapt) need->encode = dws_onnx_encode_bytes(onnx);
    }
    need->total = sat_add(sat_add(need->decode, need->run), need->encode);
    return 0;
}

size_t dwsd_work_need_batch(const dws_model *m, const dws_onnx *const *onnx, const dws_input_norm *const *norm, int n,
                            int adapt, int threads)
{
    const dws_mlp *w = dws_onnx_weights(onnx[0]);
    dws_run_opts opts = {.threads = threads};
    dws_error err;
    dws_error_clear(&err);
    size_t total = dws_model_run_batch_bytes(m, w->n_layers, w->widths, n, &opts, &err);
    if (!total) return SIZE_MAX;
    for (int i = 0; i < n; i++) {
        total = sat_add(total, dws_onnx_decoded_bytes(onnx[i]));
        total = sat_add(total, dws_pixel_frame_bytes(onnx[i], norm[i]));
        if (adapt) total = sat_add(total, dws_onnx_encode_bytes(onnx[i]));
    }
    return total;
}

/* A FLOAT model in raw_data: parsed once (its bytes copied), decoded to floats,
 * rewritten and serialized: four times its weights, and some. */
static size_t float_request_need(const dws_model *m, int64_t width, int threads)
{
    const dws_signature *sig = dws_model_signature(m);
    const int L = sig->depth_max;   /* the deepest MLP it reads needs the most */
    int64_t widths[DWS_MAX_LAYERS + 1];
    widths[0] = sig->d0;
    for (int l = 1; l < L; l++) widths[l] = width;
    widths[L] = sig->dL;
    dws_error err;
    dws_error_clear(&err);
    dws_run_opts opts = {.threads = threads};
    size_t run = dws_model_run_bytes(m, L, widths, &opts, &err);
    if (!run) return SIZE_MAX;
    size_t weights = sizeof(float) * dws_mlp_param_count(L, widths);
    int adapter = dws_model_get_kind(m) == DWS_MODEL_ADAPTER;
    return sat_add(run, (adapter ? 4 : 2) * weights + ((size_t)1 << 20));
}

int64_t dwsd_max_hidden_width(const dws_model *m, size_t work_memory, int threads)
{
    if (dws_model_signature(m)->depth < 2) return 0;
    int64_t lo = 0, hi = (int64_t)1 << 24;   /* the codec's limit on any width is below this */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (float_request_need(m, mid, threads) <= work_memory) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}
