/* dwsnet baseline: the rows of the TASK.md table that are not the DWSNet adapter
 * (no adaptation, the shared rescale, the flat-MLP adapter with and without
 * permutation augmentation, the fine-tuning oracle), measured per held-out
 * classifier on the same data as `dwsnet eval`, written as eval/eval.h JSON. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "data/data.h"
#include "data_cli.h"
#include "base/base.h"
#include "train/train.h"
#include "zoo/zoo.h"

#define CMD "baseline"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet " CMD " --method none|rescale|flat-mlp|flat-mlp-perm|oracle --zoo ZOO [--data DIR]\n"
            "         [--domain SPEC] [--out FILE] [--splits test,test_unseen_widths] [--limit N]\n"
            "         [--steps N] [--classifiers-per-step B] [--images-per-step M] [--lr X] [--hidden H]\n"
            "         [--val-every N] [--val-images N] [--max-train N] [--seed N]\n"
            "         [--model-out FILE | --model-in FILE] [--resume RESULTS.json]\n\n"
            "Measures a baseline on every classifier of the given zoo splits: accuracy on the corrupted\n"
            "test images (test_batch through the domain, noise seed %d, as `dwsnet eval`) and on the clean\n"
            "test images, before and after adaptation, as JSON {method, settings, per_classifier, summary}.\n"
            "  none           no adaptation (the reference row)\n"
            "  rescale        W_1 <- a W_1, b_1 <- b_1 + c rowsum(W_1), (a, c) learned on the zoo's train split\n"
            "  flat-mlp       MLP on the zero-padded, per-tensor normalised weight vector -> residual weights\n"
            "  flat-mlp-perm  the same, every training classifier randomly hidden-permuted at every step\n"
            "  oracle         fine-tune every weight: 1 epoch Adam 5e-4, batch 128, labeled corrupted images\n"
            "Learned baselines train on corrupted training images 0..%d (noise seed %d) with the adapted\n"
            "classifiers' cross-entropy (Adam), and keep the step with the best mean accuracy of the zoo's\n"
            "val classifiers on the last %d corrupted training images. Progress goes to stderr.\n"
            "  --domain SPEC         target domain (default: the zoo's, from ZOO/zoo.json)\n"
            "  --out FILE            write the JSON here (default stdout)\n"
            "  --limit N             at most N classifiers per split (default all)\n"
            "  --steps N             adapter updates (default 500)\n"
            "  --classifiers-per-step B, --images-per-step M   (default 8, 128)\n"
            "  --lr X                Adam learning rate (default 0.01 rescale, 1e-4 flat-mlp)\n"
            "  --hidden H            flat-MLP hidden width (default 64; two hidden layers)\n"
            "  --val-every N         steps between validations (default 50); --val-images N (default 2000)\n"
            "  --max-train N         use at most N training classifiers (default all)\n"
            "  --seed N              training draws, initialisation and oracle batches (default 0)\n"
            "  --model-out FILE      save the trained adapter (rescale, flat-mlp*)\n"
            "  --model-in FILE       measure a saved adapter instead of training one (its settings are\n"
            "                        not in the file: pass the same training flags to record them)\n"
            "  --resume FILE         keep the rows of an earlier results file of this method, measure the rest\n",
            DWS_EVAL_TEST_SEED, 50000 - DWS_EVAL_VAL_IMAGES - 1, DWS_EVAL_TRAIN_SEED, DWS_EVAL_VAL_IMAGES);
}

typedef enum { M_NONE, M_RESCALE, M_FLAT, M_FLAT_PERM, M_ORACLE } method_kind;
static const char *const METHOD_NAMES[] = {"none", "rescale", "flat-mlp", "flat-mlp-perm", "oracle"};

typedef struct {
    method_kind method;
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
    if (o->method == M_RESCALE) {
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
            METHOD_NAMES[o->method], train.n, val.n, o->train.steps, o->train.classifiers_per_step,
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
    if (o->method == M_RESCALE) {
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
    if (o->method == M_RESCALE || o->method == M_FLAT || o->method == M_FLAT_PERM)
        return dws_baseline_adapt_one(a, m, adapted, err);
    if (dws_mlp_clone(adapted, m, err)) return -1;
    if (o->method == M_ORACLE) {
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

static int parse_splits(const char *s, int *splits)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    memset(splits, 0, 4 * sizeof(int));
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        dws_zoo_split k;
        if (dws_zoo_split_parse(tok, &k)) return -1;
        splits[k] = 1;
    }
    return 0;
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
    if (o->method == M_ORACLE) {
        cJSON_AddStringToObject(s, "optimizer", "adam");
        cJSON_AddNumberToObject(s, "lr", dws_float_decimal(DWS_ORACLE_LR));
        cJSON_AddNumberToObject(s, "epochs", DWS_ORACLE_EPOCHS);
        cJSON_AddNumberToObject(s, "batch", DWS_ORACLE_BATCH);
        cJSON_AddStringToObject(s, "images", "all corrupted training images, labeled");
    } else if (o->method != M_NONE) {
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

static int parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"method", required_argument, 0, 'M'},      {"zoo", required_argument, 0, 'z'},
        {"data", required_argument, 0, 'd'},        {"domain", required_argument, 0, 'D'},
        {"out", required_argument, 0, 'o'},         {"splits", required_argument, 0, 'S'},
        {"limit", required_argument, 0, 'n'},       {"steps", required_argument, 0, 's'},
        {"classifiers-per-step", required_argument, 0, 'B'}, {"images-per-step", required_argument, 0, 'I'},
        {"lr", required_argument, 0, 'l'},          {"hidden", required_argument, 0, 'H'},
        {"val-every", required_argument, 0, 'v'},   {"val-images", required_argument, 0, 'V'},
        {"max-train", required_argument, 0, 'T'},   {"seed", required_argument, 0, 'e'},
        {"model-out", required_argument, 0, 'W'},   {"model-in", required_argument, 0, 'R'},
        {"resume", required_argument, 0, 'U'},
        {"help", no_argument, 0, 'h'},              {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->method = (method_kind)-1;
    o->data = dws_data_dir_from_env();
    o->limit = o->max_train = -1;
    o->hidden = 64;
    o->splits[DWS_ZOO_TEST] = o->splits[DWS_ZOO_TEST_UNSEEN_WIDTHS] = 1;
    o->train = (dws_baseline_train_config){.steps = 500, .classifiers_per_step = 8, .images_per_step = 128,
                                           .lr = -1, .val_every = 50, .val_images = 2000};
    long v;
    double x;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'M':
            for (int k = 0; k < 5; k++)
                if (!strcmp(optarg, METHOD_NAMES[k])) o->method = (method_kind)k;
            if ((int)o->method < 0)
                return data_cli_usage(CMD, "--method must be none, rescale, flat-mlp, flat-mlp-perm or oracle");
            break;
        case 'z': o->zoo = optarg; break;
        case 'd': o->data = optarg; break;
        case 'D': o->domain_spec = optarg; break;
        case 'o': o->out = optarg; break;
        case 'S':
            if (parse_splits(optarg, o->splits))
                return data_cli_usage(CMD, "--splits takes train,val,test,test_unseen_widths, got '%s'", optarg);
            break;
        case 'n': if (data_cli_long(CMD, "--limit", optarg, 1, 1000000, &o->limit)) return 2; break;
        case 's': if (data_cli_long(CMD, "--steps", optarg, 0, 10000000, &v)) return 2; o->train.steps = (int)v; break;
        case 'B':
            if (data_cli_long(CMD, "--classifiers-per-step", optarg, 1, 4096, &v)) return 2;
            o->train.classifiers_per_step = (int)v;
            break;
        case 'I':
            if (data_cli_long(CMD, "--images-per-step", optarg, 1, 65536, &v)) return 2;
            o->train.images_per_step = (int)v;
            break;
        case 'l': if (data_cli_double(CMD, "--lr", optarg, 0, 10, &x)) return 2; o->train.lr = (float)x; break;
        case 'H': if (data_cli_long(CMD, "--hidden", optarg, 1, 4096, &o->hidden)) return 2; break;
        case 'v': if (data_cli_long(CMD, "--val-every", optarg, 1, 10000000, &v)) return 2; o->train.val_every = (int)v; break;
        case 'V':
            if (data_cli_long(CMD, "--val-images", optarg, 1, DWS_EVAL_VAL_IMAGES, &v)) return 2;
            o->train.val_images = (int)v;
            break;
        case 'T': if (data_cli_long(CMD, "--max-train", optarg, 1, 1000000, &o->max_train)) return 2; break;
        case 'e': if (data_cli_u64(CMD, "--seed", optarg, &o->seed)) return 2; break;
        case 'W': o->model_out = optarg; break;
        case 'R': o->model_in = optarg; break;
        case 'U': o->resume = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) return data_cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if ((int)o->method < 0 || !o->zoo) return data_cli_usage(CMD, "--method and --zoo are required (see --help)");
    int learned = o->method == M_RESCALE || o->method == M_FLAT || o->method == M_FLAT_PERM;
    if ((o->model_in || o->model_out) && !learned)
        return data_cli_usage(CMD, "--model-in and --model-out are for rescale, flat-mlp and flat-mlp-perm");
    if (o->model_in && o->model_out) return data_cli_usage(CMD, "give --model-in or --model-out, not both");
    if (o->train.lr < 0) o->train.lr = o->method == M_RESCALE ? 0.01f : 1e-4f;
    o->train.permute = o->method == M_FLAT_PERM;
    o->train.seed = o->seed;
    return -1;
}

int cmd_baseline(int argc, char **argv)
{
    options o;
    int parsed = parse_options(argc, argv, &o);
    if (parsed >= 0) return parsed;

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
        int flat = o.method != M_RESCALE;
        if (flat != !strcmp(a->method, "flat-mlp")) {
            dws_error_set(&err, DWS_E_INCOMPATIBLE_MODEL, "%s holds a %s adapter, not %s", o.model_in, a->method,
                          METHOD_NAMES[o.method]);
            goto done;
        }
        cJSON_AddStringToObject(settings, "model_in", o.model_in);
        cJSON *trained = read_training_settings(o.model_in);
        if (trained) cJSON_AddItemToObject(settings, "training", trained);
    } else if (o.method != M_NONE && o.method != M_ORACLE) {
        if (!(a = train_learned(&o, recs, n_recs, &data, settings, &err))) goto done;
        if (o.model_out && (dws_baseline_save(a, o.model_out, &err) || save_training_settings(o.model_out, settings, &err)))
            goto done;
    }
    if (o.resume && read_resume(o.resume, METHOD_NAMES[o.method], &kept, &n_kept, &err)) goto done;
    if (!(rows = calloc((size_t)n_recs + 1, sizeof *rows))) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot allocate results");
        goto done;
    }
    int per_split[4] = {0}, todo = 0;
    for (int i = 0; i < n_recs; i++) todo += o.splits[recs[i].split] && (o.limit < 0 || per_split[recs[i].split]++ < o.limit);
    memset(per_split, 0, sizeof per_split);
    double t0 = data_cli_now();
    for (int i = 0; i < n_recs; i++) {
        const dws_zoo_record *r = &recs[i];
        if (!o.splits[r->split] || (o.limit >= 0 && per_split[r->split] >= o.limit)) continue;
        per_split[r->split]++;
        const dws_result_row *earlier = find_row(kept, n_kept, r->id);
        if (earlier) rows[n_rows] = *earlier;
        else if (measure(&o, a, &data, r, &rows[n_rows], &err)) goto done;
        const dws_result_row *row = &rows[n_rows++];
        fprintf(stderr, "dwsnet " CMD ": %s %d/%d %06d (%s) target %.4f -> %.4f clean %.4f -> %.4f %.0fs\n",
                METHOD_NAMES[o.method], n_rows, todo, r->id, dws_zoo_split_name(r->split), row->target_before,
                row->target_after, row->clean_before, row->clean_after, data_cli_now() - t0);
    }
    rc = dws_results_write(o.out ? o.out : "-", METHOD_NAMES[o.method], settings, rows, n_rows, &err) ? 1 : 0;
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
