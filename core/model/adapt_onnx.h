/* Adapting a decoded ONNX classifier and writing the result back into its own
 * tensors, with provenance in metadata_props: the one definition of what
 * `dwsnet adapt` and dwsnetd's /adapt return, so the two stay byte-identical. */
#ifndef DWS_ADAPT_ONNX_H
#define DWS_ADAPT_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"
#include "dws_model.h"
#include "mlp/mlp.h"
#include "onnx/onnx_codec.h"

/* *out (malloc'd, *out_len bytes) is the adapted model. adapted (may be NULL)
 * receives the adapted weights; the caller frees them with dws_mlp_free. */
int dws_adapt_onnx(const dws_model *m, const dws_onnx *onnx, const dws_run_opts *opts, dws_mlp *adapted,
                   uint8_t **out, size_t *out_len, dws_error *err);

#endif
