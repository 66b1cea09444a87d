/* CIFAR-10, "binary version" layout: records of 1 label byte then 1024 red, 1024
 * green and 1024 blue bytes (32 x 32, row-major). Files may be plain (.bin, as in
 * the official cifar-10-binary.tar.gz) or gzip-compressed (.bin.gz). */
#ifndef DWS_CIFAR10_H
#define DWS_CIFAR10_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"
#include "image_set.h"

#define DWS_CIFAR10_DIM 3072
#define DWS_CIFAR10_RECORD 3073
#define DWS_CIFAR10_CLASSES 10
/* What every classifier here takes, as model cards and ONNX metadata state it. */
#define DWS_CIFAR10_INPUT_CONVENTION "x = pixel / 255 as float32, channel-major (CHW), flattened to 3072 values"
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

#endif
