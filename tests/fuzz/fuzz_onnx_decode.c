/* libFuzzer target for the ONNX codec: decode (protobuf parse, MLP recognition,
 * weight reading) under tight limits, then, for whatever decodes, the info report
 * and an encode of the decoded weights, which must decode again to the same shape
 * and the same weights bit for bit.
 * Seeds: tests/fuzz/corpus/onnx/ (and /usr/share/libonnx-testdata when present). */
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_codec.h"
#include "fuzz_target.h"

/* Small enough that a mutated dimension cannot make one input take seconds; the
 * rejection paths are the same ones the defaults guard. */
static void fuzz_limits(dws_onnx_limits *lim)
{
    dws_onnx_limits_default(lim);
    lim->max_bytes = 1 << 20;
    lim->max_params = 1 << 20;
    lim->max_dim = 1 << 16;
}

static void check_info(const dws_onnx_info *info)
{
    /* Strings are promised printable and terminated. */
    const char *s[] = {info->producer_name, info->graph_name, info->input_name, info->output_name};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        for (const char *p = s[i]; *p; p++)
            if (*p < ' ' || *p > '~') abort();
    if (info->input_rank < 0 || info->input_rank > DWS_ONNX_MAX_RANK) abort();
    if (!dws_head_name(info->head)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dws_onnx_limits lim;
    fuzz_limits(&lim);
    dws_error err;
    dws_error_clear(&err);
    dws_onnx *m = dws_onnx_decode(data, size, &lim, &err);
    if (!m) {
        if (!err.code) abort();   /* every failure names its code */
        return 0;
    }
    check_info(dws_onnx_get_info(m));
    const dws_mlp *w = dws_onnx_weights(m);
    uint8_t *out = NULL;
    size_t out_len = 0;
    dws_kv meta = {"dwsnet.fuzz", "1"};
    /* The encoder may refuse (e.g. the output would exceed what it writes), but never
     * produce something its own decoder rejects or reads differently. */
    if (dws_onnx_encode(m, w, &meta, 1, &out, &out_len, &err) == 0) {
        dws_onnx_limits again_lim;
        fuzz_limits(&again_lim);
        again_lim.max_bytes = out_len;
        dws_onnx *again = dws_onnx_decode(out, out_len, &again_lim, &err);
        if (!again) abort();
        const dws_mlp *w2 = dws_onnx_weights(again);
        if (!dws_mlp_same_shape(w, w2)) abort();
        if (memcmp(w->params, w2->params, w->n_params * sizeof *w->params)) abort();
        dws_onnx_free(again);
        free(out);
    }
    dws_onnx_free(m);
    return 0;
}
