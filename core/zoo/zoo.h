/* The classifier zoo: many MLP classifiers trained on clean CIFAR-10 with varied
 * recipes, each stored as an ONNX file with its recipe and its clean and
 * target-domain test accuracy. Layout of a zoo folder:
 *
 *   zoo.json            the spec (seed, count, choice lists, domain, split rule)
 *   models/000123.onnx  entry 123's classifier (written by dws_onnx_build)
 *   entries/000123.json entry 123's record; written last, so its presence means done
 *   index.jsonl         every finished record, one per line, ordered by id
 *
 * Everything about entry i (recipe, seed, split) is a pure function of the zoo seed
 * and i, so shards (entries with i % n == k) can run anywhere, in any order, and be
 * resumed: a run skips entries whose record exists. Files are written atomically
 * (temporary file, then rename) and index.jsonl is rebuilt from entries/, so shards
 * sharing one folder never need a lock. */
#ifndef DWS_ZOO_H
#define DWS_ZOO_H

#include <stdint.h>

#include "data/corrupt.h"
#include "base/dws_error.h"
#include "data/image_set.h"
#include "train/recipe.h"

#define DWS_ZOO_FORMAT 1
#define DWS_ZOO_MAX_COUNT 1000000
#define DWS_ZOO_MAX_CHOICES 16

typedef enum { DWS_ZOO_TRAIN = 0, DWS_ZOO_VAL, DWS_ZOO_TEST, DWS_ZOO_TEST_UNSEEN_WIDTHS } dws_zoo_split;

typedef enum {
    DWS_ZOO_MIXED = 0,        /* recipes drawn per entry, as dws_zoo_entry_recipe says */
    DWS_ZOO_REFERENCE,        /* every entry the reference recipe (dws_recipe_reference), own seed */
} dws_zoo_recipes;

typedef struct {
    int count;                                   /* entries 0 .. count-1 */
    dws_zoo_recipes recipes;
    uint64_t seed;
    int n_epochs;
    int epochs[DWS_ZOO_MAX_CHOICES];             /* sampled uniformly per entry */
    int n_subsets;
    uint32_t subsets[DWS_ZOO_MAX_CHOICES];       /* training images per entry; 0 = all */
    dws_domain domain;                           /* target domain of the reported accuracy */
    uint64_t domain_seed;
} dws_zoo_spec;

/* 500 entries, seed 0, epochs {1,2,3,4,6,8,12,16,20}, subsets {5000,10000,25000,50000},
 * the default target domain with seed 0. */
void dws_zoo_spec_default(dws_zoo_spec *s);

const char *dws_zoo_split_name(dws_zoo_split s);   /* "train", "val", "test", "test_unseen_widths" */
const char *dws_zoo_recipes_name(dws_zoo_recipes r); /* "mixed", "reference" */
int dws_zoo_recipes_parse(const char *name, dws_zoo_recipes *out);

/* Recipe and split of entry `index`. Splits: u, the stream's first uniform, gives train
 * (u < 0.75), val (< 0.85), test (< 0.95), test_unseen_widths (the rest). Hidden widths
 * come from {32,64,128,256}, or {48,96,192} for test_unseen_widths, independently per layer;
 * Adam 50%, SGD with momentum 0.9 35%, AdamW 15%, with learning rates, weight decay and
 * batch sizes from fixed lists; epochs and subset from the spec's lists. A DWS_ZOO_REFERENCE
 * zoo gives every entry the reference recipe with its own seed (unseen-width entries go to test). */
void dws_zoo_entry_recipe(const dws_zoo_spec *s, int index, dws_recipe *r, dws_zoo_split *split);

/* 0 when the spec can be built: count 1..DWS_ZOO_MAX_COUNT, 1..DWS_ZOO_MAX_CHOICES epochs
 * (each 0..100000) and subsets; else DWS_E_INVALID_ARGUMENT. */
int dws_zoo_spec_check(const dws_zoo_spec *s, dws_error *err);

/* Creates dir, models/ and entries/, and writes zoo.json; when zoo.json is there it
 * must describe the same spec and data sizes (else DWS_E_INVALID_ARGUMENT). */
int dws_zoo_open(const char *dir, const dws_zoo_spec *spec, size_t train_images, size_t test_images,
                 dws_error *err);
/* Reads a zoo's spec back from its zoo.json. */
int dws_zoo_read_spec(const char *dir, dws_zoo_spec *spec, dws_error *err);

/* 1 when entries/ID.json holds a valid record of entry index. */
int dws_zoo_entry_done(const char *dir, int index);

typedef struct {
    const dws_image_set *train;
    const dws_image_set *test;
    const float *target_test;     /* the test images in the spec's domain, test->n x dim */
} dws_zoo_data;

typedef struct {
    double clean_acc, target_acc, train_seconds;
} dws_zoo_entry_result;

/* Trains entry `index`, then writes models/ID.onnx and entries/ID.json, in that order. */
int dws_zoo_build_entry(const char *dir, const dws_zoo_spec *spec, int index, const dws_zoo_data *data,
                        dws_zoo_entry_result *res, dws_error *err);

/* Rewrites index.jsonl from the records in entries/, ordered by id, atomically; scans
 * again after the rename and repeats while new records appeared, so the last shard to
 * finish always leaves a complete index. */
int dws_zoo_reindex(const char *dir, int *n_entries, dws_error *err);

typedef struct {
    int total;          /* entries of this shard */
    int skipped;        /* already done when the run started */
    int built;          /* built by this run so far */
    double elapsed;     /* seconds since the run started */
    double build_seconds;   /* summed wall time of the entries built */
} dws_zoo_progress;

typedef struct {
    int shard_index, shard_count;     /* this run builds entries i with i % shard_count == shard_index */
    int jobs;                         /* worker threads (1 or more) */
    void (*progress)(void *ctx, const dws_zoo_progress *p);   /* after each entry; serialised */
    void *ctx;
} dws_zoo_run_options;

/* Builds every unfinished entry of the shard, then rebuilds index.jsonl. Stops at the
 * first failing entry (finished ones stay; a rerun resumes). */
int dws_zoo_run(const char *dir, const dws_zoo_spec *spec, const dws_zoo_data *data, const dws_zoo_run_options *opt,
                dws_zoo_progress *final, dws_error *err);

#endif
