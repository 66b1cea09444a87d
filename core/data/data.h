/* core/data/data.h: the public header of core/data/.
 * Images and what is done to them: image sets, CIFAR-10 and idx loaders, labelled sample views, the
 * corruptions, and the image sets every evaluation uses.
 */
#ifndef DWS_DATA_H
#define DWS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "mlp/mlp.h"

/* ==== image set ==== */
/* A labelled set of small images as the files store them: bytes, channel-major
 * (CHW) per image. Models see x = pixel / 255 as float32 (docs/task.md section 2),
 * produced on demand so a 50,000-image set stays at 150 MB instead of 600 MB. */
typedef struct {
    size_t n;                     /* images */
    int channels, height, width;
    size_t dim;                   /* channels * height * width */
    int n_classes;                /* every label is < n_classes */
    uint8_t *pixels;              /* n x dim */
    uint8_t *labels;              /* n */
} dws_image_set;

void dws_image_set_free(dws_image_set *s);

/* x (count x dim) = pixels of images first .. first+count-1, divided by 255. */
void dws_image_set_to_float(const dws_image_set *s, size_t first, size_t count, float *x);

/* A float32 copy of the whole set (n x dim), malloc'd; NULL and err set on failure. */
float *dws_image_set_float_copy(const dws_image_set *s, dws_error *err);

/* Bytes for float pixels in [0,1]: round(x * 255), clamped to 0..255. */
void dws_float_to_pixels(const float *x, size_t n, uint8_t *out);

/* ==== samples ==== */
/* A read-only view of labelled vectors for training and evaluation: rows of bytes
 * (x = byte / 255, as image sets store them) or of floats (e.g. corrupted images),
 * optionally restricted to a subset of rows. Views never own memory. */
typedef struct {
    size_t n;                 /* rows in the view */
    size_t dim;               /* values per row */
    const uint8_t *pixels;    /* storage as bytes (x = p / 255) ... */
    const float *x;           /* ... or as floats; exactly one is set */
    const uint8_t *labels;    /* per storage row */
    const uint32_t *rows;     /* view row i is storage row rows[i]; NULL: row i */
    const dws_input_norm *norm;   /* NULL, or rows come out as (x - mean[c]) / std[c] */
} dws_samples;

dws_samples dws_samples_of_image_set(const dws_image_set *s);
dws_samples dws_samples_of_floats(const float *x, const uint8_t *labels, size_t n, size_t dim);

/* x (k x dim) and y (k) for view rows which[0..k); which NULL means rows first..first+k. */
void dws_samples_gather(const dws_samples *s, const uint32_t *which, size_t first, size_t k, float *x, uint8_t *y);

/* ==== cifar10 ==== */
/* CIFAR-10, "binary version" layout: records of 1 label byte then 1024 red, 1024
 * green and 1024 blue bytes (32 x 32, row-major). Files may be plain (.bin, as in
 * the official cifar-10-binary.tar.gz) or gzip-compressed (.bin.gz). */
#define DWS_CIFAR10_DIM 3072
#define DWS_CIFAR10_RECORD 3073
#define DWS_CIFAR10_CLASSES 10
/* What every classifier here takes, as model cards and ONNX metadata state it. */
#define DWS_CIFAR10_INPUT_CONVENTION "x = pixel / 255 as float32, channel-major (CHW), flattened to 3072 values"
/* The standardized frame's (mlp.h: DWS_CIFAR10_STANDARDIZATION). */
#define DWS_CIFAR10_STANDARDIZED_CONVENTION                                                                        \
    "x = (pixel / 255 - mean[c]) / std[c] with mean 0.4914,0.4822,0.4465 and std 0.2470,0.2435,0.2616 per "      \
    "channel c, as float32, channel-major (CHW), flattened to 3072 values"
/* Official files hold 10,000 records; anything beyond this is not CIFAR-10. */
#define DWS_CIFAR10_MAX_RECORDS_PER_FILE 1000000

typedef enum { DWS_SPLIT_TRAIN = 0, DWS_SPLIT_TEST } dws_split;

/* "train" or "test"; -1 for anything else. */
int dws_split_parse(const char *name, dws_split *out);
const char *dws_split_name(dws_split s);

/* Loads and concatenates the given files, in order. Every file must be a whole,
 * non-empty number of records with labels 0..9. */
int dws_cifar10_load_files(const char *const *paths, size_t n_paths, dws_image_set *out, dws_error *err);

/* Loads a split from a data folder: data_batch_*.bin[.gz] (in numeric order) for
 * train, test_batch.bin[.gz] for test. DIR may also be the folder that holds the
 * extracted cifar-10-batches-bin/. A missing set is an error whose message says how
 * to get the official archive. */
int dws_cifar10_load_split(const char *dir, dws_split split, dws_image_set *out, dws_error *err);

/* Folder to use when no --data flag is given: $DWSNET_DATA, else NULL. */
const char *dws_data_dir_from_env(void);

/* Encodes n records (labels + byte pixels, n x 3072) in the binary layout and writes
 * them atomically to path (gzip when it ends in ".gz", stdout for "-"). */
int dws_cifar10_write(const char *path, const uint8_t *labels, const uint8_t *pixels, size_t n, dws_error *err);

/* ==== idx ==== */
/* The idx format of MNIST and Fashion-MNIST (plain or gzip): a 4-byte magic
 * (0, 0, type, number of dimensions), big-endian uint32 sizes, then the data.
 * Only unsigned-byte data (type 0x08), which both data sets use, is accepted. */
/* Largest idx file accepted (decompressed); Fashion-MNIST's biggest is 47 MB. */
#define DWS_IDX_MAX_BYTES ((size_t)1 << 30)

/* Loads an images file (3 dimensions: n x rows x cols) and its labels file
 * (1 dimension: n) into a one-channel image set; labels must be < n_classes. */
int dws_idx_load(const char *images_path, const char *labels_path, int n_classes, dws_image_set *out,
                 dws_error *err);

/* ==== corrupt ==== */
/* CIFAR-10-C corruptions (Hendrycks & Dietterich, ICLR 2019): all 19 types at
 * severities 1-5 with the parameters of their make_cifar_c.py, on float images x in
 * [0,1], channel-major (C x H x W), composable into a "domain": a comma-separated
 * list name:severity applied left to right, each step clipping to [0,1] as the
 * original functions do. docs/corruptions.md lists them with their parameters and how
 * closely each matches the reference (tests/integration/corrupt_reference.py).
 *
 * Differences from the reference: it truncates to bytes after every corruption
 * (np.uint8; several also work on 8-bit images inside); here the chain stays in float
 * and only `dwsnet corrupt` rounds, once, at the end (jpeg_compression alone rounds
 * to bytes, the codec's input). frost uses a procedural ice texture, not the
 * reference's photographs, and makes no claim to match it. */
/* The target domain of docs/task.md section 3: contrast severity 4, then Gaussian noise severity 2. */
#define DWS_DEFAULT_DOMAIN "contrast:4,gaussian_noise:2"
#define DWS_DOMAIN_MAX_STEPS 8

typedef enum {
    DWS_CORRUPT_GAUSSIAN_NOISE = 0,
    DWS_CORRUPT_SHOT_NOISE,
    DWS_CORRUPT_IMPULSE_NOISE,
    DWS_CORRUPT_SPECKLE_NOISE,
    DWS_CORRUPT_CONTRAST,
    DWS_CORRUPT_BRIGHTNESS,
    DWS_CORRUPT_SATURATE,
    DWS_CORRUPT_GAUSSIAN_BLUR,
    DWS_CORRUPT_DEFOCUS_BLUR,
    DWS_CORRUPT_PIXELATE,
    DWS_CORRUPT_GLASS_BLUR,
    DWS_CORRUPT_MOTION_BLUR,
    DWS_CORRUPT_ZOOM_BLUR,
    DWS_CORRUPT_SNOW,
    DWS_CORRUPT_FROST,
    DWS_CORRUPT_FOG,
    DWS_CORRUPT_ELASTIC_TRANSFORM,
    DWS_CORRUPT_JPEG_COMPRESSION,
    DWS_CORRUPT_SPATTER,
    DWS_CORRUPT_COUNT
} dws_corruption;

typedef struct {
    dws_corruption kind;
    int severity;                 /* 1..5 */
} dws_domain_step;

typedef struct {
    int n_steps;                  /* 0: the clean domain */
    dws_domain_step steps[DWS_DOMAIN_MAX_STEPS];
} dws_domain;

const char *dws_corruption_name(dws_corruption c);
/* Every corruption name, comma-separated, for help texts. */
const char *dws_corruption_names(void);
/* One line on what corruption c does at severities 1-5 (for `dwsnet corrupt --list`). */
const char *dws_corruption_about(dws_corruption c);

/* Parses "contrast:4,gaussian_noise:2". "clean" or "" is the empty domain. */
int dws_domain_parse(const char *spec, dws_domain *d, dws_error *err);
/* The canonical spec (parse(format(d)) == d); "clean" for the empty domain. */
void dws_domain_format(const dws_domain *d, char *buf, size_t size);
/* 1 when a and b are the same domain (the same steps, in order); _kinds: the same
 * corruptions in order, at any severities. */
int dws_domain_same(const dws_domain *a, const dws_domain *b);
int dws_domain_same_kinds(const dws_domain *a, const dws_domain *b);

/* Checks that every step can run on images of this shape (colour corruptions, snow,
 * frost, spatter and jpeg_compression need 3 channels; sizes must be 1..4096). */
int dws_domain_check_shape(const dws_domain *d, int channels, int height, int width, dws_error *err);

/* Corrupts n images in place: x is n x (channels*height*width), values in [0,1].
 * Image i draws its random numbers from the stream (seed, first_index + i), so the
 * result is the same whether a set is processed whole, in batches or in parallel. */
int dws_domain_apply(const dws_domain *d, int channels, int height, int width, float *x, size_t n,
                     uint64_t seed, uint64_t first_index, dws_error *err);

/* ==== image decode ==== */
/* Images sent from outside, untrusted: PNG (image_png.c, libpng), JPEG (image_jpeg.c,
 * libjpeg-turbo) and CIFAR-10 binary records, plain or gzip (image_records.c; labels
 * ignored), each decoded into 3 x 32 x 32 floats x = pixel / 255 in CHW order, the
 * layout of image sets and corruptions. Accepted: 32 x 32 RGB PNGs (8 or 16 bits, or a
 * palette), 32 x 32 colour JPEGs, whole records. Anything else (another size, greyscale,
 * alpha, CMYK, a cut-off file) is DWS_E_BAD_IMAGE with a message saying what it is.
 * Sizes are read from the header and checked before anything is allocated for pixels.
 * Every decoded image (DWS_IMAGE_BYTES) and every working buffer is charged to the
 * caller's budget (more: DWS_E_TOO_LARGE) and counted against its image limit (more:
 * DWS_E_TOO_MANY_IMAGES); `what` names the input in messages ("a.png", "images field 3"). */
#define DWS_IMAGE_BYTES (DWS_CIFAR10_DIM * sizeof(float))   /* one decoded image, 12 KiB */
#define DWS_IMAGE_FILE_MAX_BYTES ((size_t)1 << 30)          /* dws_image_read_file reads no more */

typedef struct {
    size_t max_bytes;     /* decoded images and decoders' working memory, at most */
    size_t used;          /* charged now */
    size_t max_images;    /* decoded images, at most; 0: no limit but the bytes */
} dws_image_budget;

/* Charges bytes (DWS_E_TOO_LARGE, naming what, when they do not fit); gives them back. */
int dws_image_budget_take(dws_image_budget *b, size_t bytes, const char *what, dws_error *err);
void dws_image_budget_give(dws_image_budget *b, size_t bytes);

typedef struct {
    size_t n, cap;        /* images decoded, room */
    float *x;             /* n x DWS_CIFAR10_DIM */
} dws_image_list;

/* Room for k more images at the end (charged to b: capacity, not count); returns
 * where they go (n grows by k), or NULL with err set. */
float *dws_image_list_add(dws_image_list *l, size_t k, dws_image_budget *b, const char *what, dws_error *err);
/* Frees the images and gives their bytes back to b (may be NULL). */
void dws_image_list_free(dws_image_list *l, dws_image_budget *b);

typedef enum { DWS_IMAGE_UNKNOWN = 0, DWS_IMAGE_PNG, DWS_IMAGE_JPEG, DWS_IMAGE_RECORDS } dws_image_format;
/* By the first bytes: PNG or JPEG signature, gzip (records), or a whole number of records. */
dws_image_format dws_image_sniff(const uint8_t *buf, size_t len);

/* Each decodes every image of buf[0..len) and appends it to out; on failure out keeps
 * the images it had. dws_image_decode chooses by dws_image_sniff. */
int dws_png_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                   dws_error *err);
int dws_jpeg_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                    dws_error *err);
int dws_records_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                       dws_error *err);
int dws_image_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                     dws_error *err);
/* The same from a file (at most DWS_IMAGE_FILE_MAX_BYTES, charged to b while decoding). */
int dws_image_read_file(const char *path, dws_image_list *out, dws_image_budget *b, dws_error *err);

/* ==== image encode ==== */
/* One 3 x 32 x 32 float image (CHW, [0,1], rounded to bytes) as a file in memory:
 * an 8-bit RGB PNG, or a JPEG of quality 1-100 with Pillow's settings (those of the
 * jpeg_compression corruption). *out is malloc'd. */
int dws_png_encode(const float *x, uint8_t **out, size_t *len, dws_error *err);
int dws_jpeg_encode(const float *x, int quality, uint8_t **out, size_t *len, dws_error *err);

/* ==== domain stats ==== */
/* What the domain estimator reads of a set of 3 x 32 x 32 images (CHW, [0,1]):
 * per image, DWS_DOMAIN_STATS means over its pixels (colour moments, saturation,
 * clipped values, difference energies at lags 1, 2, 4 and in four directions, noise
 * residuals overall, by brightness and of colour differences, JPEG block edges,
 * repeated pixels, centre against whole sharpness); per set, DWS_DOMAIN_FEATURES
 * features computed from the mean of its images' vectors (logs, logits, ratios).
 * A set's features depend only on that mean, so sets can be formed from per-image
 * vectors (docs/estimator.md section 2). About 30 us per image on one core. */
#define DWS_DOMAIN_STATS 75
#define DWS_DOMAIN_FEATURES 58

/* stats (DWS_DOMAIN_STATS) of one image x (3 x 32 x 32). */
void dws_domain_stats_image(const float *x, double *stats);
/* features (DWS_DOMAIN_FEATURES) of a set whose images' stats have the mean `mean`. */
void dws_domain_features(const double *mean, float *features);
/* Both: the features of n images x (n x 3072). */
void dws_domain_features_of_images(const float *x, size_t n, float *features);
/* "log_noise", ...; NULL outside 0..DWS_DOMAIN_FEATURES-1. */
const char *dws_domain_feature_name(int i);
/* stats (n x DWS_DOMAIN_STATS) of the images rows[0..n) of s (rows NULL: 0..n-1),
 * corrupted by d with noise seed `seed` (image r draws stream (seed, r), as
 * dws_domain_apply) and rounded to bytes as an image file holds them; on `threads`
 * workers, the same result for any count. */
int dws_domain_stats_of_rows(const dws_image_set *s, const uint32_t *rows, size_t n, const dws_domain *d,
                             uint64_t seed, int threads, double *stats, dws_error *err);
/* features of a set of set_n distinct images drawn at random from a pool of pool_n
 * images' stats (pool_n x DWS_DOMAIN_STATS); order is a permutation of 0..pool_n-1
 * that the draw reshuffles (start it as the identity). */
void dws_domain_features_of_draw(const double *pool, uint32_t *order, uint32_t pool_n, uint32_t set_n, dws_rng *rng,
                                 float *features);
/* Pools for the estimator's classes: for class c, per_class distinct images drawn
 * (stream (seed, c)) from images first..first+count-1 of s, corrupted by classes[c]
 * with a noise seed of its own derived from seed and c: their stats go to
 * stats + c x per_class x DWS_DOMAIN_STATS. */
int dws_domain_pools_build(const dws_image_set *s, uint32_t first, uint32_t count, const dws_domain *classes,
                           int n_classes, uint32_t per_class, uint64_t seed, int threads, double *stats,
                           dws_error *err);

/* ==== eval data ==== */
/* The image sets every adapter, baseline and evaluation here is trained and
 * measured on, defined in ONE place so that `dwsnet eval`, `dwsnet baseline` and
 * `dwsnet train-adapter` agree bit for bit:
 *
 *   target test set   test_batch through the domain, noise seed DWS_EVAL_TEST_SEED
 *                     (= the zoo's domain_seed default, so "before" accuracies equal
 *                     index.jsonl's target_test_acc)
 *   adapter training  data_batch_* images 0 .. DWS_EVAL_FIT_IMAGES-1 through the
 *                     domain, noise seed DWS_EVAL_TRAIN_SEED
 *   adapter validation the last DWS_EVAL_VAL_IMAGES training images (never used to
 *                     fit), same corruption: for early stopping on the zoo's val split
 *
 * Image i of a set always gets noise stream (seed, i), so any subset or batch order
 * sees the same corrupted pixels. */
#define DWS_EVAL_TEST_SEED 0
#define DWS_EVAL_TRAIN_SEED 1
#define DWS_EVAL_VAL_IMAGES 5000

/* A float copy of s (n x dim) corrupted by d with noise seed `seed`; malloc'd, NULL
 * and err set on failure (bad shape for the domain, out of memory). */
float *dws_eval_corrupted_copy(const dws_image_set *s, const dws_domain *d, uint64_t seed, dws_error *err);

/* CIFAR-10's train and test splits from dir, and *target: a float copy of the test
 * images through domain d with noise seed `seed` (what a classifier is trained on
 * and measured on). The three start empty and are the caller's to free, on failure
 * too. */
int dws_cifar10_load_with_target(const char *dir, const dws_domain *d, uint64_t seed, dws_image_set *train,
                                 dws_image_set *test, float **target, dws_error *err);

/* Every image set of an experiment: the clean and corrupted test sets, the corrupted
 * training images split into fit and validation views. Owns its buffers. */
typedef struct {
    dws_image_set train, test;
    float *target_train;          /* train.n x dim, DWS_EVAL_TRAIN_SEED */
    float *target_test;           /* test.n x dim, DWS_EVAL_TEST_SEED */
    dws_samples clean_test_view;  /* clean test images */
    dws_samples target_test_view; /* corrupted test images */
    dws_samples fit_view;         /* corrupted training images 0 .. n-VAL-1 */
    dws_samples val_view;         /* corrupted training images n-VAL .. n-1 */
} dws_eval_data;

/* Loads CIFAR-10 from dir (see data/data.h) and builds every set for domain d. The
 * training split must hold more than DWS_EVAL_VAL_IMAGES images. */
int dws_eval_data_load(dws_eval_data *e, const char *dir, const dws_domain *d, dws_error *err);
/* The same from image sets the caller loaded (taken over: freed with e). */
int dws_eval_data_from_sets(dws_eval_data *e, dws_image_set *train, dws_image_set *test, const dws_domain *d,
                            dws_error *err);
void dws_eval_data_free(dws_eval_data *e);

#endif
