/* The .dws model file: a versioned container of a JSON model card and named
 * float32 tensors, protected by CRC32.
 *
 * Layout (all integers little-endian):
 *   magic "DWSNET\0\1" (8 bytes) | u32 format version | u32 card length |
 *   card (UTF-8 JSON, not NUL-terminated) | u32 tensor count |
 *   per tensor: u16 name length, name, u32 ndim (<= 4), u64 dims[ndim], f32 data |
 *   u32 CRC32 of every preceding byte.
 * The reader checks every length against the bytes left before allocating. */
#ifndef DWS_MODEL_FILE_H
#define DWS_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "dws_error.h"

#define DWS_MODEL_FILE_VERSION 1
#define DWS_TENSOR_MAX_DIMS 4

typedef struct {
    char name[128];
    int ndim;
    int64_t shape[DWS_TENSOR_MAX_DIMS];
    size_t count;     /* product of shape */
    float *data;
} dws_named_tensor;

typedef struct {
    char *card_json;            /* NUL-terminated */
    int n_tensors;
    dws_named_tensor *tensors;  /* owned */
} dws_model_file;

/* Writes atomically (temporary file + rename). */
int dws_model_file_write(const char *path, const char *card_json, const dws_named_tensor *tensors,
                         int n_tensors, dws_error *err);
int dws_model_file_read(const char *path, dws_model_file *out, dws_error *err);
int dws_model_file_parse(const uint8_t *buf, size_t len, dws_model_file *out, dws_error *err);
void dws_model_file_free(dws_model_file *f);
const dws_named_tensor *dws_model_file_find(const dws_model_file *f, const char *name);

#endif
