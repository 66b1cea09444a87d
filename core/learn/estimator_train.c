/* Training the domain estimator (docs/estimator.md section 3): per class (clean, a
 * corruption at a severity, or a chain of two), the stats of a pool of training images through that
 * domain, rounded to bytes as files hold them; then steps of softmax cross-entropy
 * over batches of sets drawn fresh from the pools (sizes log-uniform between the
 * smallest and largest set), AdamW with warm-up and cosine decay; the best
 * validation (sets from held-out training images) is saved. */
#include "learn.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static const int VAL_SIZES[DWS_ESTIMATOR_VAL_SIZES] = {8, 64, 256};

void dws_estimator_train_defaults(dws_estimator_train_config *c)
{
    static dws_domain default_chain;   /* DWS_DEFAULT_DOMAIN, parsed the same every time */
    dws_error e;
    dws_domain_parse(DWS_DEFAULT_DOMAIN, &default_chain, &e);
    *c = (dws_estimator_train_config){.id = "cifar10c-domain-estimator", .hidden = 256, .pool_images = 1000,
                                      .val_images = 400, .val_sets = 16, .min_set = 8, .max_set = 256, .steps = 6000,
                                      .val_every = 250, .batch_sets = 256, .lr = 3e-3f, .weight_decay = 1e-4f,
                                      .seed = 0, .threads = 2, .chains = &default_chain, .n_chains = 1};
}

typedef struct {
    const dws_estimator_train_config *cfg;
    int n_classes;
    int n_types;                     /* clean, each single corruption, each chain type */
    int type_first[DWS_ESTIMATOR_MAX_CLASSES], type_size[DWS_ESTIMATOR_MAX_CLASSES];
    int by_type[DWS_ESTIMATOR_MAX_CLASSES];   /* the classes, type by type */
    double *train_pool, *val_pool;   /* class x pool x DWS_DOMAIN_STATS */
    uint32_t *order;                 /* per class, a permutation of its pool */
    float *val_x;                    /* sizes x classes x sets x features, standardised */
    uint8_t *val_y;
    int n_val;                       /* sets per size */
} trainer;

/* Set size of a draw: log-uniform between the smallest and largest. */
static uint32_t draw_size(const dws_estimator_train_config *c, dws_rng *rng)
{
    double lo = log(c->min_set), hi = log(c->max_set + 1.0);
    uint32_t n = (uint32_t)exp(lo + (hi - lo) * dws_rng_uniform(rng));
    return n < (uint32_t)c->min_set ? (uint32_t)c->min_set : n > (uint32_t)c->max_set ? (uint32_t)c->max_set : n;
}

/* The classes grouped by their type, types in order of their first class. */
static void group_types(trainer *t, const dws_estimator *e)
{
    int types[DWS_ESTIMATOR_MAX_CLASSES], n = 0, placed = 0;
    for (int i = 0; i < t->n_classes; i++) {
        int g = dws_estimator_class_type(e, i), k = 0;
        while (k < n && types[k] != g) k++;
        if (k == n) types[n++] = g;
    }
    for (int k = 0; k < n; k++) {
        t->type_first[k] = placed;
        for (int i = 0; i < t->n_classes; i++)
            if (dws_estimator_class_type(e, i) == types[k]) t->by_type[placed++] = i;
        t->type_size[k] = placed - t->type_first[k];
    }
    t->n_types = n;
}

/* A class: every type (clean and each chain type too) equally likely, then a class of it
 * (a severity of a single corruption). */
static int draw_class(const trainer *t, dws_rng *rng)
{
    int type = (int)dws_rng_below(rng, (uint64_t)t->n_types), size = t->type_size[type];
    return t->by_type[t->type_first[type] + (size > 1 ? (int)dws_rng_below(rng, (uint64_t)size) : 0)];
}

/* The mean and standard deviation of each feature over sets drawn from the pools. */
static void fit_standardisation(trainer *t, dws_estimator *e)
{
    const dws_estimator_train_config *c = t->cfg;
    enum { PER_CLASS = 48 };
    double sum[DWS_DOMAIN_FEATURES] = {0}, sq[DWS_DOMAIN_FEATURES] = {0};
    dws_rng rng;
    dws_rng_seed_stream(&rng, c->seed, 0x57a7);
    float f[DWS_DOMAIN_FEATURES];
    for (int k = 0; k < t->n_classes; k++) {
        for (int i = 0; i < PER_CLASS; i++) {
            dws_domain_features_of_draw(t->train_pool + (size_t)k * c->pool_images * DWS_DOMAIN_STATS,
                                        t->order + (size_t)k * c->pool_images, (uint32_t)c->pool_images,
                                        draw_size(c, &rng), &rng, f);
            for (int j = 0; j < DWS_DOMAIN_FEATURES; j++) sum[j] += f[j], sq[j] += (double)f[j] * f[j];
        }
    }
    double n = (double)t->n_classes * PER_CLASS;
    float *mean = dws_estimator_feature_mean(e), *std = dws_estimator_feature_std(e);
    for (int j = 0; j < DWS_DOMAIN_FEATURES; j++) {
        double m = sum[j] / n, v = sq[j] / n - m * m;
        mean[j] = (float)m;
        std[j] = (float)(v > 1e-12 ? sqrt(v) : 1e-6);
    }
}

/* Fixed validation sets: n_val per class and size, from the validation pools (the same
 * sets of a class whatever the other classes, so that estimators with and without chain
 * classes are compared on the same single-domain sets). */
static int make_val_sets(trainer *t, const dws_estimator *e, dws_error *err)
{
    const dws_estimator_train_config *c = t->cfg;
    size_t n = (size_t)DWS_ESTIMATOR_VAL_SIZES * t->n_classes * c->val_sets;
    t->n_val = c->val_sets;
    t->val_x = malloc(sizeof(float) * n * DWS_DOMAIN_FEATURES);
    t->val_y = malloc(n);
    uint32_t *order = malloc(sizeof(uint32_t) * (size_t)c->val_images);
    if (!t->val_x || !t->val_y || !order) {
        free(order);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for the validation sets");
        return -1;
    }
    float f[DWS_DOMAIN_FEATURES];
    size_t row = 0;
    for (int s = 0; s < DWS_ESTIMATOR_VAL_SIZES; s++) {
        for (int k = 0; k < t->n_classes; k++) {
            /* a stream per size and class: a class's sets do not depend on the classes beside it */
            dws_rng rng;
            dws_rng_seed_stream(&rng, c->seed ^ 0x7a1, (uint64_t)(s * DWS_ESTIMATOR_MAX_CLASSES + k));
            for (int i = 0; i < c->val_images; i++) order[i] = (uint32_t)i;
            for (int i = 0; i < c->val_sets; i++, row++) {
                dws_domain_features_of_draw(t->val_pool + (size_t)k * c->val_images * DWS_DOMAIN_STATS, order,
                                            (uint32_t)c->val_images, (uint32_t)VAL_SIZES[s], &rng, f);
                dws_estimator_standardize(e, f, t->val_x + row * DWS_DOMAIN_FEATURES);
                t->val_y[row] = (uint8_t)k;
            }
        }
    }
    free(order);
    return 0;
}

/* The validation: type accuracy per set size (over every class, over clean and the
 * single corruptions, over the chains), their mean over every class, and the mean loss. */
static int validate(const trainer *t, const dws_estimator *e, dws_estimator_val *v, dws_error *err)
{
    dws_domain_estimate est;
    double loss = 0;
    size_t row = 0;
    for (int s = 0; s < DWS_ESTIMATOR_VAL_SIZES; s++) {
        int right[2] = {0}, total[2] = {0};   /* [chain] */
        for (int k = 0; k < t->n_classes; k++) {
            int chain = dws_estimator_class(e, k)->n_steps > 1;
            for (int i = 0; i < t->n_val; i++, row++) {
                if (dws_estimator_classify_z(e, t->val_x + row * DWS_DOMAIN_FEATURES, &est, err)) return -1;
                right[chain] += est.type == dws_estimator_class_type(e, t->val_y[row]);
                loss -= log(est.probs[t->val_y[row]] + 1e-12);
                total[chain]++;
            }
        }
        v->type_acc[s] = (double)(right[0] + right[1]) / (total[0] + total[1]);
        v->single_acc[s] = (double)right[0] / total[0];
        v->chain_acc[s] = total[1] ? (double)right[1] / total[1] : NAN;
    }
    v->mean_type_acc = 0;
    for (int s = 0; s < DWS_ESTIMATOR_VAL_SIZES; s++) v->mean_type_acc += v->type_acc[s] / DWS_ESTIMATOR_VAL_SIZES;
    v->loss = loss / (double)row;
    return 0;
}

/* by size: {"8": v[0], "64": v[1], "256": v[2]}, rounded to 4 decimals; null for NAN. */
static void add_by_size(cJSON *o, const char *key, const double *v)
{
    cJSON *a = cJSON_AddObjectToObject(o, key);
    for (int s = 0; s < DWS_ESTIMATOR_VAL_SIZES; s++) {
        char size[16];
        snprintf(size, sizeof size, "%d", VAL_SIZES[s]);
        cJSON_AddItemToObject(a, size, isnan(v[s]) ? cJSON_CreateNull() : cJSON_CreateNumber(round(v[s] * 1e4) / 1e4));
    }
}

static char *training_card(const dws_estimator_train_config *c, const dws_estimator *e, const dws_estimator_val *best,
                           int64_t best_step, double seconds)
{
    int n_classes = dws_estimator_class_count(e);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "data", "CIFAR-10 training images (data_batch_*): pools from images 0..44999, "
                                       "validation from 45000..49999, rounded to bytes after corruption");
    cJSON_AddNumberToObject(o, "classes", n_classes);
    cJSON *ex = cJSON_AddArrayToObject(o, "excluded");
    for (int k = 0; k < DWS_CORRUPT_COUNT; k++)
        if (c->exclude & (1u << k))
            cJSON_AddItemToArray(ex, cJSON_CreateString(dws_corruption_name((dws_corruption)k)));
    cJSON *ch = cJSON_AddArrayToObject(o, "chains");
    for (int i = 0; i < n_classes; i++)
        if (dws_estimator_class(e, i)->n_steps > 1) {
            char spec[64];
            dws_domain_format(dws_estimator_class(e, i), spec, sizeof spec);
            cJSON_AddItemToArray(ch, cJSON_CreateString(spec));
        }
    const struct {
        const char *key;
        double value;
    } settings[] = {{"hidden", c->hidden}, {"pool_images", c->pool_images}, {"val_images", c->val_images},
                    {"val_sets", c->val_sets}, {"min_set", c->min_set}, {"max_set", c->max_set},
                    {"steps", (double)c->steps}, {"batch_sets", c->batch_sets}, {"lr", dws_float_decimal(c->lr)},
                    {"weight_decay", dws_float_decimal(c->weight_decay)}, {"seed", (double)c->seed}};
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        cJSON_AddNumberToObject(o, settings[i].key, settings[i].value);
    cJSON_AddNumberToObject(o, "best_step", (double)best_step);
    add_by_size(o, "validation_type_accuracy", best->type_acc);
    add_by_size(o, "validation_type_accuracy_single_steps", best->single_acc);
    if (!isnan(best->chain_acc[0])) add_by_size(o, "validation_chain_accuracy", best->chain_acc);
    cJSON_AddNumberToObject(o, "validation_loss", round(best->loss * 1e4) / 1e4);
    cJSON_AddNumberToObject(o, "seconds", round(seconds * 10) / 10);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int save(dws_estimator *e, const dws_estimator_train_config *c, const dws_estimator_val *v, int64_t step,
                double seconds, dws_error *err)
{
    char *card = training_card(c, e, v, step, seconds);
    int rc = !card ? (dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for the card"), -1)
                   : dws_estimator_set_card_entry(e, "training", card, err);
    free(card);
    return rc ? rc : dws_estimator_save(e, c->out, err);
}

/* The optimisation: AdamW over sets drawn fresh every step. */
static int optimise(trainer *t, dws_estimator *e, const dws_estimator_train_hooks *hooks, double t0,
                    dws_estimator_val *best, dws_error *err)
{
    const dws_estimator_train_config *c = t->cfg;
    dws_mlp *m = dws_estimator_mlp(e);
    dws_rng init;
    dws_rng_seed_stream(&init, c->seed, 0x1217);
    dws_mlp_init_default(m, &init);
    dws_mlp grad = {0};
    dws_optim opt = {0};
    dws_optim_config oc = dws_optim_defaults(DWS_OPT_ADAMW, c->lr);
    oc.weight_decay = c->weight_decay;
    oc.clip = 5.f;
    int B = c->batch_sets;
    float *x = malloc(sizeof(float) * (size_t)B * DWS_DOMAIN_FEATURES);
    uint8_t *y = malloc((size_t)B);
    float *ws = malloc(sizeof(float) * dws_mlp_grad_ws_floats(m, B));
    int rc = -1;
    if (!x || !y || !ws) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for a batch");
        goto done;
    }
    if (dws_mlp_clone(&grad, m, err) || dws_optim_init(&opt, &oc, m->n_params, err)) goto done;
    dws_lr_schedule sched = {DWS_LR_WARMUP_COSINE, c->lr, c->steps / 20, c->steps, 0.02};
    dws_train_progress p = {.steps = c->steps, .best_val = -1};
    double loss_sum = 0;
    int64_t right = 0, seen = 0;
    float f[DWS_DOMAIN_FEATURES];
    for (int64_t step = 0; step < c->steps; step++) {
        dws_rng rng;
        dws_rng_seed_stream(&rng, c->seed ^ 0x5e75, (uint64_t)step);
        for (int b = 0; b < B; b++) {
            int k = draw_class(t, &rng);
            dws_domain_features_of_draw(t->train_pool + (size_t)k * c->pool_images * DWS_DOMAIN_STATS,
                                        t->order + (size_t)k * c->pool_images, (uint32_t)c->pool_images,
                                        draw_size(c, &rng), &rng, f);
            dws_estimator_standardize(e, f, x + (size_t)b * DWS_DOMAIN_FEATURES);
            y[b] = (uint8_t)k;
        }
        float loss;
        int correct;
        if (dws_mlp_xent_grad(m, x, y, B, &grad, NULL, ws, &loss, &correct, err)) goto done;
        opt.cfg.lr = (float)dws_lr_at(&sched, step);
        dws_optim_step(&opt, m->params, grad.params, &p.grad_norm);
        loss_sum += loss;
        right += correct;
        seen++;
        int last = step + 1 == c->steps;
        if ((step + 1) % c->val_every && !last) continue;
        dws_estimator_val v;
        if (validate(t, e, &v, err)) goto done;
        p.step = step + 1;
        p.lr = opt.cfg.lr;
        p.loss = loss_sum / (double)seen;
        p.acc = (double)right / (double)(seen * B);
        p.batch = B;
        p.validated = 1;
        p.val_after = v.mean_type_acc;
        p.improved = v.mean_type_acc > p.best_val || (v.mean_type_acc == p.best_val && v.loss < best->loss);
        if (p.improved) {
            p.best_val = v.mean_type_acc;
            p.best_step = step + 1;
            *best = v;
            if (save(e, c, &v, step + 1, dws_train_seconds() - t0, err)) goto done;
        }
        dws_train_progress_time(&p, t0, 0);
        loss_sum = 0;
        right = seen = 0;
        if (hooks && hooks->progress) {
            int r = hooks->progress(hooks->ctx, &p, err);
            if (r < 0) goto done;
            if (r > 0) break;
        }
    }
    rc = 0;
done:
    free(x);
    free(y);
    free(ws);
    dws_mlp_free(&grad);
    dws_optim_free(&opt);
    return rc;
}

static void stage(const dws_estimator_train_hooks *h, const char *what, double seconds)
{
    if (h && h->on_stage) h->on_stage(h->ctx, what, seconds);
}

int dws_estimator_train(const dws_estimator_train_config *c, const dws_estimator_train_hooks *hooks,
                        dws_estimator_val *best, dws_error *err)
{
    memset(best, 0, sizeof *best);
    if (!c->out || c->pool_images < c->max_set || c->val_images < VAL_SIZES[DWS_ESTIMATOR_VAL_SIZES - 1] ||
        c->min_set < 1 || c->min_set > c->max_set || c->steps < 1 || c->batch_sets < 1 || c->val_every < 1 ||
        c->val_sets < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT,
                      "estimator training needs an output file, pools of at least the largest set (%d) and %d "
                      "validation images per class, 1 <= min_set <= max_set, and positive steps, batch, val_every",
                      c->max_set, VAL_SIZES[DWS_ESTIMATOR_VAL_SIZES - 1]);
        return -1;
    }
    double t0 = dws_train_seconds();
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int n = dws_estimator_classes(c->exclude, c->chains, c->n_chains, classes, err);
    if (n < 0) return -1;
    trainer t = {.cfg = c, .n_classes = n};
    dws_image_set train = {0};
    dws_estimator *e = NULL;
    int rc = -1;
    size_t fit = 0;
    if (!(e = dws_estimator_new(classes, n, c->hidden, c->id, err))) goto done;   /* the classes checked first */
    if (dws_cifar10_load_split(c->data_dir, DWS_SPLIT_TRAIN, &train, err)) goto done;
    if (train.n <= DWS_EVAL_VAL_IMAGES) {
        dws_error_set(err, DWS_E_BAD_DATA, "the training split has %zu images; need more than %d", train.n,
                      DWS_EVAL_VAL_IMAGES);
        goto done;
    }
    fit = train.n - DWS_EVAL_VAL_IMAGES;
    if ((size_t)c->pool_images > fit || c->val_images > DWS_EVAL_VAL_IMAGES) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "pools of %d and %d images do not fit %zu and %d images",
                      c->pool_images, c->val_images, fit, DWS_EVAL_VAL_IMAGES);
        goto done;
    }
    stage(hooks, "load", dws_train_seconds() - t0);
    t.train_pool = malloc(sizeof(double) * (size_t)n * c->pool_images * DWS_DOMAIN_STATS);
    t.val_pool = malloc(sizeof(double) * (size_t)n * c->val_images * DWS_DOMAIN_STATS);
    t.order = malloc(sizeof(uint32_t) * (size_t)n * c->pool_images);
    if (!t.train_pool || !t.val_pool || !t.order) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for the image pools");
        goto done;
    }
    for (size_t i = 0; i < (size_t)n * c->pool_images; i++) t.order[i] = (uint32_t)(i % (size_t)c->pool_images);
    if (dws_domain_pools_build(&train, 0, (uint32_t)fit, classes, n, (uint32_t)c->pool_images, c->seed, c->threads,
                               t.train_pool, err))
        goto done;
    stage(hooks, "training pools", dws_train_seconds() - t0);
    if (dws_domain_pools_build(&train, (uint32_t)fit, DWS_EVAL_VAL_IMAGES, classes, n, (uint32_t)c->val_images,
                               c->seed + 1, c->threads, t.val_pool, err))
        goto done;
    stage(hooks, "validation pools", dws_train_seconds() - t0);
    group_types(&t, e);
    fit_standardisation(&t, e);
    if (make_val_sets(&t, e, err)) goto done;
    rc = optimise(&t, e, hooks, t0, best, err);
done:
    dws_image_set_free(&train);
    free(t.train_pool);
    free(t.val_pool);
    free(t.order);
    free(t.val_x);
    free(t.val_y);
    dws_estimator_free(e);
    return rc;
}
