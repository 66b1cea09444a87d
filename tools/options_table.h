/* What each dwsnet command reads from its command line: one struct of typed values
 * per command, filled by cli_parse (options.h) from the command's table in
 * options_table.c, which holds every flag, its kind, range, default and help. */
#ifndef DWS_OPTIONS_TABLE_H
#define DWS_OPTIONS_TABLE_H

#include <stdint.h>

#include "data/data.h"
#include "options.h"
#include "ws/ws.h"

/* The shipped models, looked up in the models directory (base/base.h, "model path"). */
#define DWS_DEFAULT_ADAPTER "cifar10c-adapter.dws"
#define DWS_DEFAULT_ENCODER "cifar10-embedder.dws"
#define DWS_DEFAULT_ESTIMATOR "cifar10c-domain-estimator.dws"
/* eval-embedder's properties of a classifier zoo, and of an INR zoo. */
#define EVAL_EMBEDDER_CIFAR_PROPS "clean_test_acc,target_test_acc,log_width,recipe.epochs"
#define EVAL_EMBEDDER_INR_PROPS "a,b"

/* Value types of the options with a syntax of their own. */
typedef struct {
    int n;
    int64_t v[16];
} cli_int_list;   /* "128,64" */

typedef struct {
    int index, count;
} cli_shard;      /* "i/n" */

typedef struct {
    float lo, hi;
} cli_range;      /* "LO,HI" */

typedef struct {
    int on[4];    /* indexed by dws_zoo_split */
} cli_splits;     /* "test,test_unseen_widths" */

#define CLI_MAX_CHAINS 32
typedef struct {
    int n;
    dws_domain d[CLI_MAX_CHAINS];
} cli_chains;     /* "contrast:4,gaussian_noise:2;fog:3,gaussian_noise:2", or "none" */

typedef struct {
    int json;
    cli_args files;
} inspect_opts;

typedef struct {
    const char *in, *out;
    double perturb;
    uint64_t seed;
    int rebuild, no_provenance;
} roundtrip_opts;

typedef struct {
    const char *model, *input, *out;
    int logits;
} forward_opts;

typedef enum { CORRUPT_RECORDS = 0, CORRUPT_PNG, CORRUPT_JPEG } corrupt_format;
extern const char *const CORRUPT_FORMAT_NAMES[];

typedef struct {
    const char *data, *domain, *out;
    int split;    /* dws_split */
    int format;   /* corrupt_format */
    long first, count, quality;
    uint64_t seed;
    int list;
} corrupt_opts;

typedef struct {
    const char *data, *domain, *out;
    cli_int_list hidden;
    int optimizer;   /* dws_optimizer */
    double lr, momentum, weight_decay;
    int lr_seen, momentum_seen, weight_decay_seen;
    long epochs, batch, subset;
    uint64_t seed, domain_seed;
    int activation;  /* index into the activation names: dws_activation - 1 */
} train_classifier_opts;

typedef struct {
    const char *out, *data, *domain;
    long count, jobs;
    uint64_t seed, domain_seed;
    int count_seen, seed_seen, domain_seed_seen, recipes_seen;
    int recipes;     /* dws_zoo_recipes */
    cli_shard shard;
    cli_int_list epochs, subsets;
    int family, family_seen;          /* dws_zoo_family */
    int frame, frame_seen;            /* dws_frame */
    cli_int_list hidden_layers, activations;   /* activations: dws_activation values */
    int reindex;
} zoo_opts;

typedef struct {
    int kind;        /* dws_model_kind */
    const char *out, *id;
    long channels, layers, d0, dL, depth, embed_dim, mlp_hidden, seed, cond_dim, input_map;
    dws_image_shape image;
    float alpha;
    int image_seen, alpha_seen;
} init_model_opts;

/* adapt and embed: a model run on one classifier. */
typedef struct {
    const char *in, *out, *model;
    long threads;    /* 0: one per CPU */
    const char *input_mean, *input_std, *input_range;   /* normalisation outside the model (mlp.h) */
    const char *domain;   /* adapt: the target domain (model.h, adapt domain); NULL: the adapter's default */
    cli_args images;      /* adapt --domain auto: the unlabeled images the domain is estimated from */
    const char *estimator;
} model_run_opts;

typedef struct {
    const char *zoo, *extra_zoo, *data, *out, *id, *domain, *init_from, *emphasise;
    long cond_dim, input_map;
    int any_mlp;
    const char *hidden_layer_weights;
    double p_default;
    long channels, layers, steps, batch_nets, batch_images, val_every, val_images, limit_train, limit_val, threads;
    double epochs, warmup_frac;
    float lr, wd, clip;
    uint64_t seed;
    int resume, no_template_conv, no_position_embedding;
} train_adapter_opts;

typedef struct {
    const char *model, *zoo, *data, *out, *curves, *card_entry, *domain;
    cli_strings baselines, extras;
    long limit_images, limit, threads;
    uint64_t domain_seed;
    int domain_seed_seen, common, extra_oracle, zoo_oracle;
} eval_opts;

typedef struct {
    const char *model, *zoo, *data, *out, *oracle_dir, *estimator;
    long limit, images, threads, auto_draws;
    double oracle_seconds;
    int no_oracle, oracle_cached, no_auto, auto_images_seen;
    cli_int_list auto_images;   /* n 0: no auto columns ("0") */
} eval_domains_opts;

typedef struct {
    int method;      /* baseline_method */
    const char *zoo, *data, *domain, *out, *model_out, *model_in, *resume;
    cli_splits splits;
    long limit, steps, classifiers_per_step, images_per_step, hidden, val_every, val_images, max_train;
    float lr;
    int lr_seen;
    uint64_t seed;
} baseline_opts;

typedef enum { BASELINE_NONE, BASELINE_RESCALE, BASELINE_FLAT, BASELINE_FLAT_PERM, BASELINE_ORACLE } baseline_method;
extern const char *const baseline_method_names[];

typedef struct {
    const char *out;
    long count, seed, hidden, points, steps, jobs;
    float lr;
} inr_zoo_opts;

typedef struct {
    const char *zoo, *out, *id, *curves, *checkpoint, *input_convention, *probe_data;
    long dim, channels, layers, mlp_hidden, projection, probes, steps, groups, group_size, warmup, seed, threads;
    long checkpoint_every, stop_after;
    float lr, weight_decay, temperature, noise, mask, rescale;
    cli_range probe_range;
    int resume, no_width_features, no_head_skip;
} train_embedder_opts;

typedef struct {
    const char *zoo, *out, *model, *properties;
    long pca_dim, threads;
    int write_card;
} eval_embedder_opts;

typedef struct {
    const char *data, *out, *id;
    unsigned exclude;   /* bit k: dws_corruption k */
    cli_chains chains;
    long hidden, pool_images, val_images, val_sets, min_set, max_set, steps, val_every, batch_sets, threads;
    float lr, wd;
    uint64_t seed;
} train_estimator_opts;

typedef struct {
    const char *estimator, *data, *out, *card_entry;
    long pool_images, threads, timing_runs;
    cli_int_list sets;
} eval_estimator_opts;

typedef struct {
    const char *estimator;
    cli_args images;
    long max_images;
} estimate_domain_opts;

/* One table per command of commands.def. */
extern const cli_command cli_inspect, cli_roundtrip, cli_forward, cli_corrupt, cli_train_classifier, cli_zoo,
    cli_init_model, cli_adapt, cli_embed, cli_train_adapter, cli_eval, cli_eval_domains, cli_baseline, cli_inr_zoo,
    cli_train_embedder, cli_eval_embedder, cli_train_estimator, cli_eval_estimator, cli_estimate_domain;

#endif
