/* core/zoo/zoo.h: the public header of core/zoo/.
 * Zoos of classifiers (and of sine INRs): building them resumably and reading them back.
 */
#ifndef DWS_ZOO_H
#define DWS_ZOO_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "base/base.h"
#include "data/data.h"
#include "mlp/mlp.h"
#include "train/train.h"

/* ==== zoo ==== */
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
#define DWS_ZOO_FORMAT 1
#define DWS_ZOO_MAX_COUNT 1000000
#define DWS_ZOO_MAX_CHOICES 16

typedef enum { DWS_ZOO_TRAIN = 0, DWS_ZOO_VAL, DWS_ZOO_TEST, DWS_ZOO_TEST_UNSEEN_WIDTHS } dws_zoo_split;

typedef enum {
    DWS_ZOO_MIXED = 0,        /* recipes drawn per entry, as dws_zoo_entry_recipe says */
    DWS_ZOO_REFERENCE,        /* every entry the reference recipe (dws_recipe_reference), own seed */
} dws_zoo_recipes;

/* LeakyReLU's negative slope in every zoo (torch.nn.LeakyReLU's default). */
#define DWS_ZOO_LEAKY_SLOPE DWS_RECIPE_LEAKY_SLOPE
#define DWS_ZOO_LEAKY_SLOPE_TEXT DWS_RECIPE_LEAKY_SLOPE_TEXT

typedef struct {
    int count;                                   /* entries 0 .. count-1 */
    dws_zoo_recipes recipes;
    uint64_t seed;
    int n_epochs;
    int epochs[DWS_ZOO_MAX_CHOICES];             /* sampled uniformly per entry */
    int n_subsets;
    uint32_t subsets[DWS_ZOO_MAX_CHOICES];       /* training images per entry; 0 = all */
    int n_hidden_layers;
    int hidden_layers[DWS_ZOO_MAX_CHOICES];      /* hidden layers per entry (1..DWS_MAX_LAYERS-1), sampled */
    int n_activations;
    dws_activation activations[DWS_ZOO_MAX_CHOICES];   /* hidden activation per entry, sampled */
    dws_frame frame;                             /* the input every entry trains on (0: pixel/255) */
    dws_domain domain;                           /* target domain of the reported accuracy */
    uint64_t domain_seed;
} dws_zoo_spec;

/* 500 entries, seed 0, epochs {1,2,3,4,6,8,12,16,20}, subsets {5000,10000,25000,50000},
 * 2 hidden layers, ReLU, the default target domain with seed 0. */
void dws_zoo_spec_default(dws_zoo_spec *s);

/* Zoo families: the architectures a zoo draws from (hidden layers and activations).
 * DWS_ZOO_FAMILY_DEFAULT is the zoo as it was before families: 2 hidden layers, ReLU.
 * DWS_ZOO_FAMILY_ANY_MLP: 1 to 4 hidden layers (weight layers 2 to 5), ReLU, LeakyReLU
 * (slope DWS_ZOO_LEAKY_SLOPE), GELU (erf) or tanh, for a depth- and activation-agnostic
 * adapter (issue 18). */
typedef enum { DWS_ZOO_FAMILY_DEFAULT = 0, DWS_ZOO_FAMILY_ANY_MLP } dws_zoo_family;
const char *dws_zoo_family_name(dws_zoo_family f);   /* "default", "any-mlp" */
int dws_zoo_family_parse(const char *name, dws_zoo_family *out);
/* Sets s's hidden layers and activations to the family's. */
void dws_zoo_spec_family(dws_zoo_spec *s, dws_zoo_family f);
/* 1 when s draws only 2 hidden layers and ReLU: the zoo of before families, whose
 * zoo.json, recipes and records carry no hidden_layers/activations/depth keys. */
int dws_zoo_spec_is_default_family(const dws_zoo_spec *s);

const char *dws_zoo_split_name(dws_zoo_split s);   /* "train", "val", "test", "test_unseen_widths" */
const char *dws_zoo_recipes_name(dws_zoo_recipes r); /* "mixed", "reference" */
int dws_zoo_recipes_parse(const char *name, dws_zoo_recipes *out);

/* Recipe and split of entry `index`. Splits: u, the stream's first uniform, gives train
 * (u < 0.75), val (< 0.85), test (< 0.95), test_unseen_widths (the rest). Then the number
 * of hidden layers and the hidden activation, each drawn from the spec's list only when
 * it has more than one choice (so a default-family zoo draws exactly what it drew before
 * families). Hidden widths come from {32,64,128,256}, or {48,96,192} for
 * test_unseen_widths, independently per layer; Adam 50%, SGD with momentum 0.9 35%, AdamW
 * 15%, with learning rates, weight decay and batch sizes from fixed lists; epochs and
 * subset from the spec's lists. A DWS_ZOO_REFERENCE zoo gives every entry the reference
 * recipe with its own seed (unseen-width entries go to test). */
void dws_zoo_entry_recipe(const dws_zoo_spec *s, int index, dws_recipe *r, dws_zoo_split *split);

/* 0 when the spec can be built: count 1..DWS_ZOO_MAX_COUNT, 1..DWS_ZOO_MAX_CHOICES epochs
 * (each 0..100000), subsets, hidden layer counts (each 1..DWS_MAX_LAYERS-1) and hidden
 * activations (any but identity); a reference zoo only with the default family; else
 * DWS_E_INVALID_ARGUMENT. */
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

/* ==== zoo build ==== */
/* A whole zoo run as `dwsnet zoo` makes it: the settings, the data, the shard. */

/* The settings a run starts from: the zoo's own (dir/zoo.json) when it exists, else
 * the defaults (dws_zoo_spec_default). */
int dws_zoo_settings(const char *dir, dws_zoo_spec *spec, dws_error *err);

/* Loads CIFAR-10 from data_dir (its test split also through spec's domain), opens
 * the zoo (dws_zoo_open: a change to an existing zoo's settings is refused) and
 * builds the shard of opt (dws_zoo_run). With more than one job, each classifier's
 * products run on one BLAS thread. */
int dws_zoo_build(const char *dir, const char *data_dir, const dws_zoo_spec *spec, const dws_zoo_run_options *opt,
                  dws_zoo_progress *final, dws_error *err);

/* ==== zoo catalog ==== */
/* Reading a finished zoo back: the records of index.jsonl (id, split, widths,
 * accuracies) and the classifiers they name, for everything that trains on or
 * evaluates over a zoo (adapters, baselines, eval, the embedder through
 * zoo/zoo.h). The one reader of index.jsonl. */
#define DWS_ZOO_MAX_INDEX_BYTES (256u << 20)

typedef struct {
    int id;
    dws_zoo_split split;
    int n_layers;                             /* weight layers: the record's "depth" (3 when absent) */
    int64_t widths[DWS_MAX_LAYERS + 1];
    dws_activation activation;                /* hidden activation: "activation" (ReLU when absent) */
    dws_frame frame;                          /* the input it trained on: "frame" (pixel when absent) */
    double clean_test_acc, target_test_acc;   /* as the zoo measured them; 0 in a zoo that does not */
    char file[64];                            /* relative to the zoo folder */
    cJSON *fields;                            /* the whole line, kept by DWS_ZOO_READ_FIELDS only */
} dws_zoo_record;

/* What a line must hold beyond id, split, widths and file, and what is kept of it. */
typedef enum {
    DWS_ZOO_READ_CLASSIFIERS,   /* clean_test_acc and target_test_acc (zoo.h's zoos); the line is dropped */
    DWS_ZOO_READ_FIELDS,        /* nothing more (inr-zoo's zoos record a, b instead); the line is kept */
} dws_zoo_read_mode;

/* "train", "val", "test", "test_unseen_widths"; -1 for anything else. */
int dws_zoo_split_parse(const char *name, dws_zoo_split *out);

/* Every record of dir/index.jsonl, in file order, into a malloc'd array. A line that
 * does not hold a valid record is an error (DWS_E_BAD_DATA) naming its line. */
int dws_zoo_catalog_read(const char *dir, dws_zoo_record **records, int *n, dws_error *err);

/* The same in either mode, also giving (when index_crc32 is not NULL) the CRC-32 of
 * index.jsonl's text, which names the zoo a trained model came from. Records read
 * with DWS_ZOO_READ_FIELDS are freed with dws_zoo_catalog_free, others with free(). */
int dws_zoo_catalog_read_mode(const char *dir, dws_zoo_read_mode mode, dws_zoo_record **records, int *n,
                              uint32_t *index_crc32, dws_error *err);
void dws_zoo_catalog_free(dws_zoo_record *records, int n);

/* Decodes record r's ONNX file into m (a fresh MLP the caller frees); its widths
 * must be the record's. A classifier trained in another frame comes back as its
 * pixel-frame twin (the standardisation folded into layer 1), so that it runs on
 * pixel/255 inputs like every other; r->frame says how an adapter reads it. */
int dws_zoo_load_mlp(const char *dir, const dws_zoo_record *r, dws_mlp *m, dws_error *err);

/* ==== zoo records ==== */
/* A zoo's records with every field of their index.jsonl lines kept (zoo/zoo.h
 * reads them), and numeric properties by name, for training and probing on any zoo
 * (zoo.h's classifier zoos and `dwsnet inr-zoo`'s sine INRs alike). */
typedef struct {
    int n;
    dws_zoo_record *r;   /* read with DWS_ZOO_READ_FIELDS: r[i].fields is line i */
} dws_zoo_records;

/* Every record of dir/index.jsonl; a line without id, split, widths and file is
 * an error (DWS_E_BAD_DATA naming the line). Records of a zoo of classifiers
 * need not carry accuracies here: properties are looked up by name. */
int dws_zoo_records_read(const char *dir, dws_zoo_records *out, dws_error *err);
void dws_zoo_records_free(dws_zoo_records *z);

/* A numeric property of a record: a field ("clean_test_acc", "a"), a field of an
 * object ("recipe.epochs"), "depth" (weight layers), or "log_width", the mean of
 * log(d_n) over the hidden widths. 0 when found, -1 when absent or not a number. */
int dws_zoo_record_property(const dws_zoo_record *r, const char *name, double *out);

/* ==== zoo set ==== */
/* A zoo split in memory: the classifiers listed in a zoo's index.jsonl (zoo.h),
 * decoded from their ONNX files, with what the index records about them. What the
 * adapter trainer, the baselines and `dwsnet eval` read. */
typedef struct {
    int id;
    dws_zoo_split split;
    double clean_acc, target_acc;   /* as the zoo measured them (test split) */
    dws_frame frame;                /* the input it trained on; mlp is its pixel-frame twin */
    dws_mlp mlp;
} dws_zoo_member;

typedef struct {
    int n;
    dws_zoo_member *m;
    uint32_t index_crc32;           /* of index.jsonl, to name the zoo a model came from */
} dws_zoo_set;

/* Loads the entries of dir/index.jsonl (read by zoo/zoo.h) whose split bit
 * (1 << split) is in split_mask, in index order, at most limit of them (0: all). */
int dws_zoo_set_load(const char *dir, unsigned split_mask, int limit, dws_zoo_set *out, dws_error *err);
void dws_zoo_set_free(dws_zoo_set *s);

/* "3072-128-64-10" */
void dws_widths_format(const dws_mlp *m, char *buf, size_t size);

/* ==== inr sine ==== */
/* The paper's self-supervised experiment data (Navon et al., experiment 2): small
 * MLPs fitted as implicit neural representations of y = a sin(b x), with a and b
 * drawn per network, so that an encoder's embedding can be probed for a and b. */
typedef struct {
    int hidden;        /* width of both hidden layers (32): a 1-h-h-1 ReLU MLP */
    int points;        /* x on a uniform grid of this many points in [-pi, pi] */
    int steps;         /* full-batch Adam steps */
    float lr;          /* Adam learning rate, decayed to lr/10 along a cosine */
} dws_inr_config;

/* hidden 32, 256 points, 2000 steps, lr 1e-2. */
dws_inr_config dws_inr_defaults(void);

/* Fits a freshly initialised (nn.Linear default, seeded) MLP to a sin(b x):
 * *out is initialised by the call; *mse is its final mean squared error on the grid. */
int dws_inr_fit_sine(const dws_inr_config *cfg, double a, double b, uint64_t seed, dws_mlp *out, double *mse,
                     dws_error *err);

#endif
