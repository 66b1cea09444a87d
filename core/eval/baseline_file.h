/* A trained baseline adapter on disk, so that one training run can be measured on
 * later (larger) zoo snapshots without training again. Little-endian binary:
 *   "DWSBASE1", method (16 bytes, NUL-padded), u32 n_layers, n_layers+1 x i64 padded
 *   widths, u32 hidden, 2*n_layers x f32 tensor scales (the flat-MLP's shape; zeros for
 *   the rescale), u64 n_params, n_params x f32 parameters.
 * Everything read back is checked against the file size before allocating. */
#ifndef DWS_BASELINE_FILE_H
#define DWS_BASELINE_FILE_H

#include "baseline.h"

int dws_baseline_save(const dws_baseline *a, const char *path, dws_error *err);
/* A fresh adapter (batch up to max_batch) from path; NULL and err (DWS_E_BAD_MODEL_FILE, DWS_E_IO) on failure. */
dws_baseline *dws_baseline_load(const char *path, int max_batch, dws_error *err);

#endif
