/* dwsnet baseline: the rows of the docs/task.md section 6 report that are not the DWSNet adapter
 * (no adaptation, the shared rescale, the flat-MLP adapter with and without
 * permutation augmentation, the fine-tuning oracle), measured per held-out
 * classifier on the same data as `dwsnet eval`, written as eval/eval.h JSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "data/data.h"
#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "base/base.h"
#include "train/train.h"
#include "zoo/zoo.h"

#define CMD "baseline"

typedef struct {
    baseline_method method;
    const char *zoo, *data, *domain_spec, *out, *model_out, *model_in, *resume;
    int splits[4];                          /* 1 when split k is evaluated */
    long limit, max_train, hidden;
    dws_baseline_train_config train;
    uint64_t seed;
} options;

typedef struct {
    dws_mlp *mlps;
    const dws_mlp **ptrs;
    int n;
} mlp_list;

static void mlp_list_free(mlp_list *l)
{
    for (int i = 0; i < l->n; i++) dws_mlp_free(&l->mlps[i]);
    free(l->mlps);
    free(l->ptrs);
}

/* Loads the classifiers of one split (at most max; max < 0: all). */
static int load_split(const char *zoo, const dws_zoo_record *recs, int n, dws_zoo_split split, long max, mlp_list *l,
                      dws_error *err)
{
    memset(l, 0, sizeof *l);
    l->mlps = calloc((size_t)n + 1, sizeof *l->mlps);
    l->ptrs = calloc((size_t)n + 1, sizeof *l->ptrs);
    if (!l->mlps || !l->ptrs) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the classifier list");
        return -1;
    }
    for (int i = 0; i < n && (max < 0 || l->n < max); i++) {
        if (recs[i].split != split) continue;
        if (dws_zoo_load_mlp(zoo, &recs[i], &l->mlps[l->n], err)) return -1;
        l->ptrs[l->n] = &l->mlps[l->n];
        l->n++;
    }
    return 0;
}

static int print_progress(void *ctx, const dws_train_progress *p, dws_error *err)
{
    (void)ctx, (void)err;
    fprintf(stderr, "dwsnet " CMD ": step %lld/%lld loss %.4f val_acc %.4f best %.4f@%lld %.0fs ETA %.0fs\n",
            (long long)p->step, (long long)p->steps, p->loss, p->val_after, p->best_val, (long long)p->best_step,
            p->elapsed, p->eta);
    return 0;
}

/* Trains a learned baseline on the zoo's train split; adds what it learned and the
 * budget it used to settings. */
static dws_baseline *train_learned(const options *o, const dws_zoo_record *recs, int n, const dws_eval_data *data,
                                   cJSON *settings, dws_error *err)
{
    mlp_list train = {0}, val = {0};
    dws_baseline *a = NULL;
    if (load_split(o->zoo, recs, n, DWS_ZOO_TRAIN, o->max_train, &train, err) ||
        load_split(o->zoo, recs, n, DWS_ZOO_VAL, -1, &val, err))
        goto fail;
    if (train.n == 0 || val.n == 0) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s has %d train and %d val classifiers; both must be > 0", o->zoo, train.n,
                      val.n);
        goto fail;
    }
    if (o->method == BASELINE_RESCALE) {
        a = dws_rescale_create(err);
    } else {
        /* Pad to the largest widths of any classifier in the zoo, so test ones fit too. */
        const dws_mlp *first = train.ptrs[0];
        int64_t max_w[DWS_MAX_LAYERS + 1];
        memcpy(max_w, first->widths, sizeof max_w);
        for (int i = 0; i < n; i++)
            for (int l = 1; l < recs[i].n_layers && recs[i].n_layers == first->n_layers; l++)
                if (recs[i].widths[l] > max_w[l]) max_w[l] = recs[i].widths[l];
        a = dws_flat_create(first->n_layers, max_w, (int)o->hidden, o->train.classifiers_per_step, o->seed, err);
        if (a) {
            dws_flat_fit_scales(a, train.ptrs, train.n);
            cJSON *pad = cJSON_AddArrayToObject(settings, "padded_widths");
            for (int l = 0; l <= first->n_layers; l++) cJSON_AddItemToArray(pad, cJSON_CreateNumber((double)max_w[l]));
            int ns;
            const float *sc = dws_flat_scales(a, &ns);
            cJSON *scales = cJSON_AddArrayToObject(settings, "tensor_scales");
            for (int t = 0; t < ns; t++) cJSON_AddItemToArray(scales, cJSON_CreateNumber(sc[t]));
            cJSON_AddNumberToObject(settings, "hidden", (double)o->hidden);
            cJSON_AddNumberToObject(settings, "adapter_params", (double)a->n_params);
        }
    }
    if (!a) goto fail;
    fprintf(stderr, "dwsnet " CMD ": training %s on %d train classifiers (%d val), %d steps of %d classifiers x %d images\n",
            baseline_method_names[o->method], train.n, val.n, o->train.steps, o->train.classifiers_per_step,
            o->train.images_per_step);
    dws_baseline_train_config cfg = o->train;
    cfg.progress = print_progress;
    dws_baseline_train_result r;
    if (dws_baseline_train(a, train.ptrs, train.n, val.ptrs, val.n, &data->fit_view, &data->val_view, &cfg, &r, err))
        goto fail;
    cJSON_AddNumberToObject(settings, "train_classifiers", train.n);
    cJSON_AddNumberToObject(settings, "val_classifiers", val.n);
    cJSON_AddNumberToObject(settings, "best_step", r.best_step);
    cJSON_AddNumberToObject(settings, "best_val_acc", r.best_val_acc);
    cJSON_AddNumberToObject(settings, "identity_val_acc", r.identity_val_acc);
    cJSON_AddNumberToObject(settings, "train_seconds", r.seconds);
    cJSON_AddNumberToObject(settings, "classifier_batches", (double)r.classifier_batches);
    cJSON_AddNumberToObject(settings, "images_seen", (double)r.images_seen);
    if (o->method == BASELINE_RESCALE) {
        cJSON_AddNumberToObject(settings, "a", a->params[0]);
        cJSON_AddNumberToObject(settings, "c", a->params[1]);
    }
    mlp_list_free(&train);
    mlp_list_free(&val);
    return a;
fail:
    if (a) a->destroy(a);
    mlp_list_free(&train);
    mlp_list_free(&val);
    return NULL;
}

/* adapted = the method applied to m (a fresh MLP). */
static int adapt(const options *o, dws_baseline *a, const dws_eval_data *data, const dws_mlp *m, int id,
                 dws_mlp *adapted, dws_error *err)
{
    if (o->method == BASELINE_RESCALE || o->method == BASELINE_FLAT || o->method == BASELINE_FLAT_PERM)
        return dws_baseline_adapt_one(a, m, adapted, err);
    if (dws_mlp_clone(adapted, m, err)) return -1;
    if (o->method == BASELINE_ORACLE) {
        dws_samples labeled = dws_samples_of_floats(data->target_train, data->train.labels, data->train.n, data->train.dim);
        if (dws_oracle_finetune(adapted, &labeled, dws_mix64(o->seed ^ (uint64_t)id), err)) {
            dws_mlp_free(adapted);
            return -1;
        }
    }
    return 0;
}

static int measure(const options *o, dws_baseline *a, const dws_eval_data *data, const dws_zoo_record *rec,
                   dws_result_row *row, dws_error *err)
{
    dws_mlp m = {0}, adapted = {0};
    int rc = -1;
    if (dws_zoo_load_mlp(o->zoo, rec, &m, err)) return -1;
    row->id = rec->id;
    row->split = rec->split;
    row->n_layers = rec->n_layers;
    row->activation = m.n_layers > 1 ? m.act[0] : DWS_ACT_IDENTITY;
    memcpy(row->widths, rec->widths, sizeof row->widths);
    if (dws_mlp_accuracy(&m, &data->target_test_view, &row->target_before, err) ||
        dws_mlp_accuracy(&m, &data->clean_test_view, &row->clean_before, err) ||
        adapt(o, a, data, &m, rec->id, &adapted, err) ||
        dws_mlp_accuracy(&adapted, &data->target_test_view, &row->target_after, err) ||
        dws_mlp_accuracy(&adapted, &data->clean_test_view, &row->clean_after, err))
        goto done;
    rc = 0;
done:
    dws_mlp_free(&m);
    dws_mlp_free(&adapted);
    return rc;
}

/* A saved adapter's training settings live beside it in FILE.settings.json, so that
 * results measured with --model-in still say how it was trained. */
static int save_training_settings(const char *model_path, const cJSON *settings, dws_error *err)
{
    char path[4096], *text = cJSON_Print(settings);
    snprintf(path, sizeof path, "%s.settings.json", model_path);
    int rc = text ? dws_write_file_atomic(path, text, strlen(text), err) : -1;
    if (!text) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot format the settings");
    free(text);
    return rc;
}

static cJSON *read_training_settings(const char *model_path)
{
    char path[4096];
    uint8_t *buf;
    size_t len;
    dws_error ignored;
    snprintf(path, sizeof path, "%s.settings.json", model_path);
    if (dws_gz_read_all(path, 1 << 20, &buf, &len, &ignored)) return NULL;
    cJSON *o = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    return o;
}

/* Rows of an earlier run of the same method (--resume). */
static int read_resume(const char *path, const char *method, dws_result_row **rows, int *n, dws_error *err)
{
    char found[32];
    if (dws_results_read(path, found, sizeof found, rows, n, err)) return -1;
    if (strcmp(found, method)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "%s holds %s results, not %s", path, found, method);
        return -1;
    }
    return 0;
}

static const dws_result_row *find_row(const dws_result_row *rows, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (rows[i].id == id) return &rows[i];
    return NULL;
}

static cJSON *base_settings(const options *o, const dws_domain *d, int n_records)
{
    cJSON *s = cJSON_CreateObject();
    char domain[256];
    dws_domain_format(d, domain, sizeof domain);
    cJSON_AddStringToObject(s, "zoo", o->zoo);
    cJSON_AddNumberToObject(s, "zoo_records", n_records);
    cJSON_AddStringToObject(s, "domain", domain);
    cJSON_AddNumberToObject(s, "test_noise_seed", DWS_EVAL_TEST_SEED);
    cJSON_AddNumberToObject(s, "train_noise_seed", DWS_EVAL_TRAIN_SEED);
    cJSON_AddNumberToObject(s, "seed", (double)o->seed);
    if (o->method == BASELINE_ORACLE) {
        cJSON_AddStringToObject(s, "optimizer", "adam");
        cJSON_AddNumberToObject(s, "lr", dws_float_decimal(DWS_ORACLE_LR));
        cJSON_AddNumberToObject(s, "epochs", DWS_ORACLE_EPOCHS);
        cJSON_AddNumberToObject(s, "batch", DWS_ORACLE_BATCH);
        cJSON_AddStringToObject(s, "images", "all corrupted training images, labeled");
    } else if (o->method != BASELINE_NONE) {
        cJSON_AddNumberToObject(s, "steps", o->train.steps);
        cJSON_AddNumberToObject(s, "classifiers_per_step", o->train.classifiers_per_step);
        cJSON_AddNumberToObject(s, "images_per_step", o->train.images_per_step);
        cJSON_AddStringToObject(s, "optimizer", "adam");
        cJSON_AddNumberToObject(s, "lr", dws_float_decimal(o->train.lr));
        cJSON_AddNumberToObject(s, "val_every", o->train.val_every);
        cJSON_AddNumberToObject(s, "val_images", o->train.val_images);
        cJSON_AddBoolToObject(s, "permutation_augmentation", o->train.permute);
        cJSON_AddStringToObject(s, "fit_images", "corrupted training images 0..44999 (noise seed 1)");
        cJSON_AddStringToObject(s, "val_images_from", "corrupted training images 45000..49999");
    }
    return s;
}

/* The run's settings from the command line; -1 when they hold together, else the
 * exit status (the error line printed). */
static int settings(const baseline_opts *c, options *o)
{
    *o = (options){.method = (baseline_method)c->method, .zoo = c->zoo,
                   .data = c->data ? c->data : dws_data_dir_from_env(), .domain_spec = c->domain, .out = c->out,
                   .model_out = c->model_out, .model_in = c->model_in, .resume = c->resume,
                   .limit = c->limit ? c->limit : -1, .max_train = c->max_train ? c->max_train : -1,
                   .hidden = c->hidden, .seed = c->seed};
    memcpy(o->splits, c->splits.on, sizeof o->splits);
    o->train = (dws_baseline_train_config){.steps = (int)c->steps, .classifiers_per_step = (int)c->classifiers_per_step,
                                           .images_per_step = (int)c->images_per_step, .lr = c->lr,
                                           .val_every = (int)c->val_every, .val_images = (int)c->val_images};
    int learned = o->method == BASELINE_RESCALE || o->method == BASELINE_FLAT || o->method == BASELINE_FLAT_PERM;
    if ((o->model_in || o->model_out) && !learned)
        return cli_usage_error(&cli_baseline, "--model-in and --model-out are for rescale, flat-mlp and flat-mlp-perm");
    if (o->model_in && o->model_out) return cli_usage_error(&cli_baseline, "give --model-in or --model-out, not both");
    if (!c->lr_seen) o->train.lr = o->method == BASELINE_RESCALE ? 0.01f : 1e-4f;
    o->train.permute = o->method == BASELINE_FLAT_PERM;
    o->train.seed = o->seed;
    return -1;
}

int cmd_baseline(int argc, char **argv)
{
    baseline_opts c;
    options o;
    int status = cli_parse(&cli_baseline, argc, argv, &c);
    if (status < 0) status = settings(&c, &o);
    if (status >= 0) return status;

    dws_error err = {0};
    dws_domain domain;
    dws_zoo_spec spec;
    dws_zoo_record *recs = NULL;
    dws_result_row *rows = NULL, *kept = NULL;
    dws_eval_data data = {0};
    dws_baseline *a = NULL;
    cJSON *settings = NULL;
    int n_recs = 0, n_rows = 0, n_kept = 0, rc = 1;
    if (o.domain_spec ? dws_domain_parse(o.domain_spec, &domain, &err) : dws_zoo_read_spec(o.zoo, &spec, &err))
        goto done;
    if (!o.domain_spec) domain = spec.domain;
    if (dws_zoo_catalog_read(o.zoo, &recs, &n_recs, &err) || dws_eval_data_load(&data, o.data, &domain, &err))
        goto done;
    settings = base_settings(&o, &domain, n_recs);
    if (o.model_in) {
        if (!(a = dws_baseline_load(o.model_in, 1, &err))) goto done;
        int flat = o.method != BASELINE_RESCALE;
        if (flat != !strcmp(a->method, "flat-mlp")) {
            dws_error_set(&err, DWS_E_INCOMPATIBLE_MODEL, "%s holds a %s adapter, not %s", o.model_in, a->method,
                          baseline_method_names[o.method]);
            goto done;
        }
        cJSON_AddStringToObject(settings, "model_in", o.model_in);
        cJSON *trained = read_training_settings(o.model_in);
        if (trained) cJSON_AddItemToObject(settings, "training", trained);
    } else if (o.method != BASELINE_NONE && o.method != BASELINE_ORACLE) {
        if (!(a = train_learned(&o, recs, n_recs, &data, settings, &err))) goto done;
        if (o.model_out && (dws_baseline_save(a, o.model_out, &err) || save_training_settings(o.model_out, settings, &err)))
            goto done;
    }
    if (o.resume && read_resume(o.resume, baseline_method_names[o.method], &kept, &n_kept, &err)) goto done;
    if (!(rows = calloc((size_t)n_recs + 1, sizeof *rows))) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot allocate results");
        goto done;
    }
    int per_split[4] = {0}, todo = 0;
    for (int i = 0; i < n_recs; i++) todo += o.splits[recs[i].split] && (o.limit < 0 || per_split[recs[i].split]++ < o.limit);
    memset(per_split, 0, sizeof per_split);
    double t0 = cli_now();
    for (int i = 0; i < n_recs; i++) {
        const dws_zoo_record *r = &recs[i];
        if (!o.splits[r->split] || (o.limit >= 0 && per_split[r->split] >= o.limit)) continue;
        per_split[r->split]++;
        const dws_result_row *earlier = find_row(kept, n_kept, r->id);
        if (earlier) rows[n_rows] = *earlier;
        else if (measure(&o, a, &data, r, &rows[n_rows], &err)) goto done;
        const dws_result_row *row = &rows[n_rows++];
        fprintf(stderr, "dwsnet " CMD ": %s %d/%d %06d (%s) target %.4f -> %.4f clean %.4f -> %.4f %.0fs\n",
                baseline_method_names[o.method], n_rows, todo, r->id, dws_zoo_split_name(r->split), row->target_before,
                row->target_after, row->clean_before, row->clean_after, cli_now() - t0);
    }
    rc = dws_results_write(o.out ? o.out : "-", baseline_method_names[o.method], settings, rows, n_rows, &err) ? 1 : 0;
    settings = NULL;   /* taken over by dws_results_write */
done:
    if (rc) cli_fail(CMD, &err);
    cJSON_Delete(settings);
    if (a) a->destroy(a);
    free(rows);
    free(kept);
    free(recs);
    dws_eval_data_free(&data);
    return rc;
}
