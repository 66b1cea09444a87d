/* The .dws model file: a versioned container of a JSON model card and named
 * float32 tensors, protected by CRC32.
 *
 * Layout (all integers little-endian):
 *   magic "DWSNET\0\1" (8 bytes) | u32 format version | u32 card length |
 *   card (UTF-8 JSON, not NUL-terminated) | u32 tensor count |
 *   per tensor: u16 name length, name, u32 ndim (<= 4), u64 dims[ndim], f32 data |
 *   u32 CRC32 of every preceding byte.
 * Floats are IEEE-754 binary32 bit patterns, stored bit-exactly (NaN payloads too).
 * The card is a JSON object in strict UTF-8 without NUL bytes; tensor names are
 * 1..127 bytes of UTF-8 without NUL, unique within a file; ndim 0 is a scalar;
 * every dim is >= 1. The reader checks every length against the bytes left before
 * allocating, and rejects anything else with DWS_E_BAD_MODEL_FILE (a format
 * version newer than DWS_MODEL_FILE_VERSION: DWS_E_INCOMPATIBLE_MODEL; more than
 * DWS_MODEL_FILE_MAX_BYTES: DWS_E_TOO_LARGE).
 * Functions returning int give 0 on success, -1 with err set on failure. */
#ifndef DWS_MODEL_FILE_H
#define DWS_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "dws_error.h"

#define DWS_MODEL_FILE_VERSION 1
#define DWS_TENSOR_MAX_DIMS 4
#define DWS_MODEL_FILE_MAX_BYTES   (1u << 30)
#define DWS_MODEL_CARD_MAX_BYTES   (4u << 20)  /* metadata only: bulk data belongs in tensors */
#define DWS_MODEL_FILE_MAX_TENSORS 65536

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

/* Serialises into a malloc'd buffer (*buf, *len). card_json NULL means "{}".
 * Refuses (DWS_E_INVALID_ARGUMENT) anything the reader would reject. */
int dws_model_file_encode(const char *card_json, const dws_named_tensor *tensors, int n_tensors,
                          uint8_t **buf, size_t *len, dws_error *err);
/* Writes atomically: a temporary file in the same directory, fsync, rename; on
 * failure the old file at path is untouched and the temporary file is removed. */
int dws_model_file_write(const char *path, const char *card_json, const dws_named_tensor *tensors,
                         int n_tensors, dws_error *err);
/* On failure *out is left empty (safe to free or ignore). */
int dws_model_file_read(const char *path, dws_model_file *out, dws_error *err);
int dws_model_file_parse(const uint8_t *buf, size_t len, dws_model_file *out, dws_error *err);
void dws_model_file_free(dws_model_file *f);
/* NULL when no tensor has that name. */
const dws_named_tensor *dws_model_file_find(const dws_model_file *f, const char *name);

#endif
