/* The idx format of MNIST and Fashion-MNIST (plain or gzip): a 4-byte magic
 * (0, 0, type, number of dimensions), big-endian uint32 sizes, then the data.
 * Only unsigned-byte data (type 0x08), which both data sets use, is accepted. */
#ifndef DWS_IDX_H
#define DWS_IDX_H

#include "base/dws_error.h"
#include "image_set.h"

/* Largest idx file accepted (decompressed); Fashion-MNIST's biggest is 47 MB. */
#define DWS_IDX_MAX_BYTES ((size_t)1 << 30)

/* Loads an images file (3 dimensions: n x rows x cols) and its labels file
 * (1 dimension: n) into a one-channel image set; labels must be < n_classes. */
int dws_idx_load(const char *images_path, const char *labels_path, int n_classes, dws_image_set *out,
                 dws_error *err);

#endif
