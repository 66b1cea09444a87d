/* core/base/base.h: the public header of core/base/.
 * The floor of core/: errors, random numbers, parallel workers, files (whole-file reads, gzip), float
 * formatting, the version, the models directory, and the .dws container file format. Uses nothing else
 * of core/.
 */
#ifndef DWS_BASE_H
#define DWS_BASE_H

#include <stddef.h>
#include <stdint.h>

/* ==== dws error ==== */
/* Errors that cross module boundaries: a stable machine-readable code (used as the
 * problem+json `code` by the daemon and printed by the CLI) and a human message that
 * names the node, tensor or file at fault. */
/* Stable codes. Clients match on these strings; never rename one. */
#define DWS_E_INVALID_PROTOBUF      "invalid_protobuf"
#define DWS_E_NOT_AN_MLP            "not_an_mlp"
#define DWS_E_UNSUPPORTED_OPERATOR  "unsupported_operator"
#define DWS_E_UNSUPPORTED_ACTIVATION "unsupported_activation"
#define DWS_E_SHAPE_MISMATCH        "shape_mismatch"
#define DWS_E_EXTERNAL_DATA         "external_data_unsupported"
#define DWS_E_TOO_LARGE             "too_large"
#define DWS_E_IO                    "io_error"
#define DWS_E_BAD_MODEL_FILE        "bad_model_file"
#define DWS_E_INCOMPATIBLE_MODEL    "incompatible_model"
#define DWS_E_BAD_DATA              "bad_data"
#define DWS_E_INVALID_ARGUMENT      "invalid_argument"
#define DWS_E_OUT_OF_MEMORY         "out_of_memory"
#define DWS_E_NOT_REPRESENTABLE     "not_representable"   /* a result does not fit its number type */
#define DWS_E_INVALID_MODEL         "invalid_model"       /* the file breaks a rule of the ONNX spec */
#define DWS_E_UNKNOWN_DOMAIN        "unknown_domain"      /* a domain no loaded adapter accepts */
#define DWS_E_BAD_IMAGE             "bad_image"           /* an image that is not a 32 x 32 RGB PNG, JPEG or record */
#define DWS_E_TOO_MANY_IMAGES       "too_many_images"     /* more images than the caller allows */

typedef struct {
    const char *code;   /* one of DWS_E_*, or NULL when no error */
    char message[512];
} dws_error;

void dws_error_set(dws_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dws_error_clear(dws_error *err);

/* ==== version ==== */
#define DWS_VERSION "0.1.0"

/* ==== rng ==== */
/* A small seeded random generator (xoshiro256++ seeded through splitmix64) with
 * uniform, normal and Poisson draws. State lives in the caller's struct, never in a
 * global, so concurrent users and reproducible per-image streams are both easy. */
typedef struct {
    uint64_t s[4];
    int has_spare;      /* normal draws come in pairs */
    double spare;
} dws_rng;

/* splitmix64 step: also a good 64-bit mixing function for deriving seeds. */
uint64_t dws_mix64(uint64_t x);

void dws_rng_seed(dws_rng *r, uint64_t seed);
/* Seeds an independent stream for item `index` of a set seeded by `seed`, so that
 * item i gets the same numbers whatever order or batch it is processed in. */
void dws_rng_seed_stream(dws_rng *r, uint64_t seed, uint64_t index);

uint64_t dws_rng_u64(dws_rng *r);
double dws_rng_uniform(dws_rng *r);               /* [0, 1) with 53 random bits */
uint64_t dws_rng_below(dws_rng *r, uint64_t n);   /* uniform in [0, n), unbiased; n > 0 */
double dws_rng_normal(dws_rng *r);                /* N(0, 1) */
int64_t dws_rng_poisson(dws_rng *r, double lambda);

/* Fisher-Yates shuffle of idx[0..n). */
void dws_rng_shuffle_u32(dws_rng *r, uint32_t *idx, uint32_t n);

/* ==== parallel ==== */
/* Per-call parallelism without shared state: a fixed number of work parts spread
 * over `threads` short-lived threads. Results depend only on how work is split into
 * parts, never on the thread count, so a computation gives the same bits with 1 or
 * 8 threads. */
/* fn(ctx, part, thread) once for every part in [0, n_parts), parts handed out in
 * order to whichever worker is free; thread in [0, threads) names the worker (for
 * per-thread scratch). Runs on the calling thread alone when threads <= 1, and
 * the caller takes over the parts of workers that cannot be started. */
#define DWS_MAX_THREADS 64

typedef void (*dws_part_fn)(void *ctx, int part, int thread);
void dws_parallel_parts(int n_parts, int threads, dws_part_fn fn, void *ctx);

/* The thread count for a call: `requested`, or the online CPUs when 0, capped to max. */
int dws_threads_for_call(int requested, int max);

/* ==== read file ==== */
/* Reading a whole file whose size is bounded before it is buffered. */
/* Reads at most max_bytes (a larger file, a pipe or a device that goes on: DWS_E_TOO_LARGE,
 * after reading no more than max_bytes + 1). *len receives the size; free() the result. */
uint8_t *dws_read_file(const char *path, size_t max_bytes, size_t *len, dws_error *err);

/* ==== gzfile ==== */
/* Whole-file reads and atomic writes through zlib, so plain and gzip files are
 * handled alike (gzread passes uncompressed bytes through unchanged). */
/* Reads the (decompressed) contents of path into a malloc'd *out. Fails with
 * DWS_E_TOO_LARGE rather than reading more than max_bytes, DWS_E_IO when the file
 * cannot be opened, DWS_E_BAD_DATA when the gzip stream is corrupt or cut short. */
int dws_gz_read_all(const char *path, size_t max_bytes, uint8_t **out, size_t *len, dws_error *err);

/* Writes len bytes to path atomically (a temporary file in the same folder, then
 * rename), gzip-compressed when path ends in ".gz". "-" writes to stdout. */
int dws_write_file_atomic(const char *path, const void *data, size_t len, dws_error *err);

/* ==== path ==== */
/* path with its ending ext (when present and not the whole name) replaced by
 * new_ext, truncated to size: ("m.dws", ".dws", ".csv") -> "m.csv". */
void dws_path_sibling(const char *path, const char *ext, const char *new_ext, char *buf, size_t size);

/* ==== model path ==== */
/* Where dwsnet and dwsnetd find their models when no flag names them. One order,
 * for both programs:
 *   1. the directory in $DWSNET_MODELS, when set and not empty
 *      (dwsnetd reads its own DWSNETD_MODELS before this one);
 *   2. DWS_PREFIX/share/dwsnet/models, where `make install` puts the shipped models,
 *      when that directory exists (DWS_PREFIX is the PREFIX the binary was built with);
 *   3. models, relative to the working directory (a checkout).
 * A flag (--model FILE, --models DIR) always comes first. */
#define DWS_MODELS_ENV "DWSNET_MODELS"

/* The installed models directory: DWS_PREFIX "/share/dwsnet/models". */
const char *dws_installed_models_dir(void);

/* The models directory by the order above. *source, when not NULL, says which step
 * chose it: "DWSNET_MODELS", "installed" or "working directory". The result is the
 * environment's string or a constant: valid until the environment changes. */
const char *dws_models_dir(const char **source);

/* dir/file of the models directory into buf; -1 when it does not fit. */
int dws_default_model_path(const char *file, char *buf, size_t len);

/* ==== float decimal ==== */
/* A float setting as the short decimal it was written as, for JSON that people
 * read and compare (1e-3f prints as 0.001, not 0.0010000000474974513). */
/* v rounded to 7 significant digits: a setting typed with up to FLT_DIG (6)
 * significant digits comes back exactly as typed. */
double dws_float_decimal(float v);

/* ==== model file ==== */
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
/* Version 2 has version 1's bytes; its cards may describe a domain-conditioned
 * adapter (architecture.conditions), which a version-1 reader must not load. */
#define DWS_MODEL_FILE_VERSION 2
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
