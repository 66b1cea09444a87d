#include "model.h"

#include <string.h>

#include "base/base.h"

int dws_adapt_onnx(const dws_model *m, const dws_onnx *onnx, const dws_run_opts *opts, dws_mlp *adapted,
                   uint8_t **out, size_t *out_len, dws_error *err)
{
    dws_mlp local;
    dws_mlp *w = adapted ? adapted : &local;
    memset(w, 0, sizeof *w);
    dws_pixel_frame f;   /* the adapter reads the pixel frame: pixel_frame.c */
    if (dws_pixel_frame_open(&f, onnx, opts ? opts->input_norm : NULL, err) != 0) return -1;
    int rc = dws_adapter_apply(m, dws_pixel_frame_weights(&f, onnx), w, opts, err);
    if (rc == 0) rc = dws_pixel_frame_unfold(&f, onnx, w, err);
    dws_pixel_frame_close(&f);
    if (rc != 0) {
        dws_mlp_free(w);
        return -1;
    }
    dws_adapt_domain domain;
    char spec[256];
    if (dws_model_resolve_domain(m, opts ? opts->domain : NULL, &domain, err) != 0) {
        dws_mlp_free(w);
        return -1;
    }
    dws_adapt_domain_format(&domain, spec, sizeof spec);
    const dws_kv meta[] = {
        {"dwsnet.adapter", dws_model_id(m)},
        {"dwsnet.version", DWS_VERSION},
        {"dwsnet.domain", spec},
        {"dwsnet.domain_estimate", opts ? opts->domain_note : NULL},
    };
    int n_meta = sizeof meta / sizeof meta[0] - (opts && opts->domain_note ? 0 : 1);
    rc = dws_onnx_encode(onnx, w, meta, n_meta, out, out_len, err);
    if (!adapted || rc != 0) dws_mlp_free(w);
    return rc;
}
