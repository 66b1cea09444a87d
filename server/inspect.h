/* POST /v1/inspect: what the codec reads in an uploaded ONNX file, as
 * `dwsnet inspect --json` prints it, plus which loaded models accept it. */
#ifndef DWSD_INSPECT_H
#define DWSD_INSPECT_H

#include "inference.h"
#include "onnx/onnx_codec.h"

/* Runs on a worker like /adapt (same body limit, admission and decoder limits). */
void dwsd_inspect_reply(const dwsd_inference *in, const dws_onnx *onnx, dwsd_reply *out);

#endif
