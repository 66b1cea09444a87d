/* dwsnet forward: run an ONNX MLP classifier with the project's own C forward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "onnx/onnx_codec.h"
#include "base/base.h"

#define MAX_INPUT_BYTES ((size_t)1 << 30)

static int run(dws_onnx *m, const float *x, size_t n, const char *out_path, int logits, dws_error *err)
{
    /* The model's own input preprocessing, folded into layer 1: the same function. */
    const dws_input_affine *pre = dws_onnx_input_affine(m);
    dws_mlp folded = {0};
    if (pre && dws_mlp_fold_input(dws_onnx_weights(m), pre, &folded, err) != 0) return -1;
    const dws_mlp *w = pre ? &folded : dws_onnx_weights(m);
    int64_t dL = w->widths[w->n_layers];
    float *y = malloc(n * (size_t)dL * sizeof *y);
    float *scratch = malloc((dws_mlp_scratch_floats(w, (int)n) + 1) * sizeof *scratch);
    int rc = -1;
    if (!y || !scratch) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate outputs for %zu rows", n);
        goto out;
    }
    dws_mlp_forward(w, x, (int)n, y, scratch);
    if (!logits) dws_head_apply(dws_onnx_get_info(m)->head, y, n, dL);
    if (out_path) {
        rc = dws_write_file_atomic(out_path, y, n * (size_t)dL * sizeof *y, err);
    } else {
        for (size_t i = 0; i < n; i++)
            for (int64_t j = 0; j < dL; j++) printf("%.9g%c", y[i * (size_t)dL + (size_t)j], j + 1 < dL ? ' ' : '\n');
        rc = 0;
    }
out:
    free(y);
    free(scratch);
    dws_mlp_free(&folded);
    return rc;
}

int cmd_forward(int argc, char **argv)
{
    forward_opts o;
    int status = cli_parse(&cli_forward, argc, argv, &o);
    if (status >= 0) return status;
    const char *model = o.model, *input = o.input, *out = o.out;
    int logits = o.logits;
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode_file(model, NULL, &err);
    if (!m) return cli_fail("forward", &err);
    size_t len = 0;
    float *x = (float *)dws_read_file(input, MAX_INPUT_BYTES, &len, &err);
    int rc = 1;
    if (x) {
        size_t row = (size_t)dws_onnx_weights(m)->widths[0] * sizeof(float);
        if (len == 0 || len % row != 0)
            dws_error_set(&err, DWS_E_BAD_DATA, "%s holds %zu bytes, not a whole number of %zu-byte rows",
                          input, len, row);
        else
            rc = run(m, x, len / row, out, logits, &err) == 0 ? 0 : 1;
    }
    if (rc != 0) cli_fail("forward", &err);
    free(x);
    dws_onnx_free(m);
    return rc;
}
