#include "model.h"

#include <string.h>

#include "base/base.h"

int dws_adapt_onnx(const dws_model *m, const dws_onnx *onnx, const dws_run_opts *opts, dws_mlp *adapted,
                   uint8_t **out, size_t *out_len, dws_error *err)
{
    dws_mlp local;
    dws_mlp *w = adapted ? adapted : &local;
    memset(w, 0, sizeof *w);
    if (dws_adapter_apply(m, dws_onnx_weights(onnx), w, opts, err) != 0) return -1;
    const dws_kv meta[] = {
        {"dwsnet.adapter", dws_model_id(m)},
        {"dwsnet.version", DWS_VERSION},
    };
    int rc = dws_onnx_encode(onnx, w, meta, sizeof meta / sizeof meta[0], out, out_len, err);
    if (!adapted || rc != 0) dws_mlp_free(w);
    return rc;
}
