/* core/eval/eval.h: the public header of core/eval/.
 * Measuring: baselines (none, rescale, flat MLP, fine-tuning oracle), adapter results, linear probes,
 * PCA, weight statistics and plots.
 */
#ifndef DWS_EVAL_H
#define DWS_EVAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"
#include "data/data.h"
#include "mlp/mlp.h"
#include "model/model.h"
#include "zoo/zoo.h"

/* ==== baseline ==== */
/* A learned baseline adapter: a map from a classifier's weights to new weights with
 * one flat parameter buffer, trained like the DWSNet adapter (cross-entropy of the
 * adapted classifier on corrupted images, back-propagated through the classifier
 * into the adapter's parameters). Implementations: the shared rescale of W_1
 * (baseline_rescale.c) and the flat-MLP adapter on padded weight vectors
 * (baseline_flat.c). Classifiers of one batch may have different widths. */
typedef struct dws_baseline dws_baseline;

struct dws_baseline {
    const char *method;          /* "rescale", "flat-mlp" */
    size_t n_params;
    float *params;               /* one flat buffer */
    float *grads;                /* same size; backward accumulates into it */
    int max_batch;               /* most classifiers one forward takes */
    /* out[b] = adapted in[b] for b < batch (out[b] already has in[b]'s shape);
     * remembers what backward needs. */
    int (*forward)(dws_baseline *a, const dws_mlp *const *in, dws_mlp *const *out, int batch, dws_error *err);
    /* grads += dLoss/dparams, given dout[b] = dLoss/d out[b] for the last forward's batch. */
    void (*backward)(dws_baseline *a, const dws_mlp *const *in, const dws_mlp *const *dout, int batch);
    void (*destroy)(dws_baseline *a);   /* frees everything, a included */
    void *state;
};

/* The 2-parameter rescale of docs/task.md section 5: W_1 <- a W_1, b_1 <- b_1 + c rowsum(W_1);
 * params = {a, c}, starting at the identity {1, 0}. */
dws_baseline *dws_rescale_create(dws_error *err);

/* Adapts one classifier (batch of 1) into out, a fresh MLP the caller frees. */
int dws_baseline_adapt_one(dws_baseline *a, const dws_mlp *in, dws_mlp *out, dws_error *err);

/* ==== baseline file ==== */
/* A trained baseline adapter on disk, so that one training run can be measured on
 * later (larger) zoo snapshots without training again. Little-endian binary:
 *   "DWSBASE1", method (16 bytes, NUL-padded), u32 n_layers, n_layers+1 x i64 padded
 *   widths, u32 hidden, 2*n_layers x f32 tensor scales (the flat-MLP's shape; zeros for
 *   the rescale), u64 n_params, n_params x f32 parameters.
 * Everything read back is checked against the file size before allocating. */
int dws_baseline_save(const dws_baseline *a, const char *path, dws_error *err);
/* A fresh adapter (batch up to max_batch) from path; NULL and err (DWS_E_BAD_MODEL_FILE, DWS_E_IO) on failure. */
dws_baseline *dws_baseline_load(const char *path, int max_batch, dws_error *err);

/* ==== baseline flat ==== */
/* The flat-MLP baseline adapter of the DWSNets paper: every classifier is zero-padded
 * to the largest widths (ws/ws.h), its weights normalised per tensor and flattened
 * to a vector x of P values, and an MLP P -> H -> H -> P (ReLU) outputs a residual:
 *   adapted = unpad(padded + s * MLP(x)),   x = padded / s,
 * with s the per-tensor scale (RMS of that tensor's real entries over the training
 * classifiers). The output layer starts at zero, so the adapter starts as the
 * identity. It ignores the weight-space symmetry: a permuted classifier is a
 * different input (flat-mlp-perm trains it on random permutations to compensate). */
/* hidden H >= 1; max_batch >= 1 classifiers per forward; seed: the initialisation
 * (PyTorch nn.Linear default for the first two layers). Scales start at 1. */
dws_baseline *dws_flat_create(int n_layers, const int64_t *max_widths, int hidden, int max_batch, uint64_t seed,
                              dws_error *err);

/* Sets the per-tensor scales from these classifiers (each must fit the padding). */
void dws_flat_fit_scales(dws_baseline *a, const dws_mlp *const *mlps, int n);

/* The per-tensor scales (2 * n_layers: W_1, b_1, W_2, ...), for the settings record. */
const float *dws_flat_scales(const dws_baseline *a, int *n);

/* The shape it was created with, for saving it. */
void dws_flat_shape(const dws_baseline *a, int *n_layers, int64_t *max_widths, int *hidden);
/* Sets the 2 * n_layers per-tensor scales (a saved adapter's). */
void dws_flat_set_scales(dws_baseline *a, const float *scales);

/* ==== baseline oracle ==== */
/* The fine-tuning oracle of docs/task.md section 5: every weight of the classifier, one epoch of Adam at
 * 5e-4, batch 128, on LABELED corrupted training images. It sees what a zero-shot
 * adapter never does (target labels), so its gain is the reference an adapter's gain
 * is measured against. */
#define DWS_ORACLE_LR 5e-4f
#define DWS_ORACLE_EPOCHS 1
#define DWS_ORACLE_BATCH 128

/* Fine-tunes m in place on labeled; seed orders the minibatches. */
int dws_oracle_finetune(dws_mlp *m, const dws_samples *labeled, uint64_t seed, dws_error *err);

/* ==== baseline train ==== */
/* Training a learned baseline adapter (eval/eval.h) with the DWSNet adapter's signal:
 * every step takes `classifiers_per_step` training classifiers (drawn with a seeded
 * generator, optionally each under a fresh random hidden-neuron permutation) and
 * `images_per_step` corrupted training images shared by them, adapts the classifiers,
 * and minimises their mean cross-entropy with Adam (constant learning rate). Every `val_every` steps (and at
 * steps 0 and `steps`) the mean accuracy of the adapted validation classifiers on
 * held-out corrupted images decides the kept parameters (early stopping; step 0 is
 * the identity, so the kept adapter is never worse on validation than none). */
typedef struct {
    int steps;
    int classifiers_per_step;
    int images_per_step;
    float lr;                /* Adam, PyTorch defaults otherwise */
    int val_every;
    int val_images;          /* the first this many of the validation images */
    int permute;             /* flat-mlp-perm's augmentation */
    uint64_t seed;
    /* After every validation: loss and acc since the last one, val_after (val_before:
     * the identity at step 0), best_val, best_step. */
    dws_train_progress_fn progress;
    void *ctx;
} dws_baseline_train_config;

typedef struct {
    int best_step;
    double best_val_acc, identity_val_acc;
    double seconds;
    int64_t classifier_batches, images_seen;   /* classifier forwards, image rows through them */
} dws_baseline_train_result;

int dws_baseline_train(dws_baseline *a, const dws_mlp *const *train, int n_train, const dws_mlp *const *val, int n_val,
                       const dws_samples *fit, const dws_samples *val_images, const dws_baseline_train_config *cfg,
                       dws_baseline_train_result *res, dws_error *err);

/* Mean accuracy over the classifiers after adaptation, on data. */
int dws_baseline_mean_accuracy(dws_baseline *a, const dws_mlp *const *mlps, int n, const dws_samples *data,
                               double *acc, dws_error *err);

/* ==== adapt results ==== */
/* Per-classifier adaptation results: the JSON that `dwsnet baseline` writes for every
 * baseline and that `dwsnet eval` reads (and writes for the DWSNet adapter), so every
 * row of the report of docs/task.md section 6 comes from the same format:
 *
 *   {"method": "rescale", "settings": {...},
 *    "per_classifier": [{"id": "000123", "split": "test", "widths": [3072,64,128,10],
 *                        "target_before": 0.251, "target_after": 0.301,
 *                        "clean_before": 0.41, "clean_after": 0.39}, ...],
 *    "summary": {"test": {...}, "test_unseen_widths": {...}}}
 *
 * A classifier from outside the zoo (`dwsnet eval --extra`) has split "extra" and
 * its file's name (without .onnx) as id.
 *
 * target_* is accuracy on the corrupted test set of data/data.h, clean_* on the clean
 * test images, before and after adaptation. "summary" is derived from the rows
 * (dws_results_summarise) and ignored when reading. */
#define DWS_RESULTS_MAX_BYTES (64u << 20)

/* The split of a row for a classifier from outside the zoo. */
#define DWS_RESULT_EXTRA (DWS_ZOO_TEST_UNSEEN_WIDTHS + 1)

typedef struct {
    int id;                 /* zoo id; -1 in an extra row */
    int split;              /* a dws_zoo_split, or DWS_RESULT_EXTRA */
    char name[64];          /* extra rows: the id, a file name; "" otherwise */
    int n_layers;
    int64_t widths[DWS_MAX_LAYERS + 1];
    dws_activation activation;   /* of the hidden layers; DWS_ACT_IDENTITY: not recorded */
    double target_before, target_after, clean_before, clean_after;
} dws_result_row;

typedef struct {
    int n;
    double target_before_mean, target_before_std;
    double target_after_mean, target_after_std;
    double gain_mean, gain_std;               /* target_after - target_before */
    double improved_fraction;                 /* rows with gain > 0 */
    double clean_before_mean, clean_after_mean;
} dws_result_summary;

/* "extra" for DWS_RESULT_EXTRA, else dws_zoo_split_name. */
const char *dws_result_split_name(int split);

/* Whether a and b are results for the same classifier (same split and id). */
int dws_result_same_classifier(const dws_result_row *a, const dws_result_row *b);

/* Means and (population) standard deviations over the rows of one split; split -1: all rows. */
void dws_results_summarise(const dws_result_row *rows, int n, int split, dws_result_summary *s);

/* The whole document; settings (may be NULL) is taken over. NULL when out of memory. */
cJSON *dws_results_to_json(const char *method, cJSON *settings, const dws_result_row *rows, int n);

/* dws_results_to_json written to path ("-": stdout) with a final newline. */
int dws_results_write(const char *path, const char *method, cJSON *settings, const dws_result_row *rows, int n,
                      dws_error *err);

/* Reads a results file: method (truncated to method_size), rows (malloc'd). Any row
 * missing a field, or with a bad split or widths, is DWS_E_BAD_DATA. */
int dws_results_read(const char *path, char *method, size_t method_size, dws_result_row **rows, int *n,
                     dws_error *err);

/* ==== adapter eval ==== */
/* The report of docs/task.md section 6 for an adapter (`dwsnet eval`). Every
 * held-out classifier of a zoo (test and test_unseen_widths splits) and of extra
 * folders of ONNX files is adapted and scored on the corrupted test split (the
 * model's target domain, a fixed noise seed) and on the clean one, before and
 * after; the results of baseline methods (files in the adapt results format) are
 * put beside them. Writes into out_dir: eval.md (the tables and targets),
 * eval.json (their figures), dwsnet.json (our per-classifier results) and SVG
 * plots. */
typedef struct {
    dws_model *model;                 /* the adapter */
    const char *model_path;           /* its file: the curves beside it, and card_entry rewrites it */
    const char *zoo_dir;              /* NULL: no zoo */
    const char *const *extra_dirs;    /* folders of *.onnx classifiers */
    int n_extra;
    const char *const *baselines;     /* other methods' results files (dws_results_read) */
    int n_baselines;
    const char *data_dir, *out_dir;
    const char *curves;               /* training curves CSV; NULL: model_path's .csv when present */
    const char *domain;               /* the domain to evaluate on; NULL: the card's target_domain */
    const char *card_entry;           /* also store eval.json's summary in the model's card; NULL: no */
    int limit_images;                 /* the first this many test images; 0: all */
    int limit;                        /* classifiers per zoo split; 0: all */
    int threads;                      /* adapter threads; 0: one per CPU */
    int domain_seed_given;            /* else the zoo's domain seed (0 without a zoo) */
    uint64_t domain_seed;
    int extra_oracle;                 /* fine-tune every extra classifier too (docs/task.md section 5) */
    int zoo_oracle;                   /* and every held-out zoo classifier (when no baseline file has them) */
    int common;                       /* add tables over the classifiers every baseline covers */
} dws_eval_adapter_config;

typedef struct {
    /* A classifier measured: ours, and the oracle's row when it was fine-tuned too (else NULL). */
    void (*on_result)(void *ctx, const dws_result_row *ours, const dws_result_row *oracle);
    /* An extra classifier the adapter does not accept (not an error: it is skipped). */
    void (*on_skip)(void *ctx, const char *path, const dws_error *why);
    void *ctx;
} dws_eval_adapter_hooks;

/* Runs c; *report (malloc'd, the caller frees it) receives eval.md's text. */
int dws_eval_adapter_run(const dws_eval_adapter_config *c, const dws_eval_adapter_hooks *hooks, char **report,
                         dws_error *err);

/* ==== domain grid ==== */
/* The domain grid of an adapter (docs/adapter.md): clean images, every corruption
 * type at severities 1, 3 and 5, and the default chain; per domain, the first `limit`
 * test classifiers of a zoo on the first `images` test images through it (noise seed
 * DWS_EVAL_TEST_SEED): unadapted, adapted with the domain named, with `any`, with
 * `auto`, and fine-tuned by the oracle (results cached in oracle_dir, one file per
 * domain and set of classifiers; computed when missing and compute_oracle, severity 5
 * first, within oracle_seconds; the report counts the domains without one; never on
 * clean images, which the classifiers were trained on), and the clean fine-tune: the
 * oracle's fine-tune on clean images scored on every domain (one cache file, computed
 * with the oracle when a domain is missing; grid_oracle.h).
 *
 * `auto` (issue 17, docs/estimator.md section 6): for each of auto_sizes, auto_draws
 * disjoint sets of that many training images held apart from the scored ones (the
 * last DWS_EVAL_VAL_IMAGES, with a noise seed of their own, rounded to bytes as image
 * files hold them) go through the domain; the estimator names a domain from each set,
 * every classifier is adapted to it (`none`: left as it is) and scored on the test
 * images; the column is the mean over the draws.
 *
 * Writes grid.md (the table and the targets of the domains and auto issues), grid.json
 * and type x severity heatmaps (SVG) of each method's gain into out_dir. */
#define DWS_GRID_AUTO_MAX_SIZES 4
#define DWS_GRID_AUTO_MAX_DRAWS 32

typedef struct {
    const dws_model *model;
    const char *zoo_dir, *data_dir, *out_dir;
    const char *oracle_dir;           /* NULL: no oracle column */
    int compute_oracle;
    double oracle_seconds;            /* stop fine-tuning new domains after this long; 0: no limit */
    int limit, images;                /* classifiers, test images; 0: all */
    int threads;                      /* adapter threads; 0: one per CPU */
    const dws_estimator *estimator;   /* for the auto columns; NULL when n_auto_sizes is 0 */
    int n_auto_sizes;                 /* 0: no auto columns */
    int auto_sizes[DWS_GRID_AUTO_MAX_SIZES];   /* images per estimate, 1..DWS_AUTO_MAX_IMAGES */
    int auto_draws;                   /* disjoint sets per domain and size, 1..DWS_GRID_AUTO_MAX_DRAWS */
} dws_domain_grid_config;

typedef struct {
    void (*on_domain)(void *ctx, int i, int n, const char *spec, double seconds);
    /* a domain's oracle fine-tuned; gain NAN: the clean fine-tune, spec says so */
    void (*on_oracle)(void *ctx, const char *spec, double gain, double seconds);
    /* per domain and auto size: the estimate made most often (in `count` of `draws`) and
     * the mean gain over the draws (NAN: the adapter read none of the estimates) */
    void (*on_auto)(void *ctx, const char *spec, int images, const char *most_often, int count, int draws,
                    double gain);
    void *ctx;
} dws_domain_grid_hooks;

/* *text (malloc'd): grid.md's text. */
int dws_domain_grid_run(const dws_domain_grid_config *c, const dws_domain_grid_hooks *h, char **text,
                        dws_error *err);

/* ==== gram pca ==== */
/* PCA from inner products: the principal components of n training vectors given
 * only their Gram matrix, and the projection of any vector given its inner
 * products with the training vectors. Works the same for 32-dimensional
 * embeddings and for flattened classifiers of a million weights (where the
 * p x p covariance would not fit, the n x n Gram matrix does). */
typedef struct {
    int n, k;
    double *alpha;          /* n x k: component j = sum_i alpha[i][j] (x_i - mean) */
    double *row_mean;       /* n: mean_l K[i][l] */
    double all_mean;        /* mean of K */
    double *variance;       /* k: variance along each component, largest first */
} dws_pca;

/* K: n x n Gram matrix of the training vectors (row-major, symmetric). k
 * components (at most n - 1; coordinates beyond the rank of the centred data are 0). */
int dws_pca_fit_gram(const double *K, int n, int k, dws_pca *r, dws_error *err);
/* out[0..k) = coordinates of x, from kx[i] = x . x_i for the n training vectors. */
void dws_pca_project(const dws_pca *r, const double *kx, double *out);
void dws_pca_free(dws_pca *r);

/* out (m x n) = the inner products of m rows of A with n rows of B, p features. */
void dws_gram(const double *A, int m, const double *B, int n, int p, double *out);

/* ==== ridge probe ==== */
/* Linear probes: ridge regression in closed form, with the penalty chosen on a
 * validation set, scored by R^2. Used to read properties (accuracy, widths,
 * INR parameters) off embeddings and off baseline features. */
typedef struct {
    int p;
    double lambda;
    double *mean, *scale;   /* feature standardisation (training rows) */
    double *w;              /* weights on standardised features */
    double bias;
} dws_ridge;

/* Fits y ~ w . standardise(x) + bias on n rows of p features (row-major), with
 * penalty lambda * |w|^2 (lambda relative to n). Constant features are ignored. */
int dws_ridge_fit(const double *X, const double *y, int n, int p, double lambda, dws_ridge *r, dws_error *err);
double dws_ridge_predict(const dws_ridge *r, const double *x);
void dws_ridge_free(dws_ridge *r);

/* 1 - SS_res / SS_tot (0 when y is constant and the predictions are exact; can
 * be negative). */
double dws_r2(const double *y, const double *pred, int n);

/* Fits on (Xt, yt) for every lambda of a log grid 1e-7 .. 1e4 and keeps the one
 * with the best R^2 on (Xv, yv); *val_r2 receives that R^2. */
int dws_ridge_select(const double *Xt, const double *yt, int nt, const double *Xv, const double *yv, int nv, int p,
                     dws_ridge *best, double *val_r2, dws_error *err);

/* R^2 of r on n rows. */
double dws_ridge_r2(const dws_ridge *r, const double *X, const double *y, int n);

/* ==== weight features ==== */
/* The two baselines an embedding of classifiers must beat (docs/task.md section 7):
 * per-tensor weight statistics (Unterthiner et al. 2020, "Predicting Neural
 * Network Accuracy from Weights") and the flattened weights themselves, which
 * for networks of mixed hidden widths are compared as if zero-padded to common
 * widths (their inner product runs over the shared rows and columns). */
#define DWS_WEIGHT_STATS_PER_TENSOR 7

/* Features of an MLP of n_layers layers: 2 n_layers tensors x 7. */
int dws_weight_stats_count(int n_layers);

/* Per tensor W_1, b_1, W_2, ...: mean, standard deviation, and the 0, 25, 50,
 * 75, 100 % quantiles of its entries. */
int dws_weight_stats(const dws_mlp *m, double *out, dws_error *err);

/* Inner product of the two networks' flattened weights, each zero-padded to the
 * wider of the two at every layer (same depth, d_0 and d_L required: else NAN). */
double dws_padded_dot(const dws_mlp *a, const dws_mlp *b);

/* ==== svg scatter ==== */
/* A 2-D scatter plot as a self-contained SVG, points coloured by a value on a
 * viridis-like scale with a colour bar: for looking at embeddings. */
/* Writes the plot of n points (x[i], y[i]) coloured by value[i] to f. */
int dws_svg_scatter(FILE *f, const double *x, const double *y, const double *value, int n, const char *title,
                    const char *x_label, const char *y_label, const char *value_label);

/* ==== estimator eval ==== */
/* The domain estimator (model/model.h) on CIFAR-10's test images (docs/estimator.md
 * section 4): for clean, each of the 19 corruptions at severities 1-5 and each chain
 * class of the estimator, a pool of pool_images test images through that domain
 * (noise seed derived from `seed`), rounded to bytes; sets[s] sets of sizes[s]
 * distinct images drawn from each pool; the estimated type against the true one, and
 * the time of one estimate of 64 decoded images (median of timing_runs, on the
 * calling thread). Identification is scored on the 96 single domains as before (an
 * estimate of a chain class is wrong there: the confusion matrices' "chain" column);
 * the chain domains are scored apart (their type, and the exact chain). */
#define DWS_ESTIMATOR_EVAL_SIZES 3
#define DWS_ESTIMATOR_EVAL_SINGLES 96               /* clean, then 19 types x 5 severities */
#define DWS_ESTIMATOR_EVAL_CHAIN DWS_DOMAIN_TYPES   /* the confusion matrices' chain row and column */

typedef struct {
    const char *data_dir;
    int pool_images;
    int sizes[DWS_ESTIMATOR_EVAL_SIZES], sets[DWS_ESTIMATOR_EVAL_SIZES];
    uint64_t seed;
    int threads;                /* for the pools */
    int timing_runs;            /* 0: no timing */
} dws_estimator_eval_config;

/* Pools of 1000, sets of 8 / 64 / 256 images, 100 / 40 / 20 per domain, seed
 * DWS_EVAL_TEST_SEED, 2 threads, 200 timing runs. */
void dws_estimator_eval_defaults(dws_estimator_eval_config *c);

typedef struct {
    int n_domains;              /* the 96 singles (clean, then type by type, severities 1-5), then the chains */
    dws_domain domains[DWS_ESTIMATOR_MAX_CLASSES];
    int sizes[DWS_ESTIMATOR_EVAL_SIZES];
    /* [size][true][estimated]: types 0..DWS_DOMAIN_TYPES-1, and DWS_ESTIMATOR_EVAL_CHAIN for
     * the chains (a row: every chain domain; a column: an estimate of any chain class) */
    int confusion[DWS_ESTIMATOR_EVAL_SIZES][DWS_DOMAIN_TYPES + 1][DWS_DOMAIN_TYPES + 1];
    int sets[DWS_ESTIMATOR_EVAL_SIZES][DWS_ESTIMATOR_MAX_CLASSES];        /* per domain */
    int type_right[DWS_ESTIMATOR_EVAL_SIZES][DWS_ESTIMATOR_MAX_CLASSES];
    int exact_right[DWS_ESTIMATOR_EVAL_SIZES][DWS_ESTIMATOR_MAX_CLASSES];
    double ms_per_64, pool_seconds, seconds;
} dws_estimator_eval_result;

typedef struct {
    double clean[DWS_ESTIMATOR_EVAL_SIZES];             /* clean sets named clean */
    double corrupted_type[DWS_ESTIMATOR_EVAL_SIZES];    /* type right, over the 95 corrupted domains */
    double corrupted_exact[DWS_ESTIMATOR_EVAL_SIZES];   /* type and severity right */
    double per_type[DWS_ESTIMATOR_EVAL_SIZES][DWS_CORRUPT_COUNT];
    double chain_exact[DWS_ESTIMATOR_EVAL_SIZES];       /* chain sets named that very chain; NAN: no chains */
} dws_estimator_eval_summary;

int dws_estimator_eval(const dws_estimator *e, const dws_estimator_eval_config *c, dws_estimator_eval_result *r,
                       dws_error *err);
void dws_estimator_eval_summarise(const dws_estimator_eval_result *r, dws_estimator_eval_summary *out);
/* The report (summary, accuracy by type and severity and by chain, one confusion matrix
 * per set size) as Markdown, malloc'd; and the summary as JSON (for the card). */
char *dws_estimator_eval_markdown(const dws_estimator_eval_result *r, const dws_estimator_eval_config *c);
cJSON *dws_estimator_eval_json(const dws_estimator_eval_result *r, const dws_estimator_eval_config *c);
/* "clean" for 0, "chain" for DWS_ESTIMATOR_EVAL_CHAIN, else the corruption's name
 * (dws_domain_type). */
const char *dws_domain_type_name(int type);

#endif
