/* core/model/model.h: the public header of core/model/.
 * Trained models as the CLI and the daemon use them: .dws adapters and encoders, their cards, and
 * adapting an ONNX file.
 */
#ifndef DWS_MODEL_H
#define DWS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "data/data.h"
#include "mlp/mlp.h"
#include "onnx/onnx_codec.h"
#include "ws/ws.h"

/* ==== dws model ==== */
/* Trained DWSNet models (adapters and encoders) as the CLI and the daemon use them.
 * A dws_model is immutable once loaded: any number of threads may call
 * dws_adapter_apply / dws_encoder_embed on the same model at once (no global
 * mutable state; every call allocates its own activations). */

/* What a model accepts: MLPs of exactly this d0, dL, a number of weight layers
 * in depth_min..depth_max (depth: the layout of its parameters; both equal to it
 * for a model of one depth), and one of its hidden activations for every hidden
 * layer (activation: the first); hidden widths outside [min_width, max_width] are
 * accepted (the parameter count does not depend on them) but were not seen in
 * training. */
typedef struct {
    int64_t d0;
    int64_t dL;
    int depth;
    dws_activation activation;
    int64_t min_width;
    int64_t max_width;
    int depth_min, depth_max;
    int n_activations;
    dws_activation activations[DWS_COND_MAX_ACTS];
} dws_signature;

/* Memory a caller reuses from call to call (the network's activations and
 * scratch), so that a call allocates and faults in nothing when the last one had
 * this size: one per thread (a daemon worker), never shared by two calls at once.
 * It keeps at most DWS_WORKSPACE_KEEP_BYTES between calls (a larger call's memory
 * is returned when it ends). Results do not depend on it. */
typedef struct dws_workspace dws_workspace;
#define DWS_WORKSPACE_KEEP_BYTES ((size_t)64 << 20)
dws_workspace *dws_workspace_new(void);
void dws_workspace_free(dws_workspace *w);

/* ==== adapt domain ==== */
/* The domain a request asks an adapter for (docs/adapter.md): a chain of
 * corruption steps ("fog:3", "contrast:4,gaussian_noise:2"), `any` (a corrupted
 * domain the caller cannot name), `none` (clean: the weights come back unchanged)
 * or the adapter's default. */
typedef enum { DWS_DOMAIN_DEFAULT = 0, DWS_DOMAIN_NAMED, DWS_DOMAIN_ANY, DWS_DOMAIN_NONE, DWS_DOMAIN_AUTO } dws_domain_kind;

typedef struct {
    dws_domain_kind kind;
    dws_domain chain;   /* DWS_DOMAIN_NAMED */
} dws_adapt_domain;

/* "" or "default", "any", "none" (or "clean"), "auto", or a chain; anything else:
 * DWS_E_UNKNOWN_DOMAIN naming the corruption types. `auto` is for the caller to
 * replace by an estimate from images (dws_adapt_domain_estimated); no adapter reads it. */
int dws_adapt_domain_parse(const char *spec, dws_adapt_domain *d, dws_error *err);
/* The canonical spec: "default", "any", "none", "auto" or the chain's. */
void dws_adapt_domain_format(const dws_adapt_domain *d, char *buf, size_t size);
/* Images a request may send for `auto` (CLI and daemon alike). */
#define DWS_AUTO_MAX_IMAGES 1024

/* An adapter architecture conditioned on every corruption type of this build at
 * severities 1-5, chains of up to two steps, with a cond_dim-float embedding. */
void dws_arch_condition_on_domains(dws_arch *a, int cond_dim);

/* What an adapter reads (from its card): a conditioned adapter reads any chain of
 * up to max_steps steps of its types and severities, `any` and `none`; an
 * unconditioned one its one training domain and `none`. */
typedef struct {
    int conditioned;
    int type_row[DWS_CORRUPT_COUNT];   /* corruption -> row of the condition table; -1: not read */
    int severities, max_steps, any;
    dws_adapt_domain fixed;            /* unconditioned: the domain it was trained for (DEFAULT: unnamed) */
    dws_adapt_domain fallback;         /* what a request that names no domain gets */
} dws_conditions;

typedef struct {
    int threads;   /* BLAS / worker threads for this call; 0 = library default */
    const dws_adapt_domain *domain;     /* adapters: the target domain; NULL: the adapter's default */
    const char *domain_note;            /* recorded as dwsnet.domain_estimate (auto); NULL: none */
    const dws_input_norm *input_norm;   /* ONNX paths: normalisation outside the model; NULL: none */
    dws_workspace *workspace;   /* NULL: the call allocates its own memory */
} dws_run_opts;

typedef struct dws_model dws_model;

dws_model *dws_model_load(const char *path, dws_error *err);
/* The same from a file already read (path: for messages). */
dws_model *dws_model_from_file(const dws_model_file *f, const char *path, dws_error *err);
void dws_model_free(dws_model *m);

dws_model_kind dws_model_get_kind(const dws_model *m);
const char *dws_model_id(const dws_model *m);            /* card "id", e.g. "cifar10c-adapter" */
const char *dws_model_card_json(const dws_model *m);     /* the whole model card (JSON text) */
const dws_signature *dws_model_signature(const dws_model *m);

const dws_conditions *dws_model_conditions(const dws_model *m);
/* What dws_model_resolve_domain and dws_model_accepts_json do, for conditions c of an
 * adapter (or model of this kind) named id. */
int dws_conditions_resolve(const dws_conditions *c, const char *id, dws_model_kind kind, const dws_adapt_domain *req,
                           dws_adapt_domain *out, dws_error *err);
char *dws_conditions_accepts_json(const dws_conditions *c);
/* out = req with the default replaced by the adapter's fallback, when m reads it;
 * else -1 with DWS_E_UNKNOWN_DOMAIN and what m reads. */
int dws_model_resolve_domain(const dws_model *m, const dws_adapt_domain *req, dws_adapt_domain *out, dws_error *err);
/* What an adapter accepts as JSON text (malloc'd; NULL for an encoder or out of
 * memory): {"types", "severities", "max_chain", "any", "none", "default"} for a
 * conditioned adapter, {"domains": [its one domain, when named], "none", "default"}
 * for an unconditioned one. */
char *dws_model_accepts_json(const dws_model *m);

/* 0 when the model accepts in; else -1, err->code DWS_E_INCOMPATIBLE_MODEL and a
 * message naming what differs (d0, classes, depth or activation). */
int dws_model_check_input(const dws_model *m, const dws_mlp *in, dws_error *err);

/* Adapter: out receives the adapted weights (out is initialised by the call with
 * in's shape; free with dws_mlp_free). */
int dws_adapter_apply(const dws_model *m, const dws_mlp *in, dws_mlp *out,
                      const dws_run_opts *opts, dws_error *err);

/* Bytes dws_adapter_apply or dws_encoder_embed will allocate for an MLP shaped like
 * `in` (only its depth and widths are read), with opts' threads: the network's
 * inference (dws_net_inference_bytes) and the result. 0 with err set when the
 * model does not read MLPs of this shape. */
size_t dws_model_run_bytes(const dws_model *m, int n_layers, const int64_t *widths, const dws_run_opts *opts,
                           dws_error *err);
/* Bytes the loaded model holds (its parameters and card), for the daemon's ceiling. */
size_t dws_model_bytes(const dws_model *m);

/* Encoder: *embedding is malloc'd (*dim floats). */
int dws_encoder_embed(const dws_model *m, const dws_mlp *in, float **embedding, int *dim,
                      const dws_run_opts *opts, dws_error *err);

/* Batches: n MLPs through as few network forwards as their widths allow (one per
 * group of identical widths and activations, dws_adapter_forward /
 * dws_encoder_forward over the group). Member i gets exactly what the one-MLP
 * call gives in[i] alone: out[i] (or embedding[i], dim[i]), rc[i] and errs[i],
 * bit for bit and word for word, whatever else shares the batch; a group whose
 * forward cannot run as a whole (memory) runs member by member. Returns how many
 * members succeeded. */
int dws_adapter_apply_batch(const dws_model *m, const dws_mlp *const *in, int n, dws_mlp *out, int *rc,
                            dws_error *errs, const dws_run_opts *opts);
int dws_encoder_embed_batch(const dws_model *m, const dws_mlp *const *in, int n, float **embedding, int *dim,
                            int *rc, dws_error *errs, const dws_run_opts *opts);
/* What a batch of `batch` MLPs of these widths allocates (dws_model_run_bytes is
 * batch 1): the network's inference over the batch, each member's result, and the
 * batch's own input and output tensors (a batch of one runs on views, without). */
size_t dws_model_run_batch_bytes(const dws_model *m, int n_layers, const int64_t *widths, int batch,
                                 const dws_run_opts *opts, dws_error *err);
/* The largest batch of MLPs of these widths (at most max) whose forward a
 * workspace keeps from call to call (DWS_WORKSPACE_KEEP_BYTES: its activations and
 * the batch's tensors), so that batches of it fault in no fresh memory; at least
 * 1. */
int dws_model_batch_cap(const dws_model *m, int n_layers, const int64_t *widths, int max, const dws_run_opts *opts);

/* ---- Making and saving models (training, `dwsnet init-model`) ----
 * Threads: a call runs on opts->threads workers of its own (0: one per online
 * CPU, at most 8); every BLAS call it makes is small enough that OpenBLAS runs it
 * on the calling worker, so OpenBLAS's process-wide thread setting is neither
 * used nor changed and concurrent calls do not interfere (blas_local.h). */

typedef struct {
    const char *id;                 /* [A-Za-z0-9._-], 1..127 characters */
    const char *target_domain;      /* NULL: "none"; a conditioned adapter: its default domain */
    const char *input_convention;   /* NULL: the CIFAR-10 convention of docs/task.md section 2 */
    int64_t min_width, max_width;   /* hidden widths seen in training; 0, 0: none yet */
} dws_model_info;

/* A model around *net, which it takes over (*net is left empty). */
dws_model *dws_model_from_net(struct dws_net *net, const dws_model_info *info, dws_error *err);
/* Sets a top-level card entry to a JSON value (object, array, string, number),
 * e.g. "training" (data hashes, recipe) or "metrics". The keys the loader
 * interprets cannot be replaced this way. */
int dws_model_set_card_entry(dws_model *m, const char *key, const char *json_value, dws_error *err);
int dws_model_save(const dws_model *m, const char *path, dws_error *err);
/* The network, e.g. for training; a trainer may change its parameters and input
 * normalisation in place (not while other threads use the model). */
struct dws_net *dws_model_net(dws_model *m);

/* ==== pixel frame ====
 * The adapter and the encoder read a classifier in the pixel/255 CHW frame of
 * docs/task.md section 2. A decoded ONNX model with its own preprocessing
 * (dws_onnx_input_affine) or normalised outside (opts->input_norm) is folded into
 * that frame (mlp.h: dws_mlp_fold_input) and adapted weights are unfolded back, so
 * only W_1 and b_1 pass through the fold (docs/onnx.md section 2.1). A model whose
 * preprocessing rescales or shifts its input (normalised inside or outside, not
 * only permuted) is folded into the `normalized` frame instead (mlp.h: dws frame;
 * DWS_FRAME_STANDARDIZED for an adapter that reads it, dws_model_frame_for_normalized),
 * where a classifier trained on normalised inputs has its usual weight scale; the
 * folded MLP's `frame` says which. The one place /adapt and /embed, CLI and
 * daemon, do this. */
typedef struct {
    int active;                 /* 0: the model already reads the pixel frame */
    int rescales;               /* its preprocessing rescales or shifts inputs (not only permutes) */
    dws_input_affine t;
    dws_mlp folded;
} dws_pixel_frame;

int dws_pixel_frame_open(dws_pixel_frame *f, const dws_onnx *onnx, const dws_input_norm *norm, dws_frame normalized,
                         dws_error *err);
/* The frame m reads a classifier with normalised inputs in: standardized for an
 * adapter conditioned on frames, else pixel. */
dws_frame dws_model_frame_for_normalized(const dws_model *m);
/* dws_adapter_apply for a pixel-frame MLP in (in->frame pixel) trained in frame f
 * (a zoo member's, an evaluated file's): read in f when m reads that frame (the
 * output mapped back to the pixel frame), else as it is. */
int dws_adapter_apply_in_frame(const dws_model *m, const dws_mlp *in, dws_frame f, dws_mlp *out,
                               const dws_run_opts *opts, dws_error *err);
/* The weights the adapter / encoder read: the folded twin, or the decoded ones. */
const dws_mlp *dws_pixel_frame_weights(const dws_pixel_frame *f, const dws_onnx *onnx);
/* Maps pixel-frame weights w (in place) back to the model's own frame. */
int dws_pixel_frame_unfold(const dws_pixel_frame *f, const dws_onnx *onnx, dws_mlp *w, dws_error *err);
void dws_pixel_frame_close(dws_pixel_frame *f);

/* The encoder's embedding of a decoded ONNX classifier, read in the pixel frame. */
int dws_embed_onnx(const dws_model *m, const dws_onnx *onnx, const dws_run_opts *opts, float **embedding, int *dim,
                   dws_error *err);

/* ==== adapt onnx ==== */
/* Adapting a decoded ONNX classifier and writing the result back into its own
 * tensors, with provenance in metadata_props: the one definition of what
 * `dwsnet adapt` and dwsnetd's /adapt return, so the two stay byte-identical. */
/* *out (malloc'd, *out_len bytes) is the adapted model. adapted (may be NULL)
 * receives the adapted weights; the caller frees them with dws_mlp_free. */
int dws_adapt_onnx(const dws_model *m, const dws_onnx *onnx, const dws_run_opts *opts, dws_mlp *adapted,
                   uint8_t **out, size_t *out_len, dws_error *err);

/* ==== batched onnx runs ====
 * Several decoded classifiers through one network forward (the daemon's batched
 * serving): each keeps its own fold into the pixel frame, checks, unfold, encoding
 * and error; only the forward is shared (dws_adapter_apply_batch). Job i gets
 * exactly what dws_adapt_onnx / dws_embed_onnx give it alone, bytes and errors,
 * whatever else shares the batch. */
typedef struct dws_onnx_job {
    const dws_onnx *onnx;               /* in: the decoded classifier */
    const dws_input_norm *input_norm;   /* in: its normalisation outside the model, or NULL */
    int rc;                             /* out: 0, or -1 with err set */
    dws_error err;
    dws_mlp adapted;                    /* adapt: the adapted weights (the caller frees them) */
    uint8_t *bytes;                     /* adapt: the adapted model (malloc'd), len bytes */
    size_t len;
    float *embedding;                   /* embed: malloc'd, dim floats */
    int dim;
} dws_onnx_job;

/* Called once for each job, as soon as its answer (or error) is final: errors of
 * its own fold before the forward runs, answers one by one after it. The call
 * does not touch the job after this; what it holds is the caller's to free. */
typedef void (*dws_onnx_job_done)(dws_onnx_job *job, void *ctx);

/* opts->input_norm is not read (each job has its own); opts->domain is the one
 * domain of the whole batch (an adapter conditioned on it once). done may be NULL.
 * Returns how many jobs succeeded. */
int dws_adapt_onnx_batch(const dws_model *m, dws_onnx_job *jobs, int n, const dws_run_opts *opts,
                         dws_onnx_job_done done, void *ctx);
int dws_embed_onnx_batch(const dws_model *m, dws_onnx_job *jobs, int n, const dws_run_opts *opts,
                         dws_onnx_job_done done, void *ctx);
/* Bytes job memory beyond the decoded model and the network: the folded copy of
 * the weights when the classifier does not read the pixel frame (0 when it does). */
size_t dws_pixel_frame_bytes(const dws_onnx *onnx, const dws_input_norm *norm);

/* ==== domain estimator ==== */
/* Which domain a handful of unlabeled 3 x 32 x 32 images come from: clean, one
 * corruption of data/data.h at one severity, or a chain of two such steps that is one
 * of the estimator's classes (the adapter's default contrast:4,gaussian_noise:2;
 * docs/estimator.md). The set's features (data/data.h, "domain stats"), standardised,
 * go through a small MLP whose classes are domains; the answer is the type with the
 * most probability summed over its classes, at its likeliest class. A single
 * corruption's type is the corruption (its five severities); a chain's type is its
 * sequence of corruptions ("contrast,gaussian_noise": every chain class of those steps
 * in that order). Stored in a .dws file of its own (card format DWS_ESTIMATOR_FORMAT;
 * the card's "classes" are domain specs, chains included; tensors features.mean,
 * features.std, layerL.W, layerL.b). Immutable once loaded: any number of threads may
 * estimate at once. */
#define DWS_ESTIMATOR_FORMAT "dwsnet-domain-estimator"
#define DWS_ESTIMATOR_KIND "domain-estimator"
#define DWS_ESTIMATOR_MAX_CLASSES 128
#define DWS_ESTIMATOR_MAX_STEPS 2   /* steps of a class: 0 (clean), 1, or a chain of 2 */

typedef struct dws_estimator dws_estimator;

typedef struct {
    dws_domain domain;              /* the estimate; n_steps 0: clean */
    char spec[64];                  /* its canonical text (dws_domain_format): "fog:4", "clean" */
    double p;                       /* the probability of exactly this domain */
    int type;                       /* its type (dws_estimator_class_type) */
    char type_name[64];             /* "clean", "fog", or a chain's "contrast,gaussian_noise" */
    double type_p;                  /* of its type: summed over the type's classes (clean: p) */
    int n_classes;
    double probs[DWS_ESTIMATOR_MAX_CLASSES];   /* per class (dws_estimator_class), summing to 1 */
    size_t n_images;
} dws_domain_estimate;

/* The estimate for n images x (n x 3072, CHW, values in [0,1]); n >= 1. About 30 us
 * per image on one core (docs/estimator.md section 4). */
int dws_estimate_domain(const dws_estimator *e, const float *x, size_t n, dws_domain_estimate *out, dws_error *err);
/* The same from a set's features (dws_domain_features), or from them standardised
 * (dws_estimator_standardize). */
int dws_estimator_classify(const dws_estimator *e, const float *features, dws_domain_estimate *out, dws_error *err);
int dws_estimator_classify_z(const dws_estimator *e, const float *z, dws_domain_estimate *out, dws_error *err);
/* What identification scores: 0 for clean, 1 + the corruption of a domain's first
 * step; DWS_DOMAIN_TYPES in all. */
#define DWS_DOMAIN_TYPES (DWS_CORRUPT_COUNT + 1)
int dws_domain_type(const dws_domain *d);
/* The type of class i of e: dws_domain_type for clean and single corruptions;
 * DWS_DOMAIN_TYPES + k for the k-th distinct sequence of corruptions among e's chain
 * classes (a chain is never the type of its first step). */
int dws_estimator_class_type(const dws_estimator *e, int i);
/* The name of a type of e: "clean", the corruption's, or the chain's corruptions
 * joined by commas ("contrast,gaussian_noise"). */
void dws_estimator_type_name(const dws_estimator *e, int type, char *buf, size_t size);
/* The classes of an estimator that leaves out the corruptions in exclude (bit k:
 * dws_corruption k): clean first, then type by type at severities 1-5, then the
 * n_chains chains (each of DWS_ESTIMATOR_MAX_STEPS steps) that use no excluded
 * corruption, in their order. Returns their count, or -1 (err set) when there would
 * be more than DWS_ESTIMATOR_MAX_CLASSES or a chain is not of 2 steps. */
int dws_estimator_classes(unsigned exclude, const dws_domain *chains, int n_chains, dws_domain *classes,
                          dws_error *err);

/* Domain `auto`: the domain to adapt to from an estimate (clean: none; a chain class:
 * that chain, named), and a note on it ("fog:4 (p=0.93) from 64 images by ID",
 * "contrast:4,gaussian_noise:2 (p=0.97) from ...", note_size bytes) for the answer's
 * metadata and headers. */
void dws_adapt_domain_estimated(const dws_estimator *e, const dws_domain_estimate *est, dws_adapt_domain *d,
                                char *note, size_t note_size);

/* The answer of `dwsnet estimate-domain` and POST /v1/estimate-domain, one definition:
 * {"estimate": spec, "p", "type": "fog", "clean" or "contrast,gaussian_noise" (a chain's),
 *  "type_p", "images", "estimator": id,
 *  "probabilities": {spec: p, ...} in class order}; the caller deletes it. */
typedef struct cJSON cJSON;
cJSON *dws_domain_estimate_json(const dws_estimator *e, const dws_domain_estimate *est);

dws_estimator *dws_estimator_load(const char *path, dws_error *err);
dws_estimator *dws_estimator_from_file(const dws_model_file *f, const char *path, dws_error *err);
/* 1 when the file's card says it holds an estimator (not an adapter or encoder). */
int dws_model_file_is_estimator(const dws_model_file *f);
void dws_estimator_free(dws_estimator *e);

const char *dws_estimator_id(const dws_estimator *e);
const char *dws_estimator_card_json(const dws_estimator *e);
int dws_estimator_class_count(const dws_estimator *e);
const dws_domain *dws_estimator_class(const dws_estimator *e, int i);
size_t dws_estimator_bytes(const dws_estimator *e);

/* ---- Making one (dwsnet train-estimator) ----
 * classes: distinct domains, each clean, one step or a chain of DWS_ESTIMATOR_MAX_STEPS
 * steps; hidden 0: softmax regression.
 * Starts with zero weights and features standardised by mean 0, std 1. */
dws_estimator *dws_estimator_new(const dws_domain *classes, int n_classes, int hidden, const char *id,
                                 dws_error *err);
/* Sets a card entry (e.g. "training", "metrics"); the keys the loader reads cannot be set. */
int dws_estimator_set_card_entry(dws_estimator *e, const char *key, const char *json_value, dws_error *err);
int dws_estimator_save(const dws_estimator *e, const char *path, dws_error *err);
/* For the trainer: the MLP (DWS_DOMAIN_FEATURES -> [hidden ->] classes) and the
 * standardisation (DWS_DOMAIN_FEATURES each), changed in place. */
dws_mlp *dws_estimator_mlp(dws_estimator *e);
float *dws_estimator_feature_mean(dws_estimator *e);
float *dws_estimator_feature_std(dws_estimator *e);
/* z = (features - mean) / std, clipped to [-50, 50] (non-finite: 0). */
void dws_estimator_standardize(const dws_estimator *e, const float *features, float *z);

#endif
