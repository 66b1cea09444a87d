/* dwsnet eval-embedder: linear probes on a trained encoder's embeddings of a zoo,
 * beside the two baselines (weight statistics, PCA of the flattened weights),
 * the permutation-invariance check, and 2-D plots of the test embeddings. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_io.h"
#include "commands.h"
#include "model/model.h"
#include "ws/ws.h"
#include "embedder_cli.h"
#include "learn/learn.h"
#include "eval/eval.h"
#include "model_cli.h"
#include "base/base.h"

#define CMD "eval-embedder"
#define MAX_PROPS 16
#define N_SETS 3
#define INVARIANCE_NETS 32

static const char *const SPLITS[] = {"test", "test_unseen_widths"};

typedef struct {
    const char *name;
    int p;
    double *X;    /* n x p, rows in record order */
} feature_set;

typedef struct {
    int *idx;
    int n;
} row_set;

typedef struct {
    double val_r2, lambda, r2[2];   /* r2 on SPLITS */
    int has[2];
} probe_result;

static row_set rows_of(const dws_zoo_records *z, const char *split)
{
    row_set s = {malloc(sizeof(int) * ((size_t)z->n + 1)), 0};
    for (int i = 0; s.idx && i < z->n; i++)
        if (!strcmp(dws_zoo_split_name(z->r[i].split), split)) s.idx[s.n++] = i;
    return s;
}

static double *gather(const feature_set *f, const row_set *s)
{
    double *X = malloc(sizeof(double) * (size_t)(s->n + 1) * f->p);
    for (int i = 0; X && i < s->n; i++) memcpy(X + (size_t)i * f->p, f->X + (size_t)s->idx[i] * f->p, sizeof(double) * f->p);
    return X;
}

static int embed_features(dws_model *m, const dws_mlp *nets, int n, int threads, feature_set *f, dws_error *err)
{
    const dws_net *net = dws_model_net(m);
    int D = net->arch.embed_dim;
    const dws_mlp **ptr = malloc(sizeof(*ptr) * (size_t)n);
    float *emb = malloc(sizeof(float) * (size_t)n * D);
    *f = (feature_set){"embedding", D, malloc(sizeof(double) * (size_t)n * D)};
    int rc = -1;
    if (!ptr || !emb || !f->X) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for embeddings");
    else {
        for (int i = 0; i < n; i++) ptr[i] = &nets[i];
        rc = dws_embedder_embed_all(net, ptr, n, 8, threads, emb, err);
        for (size_t j = 0; rc == 0 && j < (size_t)n * D; j++) f->X[j] = emb[j];
    }
    free(ptr);
    free(emb);
    return rc;
}

static int stats_features(const dws_mlp *nets, int n, feature_set *f, dws_error *err)
{
    int p = dws_weight_stats_count(nets[0].n_layers);
    *f = (feature_set){"weight_stats", p, malloc(sizeof(double) * (size_t)n * p)};
    if (!f->X) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for weight statistics");
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (dws_weight_stats(&nets[i], f->X + (size_t)i * p, err) != 0) return -1;
    return 0;
}

/* PCA fitted on the train rows' padded flattened weights; every row projected. */
static int flat_features(const dws_mlp *nets, int n, const row_set *train, int k, feature_set *f, dws_error *err)
{
    const int nt = train->n;
    double *K = malloc(sizeof(double) * (size_t)nt * nt), *kx = malloc(sizeof(double) * (size_t)nt);
    dws_pca pca = {0};
    *f = (feature_set){"flat_pca", 0, NULL};
    int rc = -1;
    if (!K || !kx) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for the Gram matrix");
        goto done;
    }
    for (int i = 0; i < nt; i++)
        for (int j = 0; j <= i; j++)
            K[(size_t)i * nt + j] = K[(size_t)j * nt + i] = dws_padded_dot(&nets[train->idx[i]], &nets[train->idx[j]]);
    if (dws_pca_fit_gram(K, nt, k, &pca, err) != 0) goto done;
    f->p = pca.k;
    if (!(f->X = malloc(sizeof(double) * (size_t)n * pca.k))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for PCA features");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < nt; j++) kx[j] = dws_padded_dot(&nets[i], &nets[train->idx[j]]);
        dws_pca_project(&pca, kx, f->X + (size_t)i * pca.k);
    }
    rc = 0;
done:
    dws_pca_free(&pca);
    free(K);
    free(kx);
    return rc;
}

static int property_values(const dws_zoo_records *z, const char *prop, double *y, dws_error *err)
{
    for (int i = 0; i < z->n; i++)
        if (dws_zoo_record_property(&z->r[i], prop, &y[i]) != 0) {
            dws_error_set(err, DWS_E_BAD_DATA, "record %d has no numeric property '%s'", z->r[i].id, prop);
            return -1;
        }
    return 0;
}

static double *values_of(const double *y, const row_set *s)
{
    double *v = malloc(sizeof(double) * (size_t)(s->n + 1));
    for (int i = 0; v && i < s->n; i++) v[i] = y[s->idx[i]];
    return v;
}

static int probe(const feature_set *f, const double *y, const row_set *train, const row_set *val,
                 const row_set tests[2], probe_result *res, dws_error *err)
{
    double *Xt = gather(f, train), *Xv = gather(f, val), *yt = values_of(y, train), *yv = values_of(y, val);
    dws_ridge r = {0};
    int rc = -1;
    if (!Xt || !Xv || !yt || !yv) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for the probe");
    else if (dws_ridge_select(Xt, yt, train->n, Xv, yv, val->n, f->p, &r, &res->val_r2, err) == 0) {
        res->lambda = r.lambda;
        rc = 0;
        for (int s = 0; s < 2 && rc == 0; s++) {
            res->has[s] = tests[s].n > 1;
            if (!res->has[s]) continue;
            double *X = gather(f, &tests[s]), *v = values_of(y, &tests[s]);
            if (X && v) res->r2[s] = dws_ridge_r2(&r, X, v, tests[s].n);
            else rc = -1, dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for the probe");
            free(X);
            free(v);
        }
    }
    dws_ridge_free(&r);
    free(Xt);
    free(Xv);
    free(yt);
    free(yv);
    return rc;
}

/* Largest relative change of an embedding under a random hidden permutation,
 * over up to INVARIANCE_NETS test networks. */
static int invariance(const dws_model *m, const dws_mlp *nets, const row_set *test, int threads, double *worst,
                      dws_error *err)
{
    dws_run_opts opts = {.threads = threads};
    dws_rng rng;
    dws_rng_seed(&rng, 6);
    *worst = 0;
    for (int t = 0; t < test->n && t < INVARIANCE_NETS; t++) {
        const dws_mlp *a = &nets[test->idx[t]];
        dws_mlp b;
        dws_perm g;
        float *ea = NULL, *eb = NULL;
        int da, db, rc = -1;
        if (dws_mlp_clone(&b, a, err) != 0) return -1;
        if (dws_perm_random(&g, a->n_layers, a->widths, &rng, err) == 0) {
            dws_perm_apply_mlp(&g, a, &b);
            dws_perm_free(&g);
            if (dws_encoder_embed(m, a, &ea, &da, &opts, err) == 0 && dws_encoder_embed(m, &b, &eb, &db, &opts, err) == 0) {
                double diff = 0, scale = 1e-30;
                for (int j = 0; j < da; j++) {
                    diff = fmax(diff, fabs((double)ea[j] - eb[j]));
                    scale = fmax(scale, fabs((double)ea[j]));
                }
                *worst = fmax(*worst, diff / scale);
                rc = 0;
            }
        }
        free(ea);
        free(eb);
        dws_mlp_free(&b);
        if (rc != 0) return -1;
    }
    return 0;
}

/* 2-D PCA of the embeddings (fitted on train, test projected), one plot per property. */
static int plots(const char *dir, const feature_set *emb, const row_set *train, const row_set *test,
                 char props[][64], int n_props, double **y, const char *model_id, dws_error *err)
{
    double *Xt = gather(emb, train), *Xs = gather(emb, test), *K = NULL, *kx = NULL, *px = NULL, *py = NULL, *v = NULL;
    dws_pca pca = {0};
    int rc = -1;
    if (!Xt || !Xs || !(K = malloc(sizeof(double) * (size_t)train->n * train->n)) ||
        !(kx = malloc(sizeof(double) * (size_t)train->n)) || !(px = malloc(sizeof(double) * (size_t)test->n + 8)) ||
        !(py = malloc(sizeof(double) * (size_t)test->n + 8)) || !(v = malloc(sizeof(double) * (size_t)test->n + 8))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for the plots");
        goto done;
    }
    dws_gram(Xt, train->n, Xt, train->n, emb->p, K);
    if (dws_pca_fit_gram(K, train->n, 2, &pca, err) != 0) goto done;
    for (int i = 0; i < test->n; i++) {
        double c[2] = {0, 0};
        dws_gram(Xs + (size_t)i * emb->p, 1, Xt, train->n, emb->p, kx);
        dws_pca_project(&pca, kx, c);
        px[i] = c[0];
        py[i] = pca.k > 1 ? c[1] : 0;
    }
    for (int p = 0; p < n_props; p++) {
        char path[4096], title[256];
        snprintf(path, sizeof path, "%s/embedding-%s.svg", dir, props[p]);
        snprintf(title, sizeof title, "%s: test embeddings (PCA), colour = %s", model_id, props[p]);
        for (int i = 0; i < test->n; i++) v[i] = y[p][test->idx[i]];
        FILE *f = fopen(path, "w");
        int bad = !f || dws_svg_scatter(f, px, py, v, test->n, title, "PC 1", "PC 2", props[p]) != 0;
        if (f && fclose(f) != 0) bad = 1;
        if (bad) {
            dws_error_set(err, DWS_E_IO, "cannot write %s", path);
            goto done;
        }
    }
    rc = 0;
done:
    dws_pca_free(&pca);
    free(Xt);
    free(Xs);
    free(K);
    free(kx);
    free(px);
    free(py);
    free(v);
    return rc;
}

static int split_props(const char *list, char props[][64], int *n, dws_error *err)
{
    *n = 0;
    for (const char *s = list; *s;) {
        size_t k = strcspn(s, ",");
        if (k == 0 || k >= 64 || *n == MAX_PROPS) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "--properties: 1..%d names of 1..63 characters", MAX_PROPS);
            return -1;
        }
        memcpy(props[*n], s, k);
        props[(*n)++][k] = 0;
        s += k + (s[k] == ',');
    }
    return *n ? 0 : (dws_error_set(err, DWS_E_INVALID_ARGUMENT, "--properties is empty"), -1);
}

static cJSON *result_json(const probe_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "val_r2", r->val_r2);
    cJSON_AddNumberToObject(o, "lambda", r->lambda);
    for (int s = 0; s < 2; s++)
        if (r->has[s]) {
            char key[64];
            snprintf(key, sizeof key, "%s_r2", SPLITS[s]);
            cJSON_AddNumberToObject(o, key, r->r2[s]);
        }
    return o;
}

static void markdown(FILE *f, const char *model_id, const char *zoo, const int *counts, double inv, char props[][64],
                     int n_props, probe_result res[][N_SETS], const feature_set *sets, const cJSON *targets)
{
    fprintf(f, "# Linear probes: %s on %s\n\n", model_id, zoo);
    fprintf(f, "Networks: %d train (probe fit), %d val (ridge penalty), %d test, %d test_unseen_widths.\n\n",
            counts[0], counts[1], counts[2], counts[3]);
    for (int s = 0; s < 2; s++) {
        if (!res[0][0].has[s]) continue;
        fprintf(f, "R^2 on %s:\n\n| property | embedding (%d) | weight statistics (%d) | PCA of flattened weights (%d) |\n"
                   "|---|---|---|---|\n", SPLITS[s], sets[0].p, sets[1].p, sets[2].p);
        for (int p = 0; p < n_props; p++)
            fprintf(f, "| %s | %.3f | %.3f | %.3f |\n", props[p], res[p][0].r2[s], res[p][1].r2[s], res[p][2].r2[s]);
        fprintf(f, "\n");
    }
    fprintf(f, "Largest relative change of an embedding under a random hidden permutation: %.2g.\n\n", inv);
    char *t = cJSON_Print(targets);
    fprintf(f, "Targets (issue 6):\n\n```json\n%s\n```\n", t ? t : "{}");
    free(t);
}

static int evaluate(const eval_embedder_opts *o, dws_model *model, const dws_zoo_records *z, const dws_mlp *nets, int n,
                    dws_error *err)
{
    char props[MAX_PROPS][64];
    int n_props = 0, rc = -1;
    const char *list = o->properties;
    double tmp;
    if (!list) list = z->n && dws_zoo_record_property(&z->r[0], "a", &tmp) == 0 ? EVAL_EMBEDDER_INR_PROPS : EVAL_EMBEDDER_CIFAR_PROPS;
    if (split_props(list, props, &n_props, err) != 0) return -1;
    row_set train = rows_of(z, "train"), val = rows_of(z, "val"), tests[2] = {rows_of(z, SPLITS[0]), rows_of(z, SPLITS[1])};
    feature_set sets[N_SETS] = {{0}};
    double *y[MAX_PROPS] = {0}, inv = 0;
    probe_result res[MAX_PROPS][N_SETS];
    memset(res, 0, sizeof res);
    cJSON *report = NULL;
    if (!train.idx || !val.idx || !tests[0].idx || !tests[1].idx) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    if (train.n < 3 || val.n < 2 || tests[0].n < 2) {
        dws_error_set(err, DWS_E_BAD_DATA, "the zoo needs 3 or more train, 2 or more val and test networks (%d, %d, %d)",
                      train.n, val.n, tests[0].n);
        goto done;
    }
    int k = o->pca_dim ? (int)o->pca_dim : dws_model_net(model)->arch.embed_dim;
    fprintf(stderr, "%s: %d networks; embedding, weight statistics, flattened-weight PCA...\n", CMD, n);
    if (embed_features(model, nets, n, (int)o->threads, &sets[0], err) != 0 || stats_features(nets, n, &sets[1], err) != 0 ||
        flat_features(nets, n, &train, k, &sets[2], err) != 0)
        goto done;
    for (int p = 0; p < n_props; p++) {
        if (!(y[p] = malloc(sizeof(double) * (size_t)n))) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        if (property_values(z, props[p], y[p], err) != 0) goto done;
        for (int s = 0; s < N_SETS; s++)
            if (probe(&sets[s], y[p], &train, &val, tests, &res[p][s], err) != 0) goto done;
    }
    if (invariance(model, nets, &tests[0], (int)o->threads, &inv, err) != 0) goto done;

    report = cJSON_CreateObject();
    cJSON_AddStringToObject(report, "model", dws_model_id(model));
    cJSON_AddStringToObject(report, "zoo", o->zoo);
    int counts[4] = {train.n, val.n, tests[0].n, tests[1].n};
    cJSON *nn = cJSON_AddObjectToObject(report, "networks");
    cJSON_AddNumberToObject(nn, "train", counts[0]);
    cJSON_AddNumberToObject(nn, "val", counts[1]);
    cJSON_AddNumberToObject(nn, "test", counts[2]);
    cJSON_AddNumberToObject(nn, "test_unseen_widths", counts[3]);
    cJSON *fs = cJSON_AddObjectToObject(report, "features");
    for (int s = 0; s < N_SETS; s++) cJSON_AddNumberToObject(fs, sets[s].name, sets[s].p);
    cJSON_AddStringToObject(report, "flat_pca_note",
                            "zero-padded to common hidden widths; PCA fitted on the train networks (Gram matrix)");
    cJSON_AddNumberToObject(report, "invariance_max_relative_change", inv);
    cJSON *probes = cJSON_AddArrayToObject(report, "probes");
    cJSON *targets = cJSON_CreateObject();
    cJSON_AddBoolToObject(targets, "invariance_1e-5", inv <= 1e-5);
    int all = inv <= 1e-5;
    cJSON *r2t = cJSON_AddObjectToObject(targets, "test_r2_at_least_0.9");
    cJSON *beats = cJSON_AddObjectToObject(targets, "embedding_beats_both_baselines");
    for (int p = 0; p < n_props; p++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "property", props[p]);
        for (int s = 0; s < N_SETS; s++) cJSON_AddItemToObject(e, sets[s].name, result_json(&res[p][s]));
        cJSON_AddItemToArray(probes, e);
        int primary = !strcmp(props[p], "clean_test_acc") || !strcmp(list, EVAL_EMBEDDER_INR_PROPS);
        if (primary) {
            cJSON_AddBoolToObject(r2t, props[p], res[p][0].r2[0] >= 0.9);
            all &= res[p][0].r2[0] >= 0.9;
        }
        int b = res[p][0].r2[0] > res[p][1].r2[0] && res[p][0].r2[0] > res[p][2].r2[0];
        cJSON_AddBoolToObject(beats, props[p], b);
        all &= b;
    }
    cJSON_AddBoolToObject(targets, "all_met", all);
    cJSON_AddItemToObject(report, "targets", targets);

    if (o->out) {
        if (mkdir(o->out, 0777) != 0 && errno != EEXIST) {
            dws_error_set(err, DWS_E_IO, "cannot create %s: %s", o->out, strerror(errno));
            goto done;
        }
        if (plots(o->out, &sets[0], &train, &tests[0], props, n_props, y, dws_model_id(model), err) != 0) goto done;
        char path[4096];
        snprintf(path, sizeof path, "%s/probe.md", o->out);
        FILE *f = fopen(path, "w");
        if (f) markdown(f, dws_model_id(model), o->zoo, counts, inv, props, n_props, res, sets, targets);
        if (!f || fclose(f) != 0) {
            dws_error_set(err, DWS_E_IO, "cannot write %s", path);
            goto done;
        }
        snprintf(path, sizeof path, "%s/probe.json", o->out);
        char *text = cJSON_Print(report);
        int wrc = text ? dws_write_file_atomic(path, text, strlen(text), err) : -1;
        free(text);
        if (wrc != 0) goto done;
    }
    char *text = cJSON_PrintUnformatted(report);
    if (o->write_card && text) {
        if (dws_model_set_card_entry(model, "probe", text, err) != 0 ||
            dws_model_save(model, o->model, err) != 0) {
            free(text);
            goto done;
        }
    }
    if (text) printf("%s\n", text);
    free(text);
    rc = 0;
done:
    cJSON_Delete(report);
    for (int s = 0; s < N_SETS; s++) free(sets[s].X);
    for (int p = 0; p < n_props; p++) free(y[p]);
    free(train.idx);
    free(val.idx);
    free(tests[0].idx);
    free(tests[1].idx);
    return rc;
}

int cmd_eval_embedder(int argc, char **argv)
{
    eval_embedder_opts o;
    int status = cli_parse(&cli_eval_embedder, argc, argv, &o);
    if (status >= 0) return status;
    dws_error err;
    dws_model *model = model_cli_load(CMD, &o.model, DWS_DEFAULT_ENCODER);
    if (!model) return 1;
    int rc = 1;
    embedder_zoo zoo;
    if (dws_model_get_kind(model) != DWS_MODEL_ENCODER) {
        dws_error_set(&err, DWS_E_INVALID_ARGUMENT, "%s is an adapter, not an encoder", dws_model_id(model));
        rc = cli_fail(CMD, &err);
    } else if (embedder_cli_open_zoo(CMD, o.zoo, NULL, &zoo) == 0) {
        rc = evaluate(&o, model, &zoo.records, zoo.nets, zoo.n, &err) == 0 ? 0 : cli_fail(CMD, &err);
        embedder_cli_close_zoo(&zoo);
    }
    dws_model_free(model);
    return rc;
}
