/* What a request needs on a worker, computed before the work runs: the decoded
 * model (protobuf-c's parse and the weights, already bounded by the decoder), the
 * network's inference and, for /adapt, the encoded answer. Compared with
 * --work-memory: a request above it gets 413 too_large saying both numbers. */
#ifndef DWSD_WORK_NEED_H
#define DWSD_WORK_NEED_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "onnx/onnx_codec.h"

typedef struct {
    size_t decode, run, encode, total;
} dwsd_work_need;

/* For running m on the decoded onnx (run and encode 0 when m is NULL: /v1/inspect),
 * norm its normalisation outside the model (or NULL); run counts the fold into
 * the model's input frame. 0, or -1 with err set when m does not read this shape. */
int dwsd_work_need_of(const dws_model *m, const dws_onnx *onnx, const dws_input_norm *norm, int adapt, int threads,
                      dwsd_work_need *need, dws_error *err);
/* The same for n requests to m of the same widths run as one batch: each one's
 * decoded model, fold and answer, and the batch's network
 * (dws_model_run_batch_bytes). SIZE_MAX when m does not read them. */
size_t dwsd_work_need_batch(const dws_model *m, const dws_onnx *const *onnx, const dws_input_norm *const *norm, int n,
                            int adapt, int threads);

/* The widest hidden layers (all of one width, FLOAT weights in raw_data, as torch
 * exports them) a request to m may have within work_memory; 0 when none fits. */
int64_t dwsd_max_hidden_width(const dws_model *m, size_t work_memory, int threads);

#endif
