/* The domain estimator (docs/estimator.md): the set features of data/data.h
 * ("domain stats"), standardised, into a small MLP whose classes are domains (clean,
 * one corruption at one severity, or a chain of two); stored as a .dws file with its
 * own card. */
#include "model.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dws_model_card.h"

#define FEATURE_MEAN "features.mean"
#define FEATURE_STD "features.std"

struct dws_estimator {
    char id[128];
    int n_classes;
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int group[DWS_ESTIMATOR_MAX_CLASSES];   /* the class's type (dws_estimator_class_type) */
    dws_mlp mlp;                            /* DWS_DOMAIN_FEATURES -> [hidden ->] n_classes */
    float mean[DWS_DOMAIN_FEATURES], std[DWS_DOMAIN_FEATURES];
    cJSON *card;
    char *card_json;
};

void dws_estimator_free(dws_estimator *e)
{
    if (!e) return;
    dws_mlp_free(&e->mlp);
    cJSON_Delete(e->card);
    free(e->card_json);
    free(e);
}

const char *dws_estimator_id(const dws_estimator *e) { return e->id; }
const char *dws_estimator_card_json(const dws_estimator *e) { return e->card_json; }
int dws_estimator_class_count(const dws_estimator *e) { return e->n_classes; }
const dws_domain *dws_estimator_class(const dws_estimator *e, int i) { return &e->classes[i]; }
dws_mlp *dws_estimator_mlp(dws_estimator *e) { return &e->mlp; }
float *dws_estimator_feature_mean(dws_estimator *e) { return e->mean; }
float *dws_estimator_feature_std(dws_estimator *e) { return e->std; }

size_t dws_estimator_bytes(const dws_estimator *e)
{
    return sizeof *e + e->mlp.n_params * sizeof(float) + (e->card_json ? strlen(e->card_json) : 0);
}

static int render(dws_estimator *e, dws_error *err)
{
    return dws_card_render(e->card, &e->card_json, err);
}

/* Class i's type: a single step's, or that of the first earlier chain of the same
 * corruptions, or the next chain type. */
static int class_group(const dws_estimator *e, int i, int *chain_types)
{
    const dws_domain *d = &e->classes[i];
    if (d->n_steps < 2) return dws_domain_type(d);
    for (int j = 0; j < i; j++)
        if (e->classes[j].n_steps > 1 && dws_domain_same_kinds(&e->classes[j], d)) return e->group[j];
    return DWS_DOMAIN_TYPES + (*chain_types)++;
}

/* Classes: distinct; clean, one step or a chain of up to DWS_ESTIMATOR_MAX_STEPS. */
static int set_classes(dws_estimator *e, const dws_domain *classes, int n, dws_error *err)
{
    if (n < 2 || n > DWS_ESTIMATOR_MAX_CLASSES) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "an estimator has 2 to %d classes, not %d",
                      DWS_ESTIMATOR_MAX_CLASSES, n);
        return -1;
    }
    int chain_types = 0;
    for (int i = 0; i < n; i++) {
        if (classes[i].n_steps > DWS_ESTIMATOR_MAX_STEPS) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "estimator class %d is a chain of %d steps; at most %d", i,
                          classes[i].n_steps, DWS_ESTIMATOR_MAX_STEPS);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (dws_domain_same(&classes[j], &classes[i])) {
                dws_error_set(err, DWS_E_INVALID_ARGUMENT, "estimator classes %d and %d are the same domain", j, i);
                return -1;
            }
        e->classes[i] = classes[i];
        e->group[i] = class_group(e, i, &chain_types);
    }
    e->n_classes = n;
    return 0;
}

static int init_mlp(dws_estimator *e, int hidden, dws_error *err)
{
    int64_t widths[3] = {DWS_DOMAIN_FEATURES, hidden, e->n_classes};
    if (hidden == 0) widths[1] = e->n_classes;
    return dws_mlp_init(&e->mlp, hidden ? 2 : 1, widths, err);
}

dws_estimator *dws_estimator_new(const dws_domain *classes, int n_classes, int hidden, const char *id,
                                 dws_error *err)
{
    if (!dws_card_valid_id(id)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "estimator id must be 1 to 127 characters of [A-Za-z0-9._-]");
        return NULL;
    }
    if (hidden < 0 || hidden > 4096) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "estimator hidden width must be 0 to 4096");
        return NULL;
    }
    dws_estimator *e = calloc(1, sizeof *e);
    if (!e) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate an estimator");
        return NULL;
    }
    snprintf(e->id, sizeof e->id, "%s", id);
    for (int k = 0; k < DWS_DOMAIN_FEATURES; k++) e->std[k] = 1.f;
    if (set_classes(e, classes, n_classes, err) || init_mlp(e, hidden, err)) {
        dws_estimator_free(e);
        return NULL;
    }
    cJSON *card = e->card = cJSON_CreateObject();
    cJSON_AddStringToObject(card, "format", DWS_ESTIMATOR_FORMAT);
    cJSON_AddStringToObject(card, "id", id);
    cJSON_AddStringToObject(card, "kind", DWS_ESTIMATOR_KIND);
    cJSON_AddStringToObject(card, "written_by", "dwsnet " DWS_VERSION);
    cJSON *in = cJSON_AddObjectToObject(card, "input");
    cJSON_AddNumberToObject(in, "channels", 3);
    cJSON_AddNumberToObject(in, "height", 32);
    cJSON_AddNumberToObject(in, "width", 32);
    cJSON_AddStringToObject(in, "convention", "RGB images, x = pixel / 255, CHW; PNG, JPEG or CIFAR-10 records");
    cJSON *arch = cJSON_AddObjectToObject(card, "architecture");
    cJSON *w = cJSON_AddArrayToObject(arch, "widths");
    for (int l = 0; l <= e->mlp.n_layers; l++) cJSON_AddItemToArray(w, cJSON_CreateNumber((double)e->mlp.widths[l]));
    cJSON_AddNumberToObject(arch, "parameters", (double)(e->mlp.n_params + 2 * DWS_DOMAIN_FEATURES));
    cJSON *f = cJSON_AddArrayToObject(card, "features");
    for (int k = 0; k < DWS_DOMAIN_FEATURES; k++)
        cJSON_AddItemToArray(f, cJSON_CreateString(dws_domain_feature_name(k)));
    cJSON *c = cJSON_AddArrayToObject(card, "classes");
    for (int i = 0; i < n_classes; i++) {
        char spec[64];
        dws_domain_format(&classes[i], spec, sizeof spec);
        cJSON_AddItemToArray(c, cJSON_CreateString(spec));
    }
    if (render(e, err)) {
        dws_estimator_free(e);
        return NULL;
    }
    return e;
}

static const char *const RESERVED[] = {"format", "id", "kind", "written_by", "input", "architecture", "features",
                                       "classes", NULL};

int dws_estimator_set_card_entry(dws_estimator *e, const char *key, const char *json_value, dws_error *err)
{
    for (int i = 0; RESERVED[i]; i++)
        if (!strcmp(key, RESERVED[i])) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "estimator card entry '%s' is set from the estimator itself",
                          key);
            return -1;
        }
    return dws_card_set_entry(e->card, key, json_value, &e->card_json, err);
}

/* "layer0.W", "layer0.b", ...: the MLP's tensors in the file. */
static void tensor_names(int l, char *w, char *b, size_t size)
{
    snprintf(w, size, "layer%d.W", l);
    snprintf(b, size, "layer%d.b", l);
}

int dws_estimator_save(const dws_estimator *e, const char *path, dws_error *err)
{
    const dws_mlp *m = &e->mlp;
    dws_named_tensor t[2 + 2 * 2];
    int n = 0;
    t[n++] = (dws_named_tensor){.name = FEATURE_MEAN, .ndim = 1, .shape = {DWS_DOMAIN_FEATURES},
                                .count = DWS_DOMAIN_FEATURES, .data = (float *)e->mean};
    t[n++] = (dws_named_tensor){.name = FEATURE_STD, .ndim = 1, .shape = {DWS_DOMAIN_FEATURES},
                                .count = DWS_DOMAIN_FEATURES, .data = (float *)e->std};
    for (int l = 0; l < m->n_layers; l++) {
        dws_named_tensor *w = &t[n++], *b = &t[n++];
        *w = (dws_named_tensor){.ndim = 2, .shape = {m->widths[l + 1], m->widths[l]},
                                .count = (size_t)(m->widths[l + 1] * m->widths[l]), .data = m->W[l]};
        *b = (dws_named_tensor){.ndim = 1, .shape = {m->widths[l + 1]}, .count = (size_t)m->widths[l + 1],
                                .data = m->b[l]};
        tensor_names(l, w->name, b->name, sizeof w->name);
    }
    return dws_model_file_write(path, e->card_json, t, n, err);
}

int dws_model_file_is_estimator(const dws_model_file *f)
{
    cJSON *card = cJSON_Parse(f->card_json);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(card, "format");
    int yes = cJSON_IsString(format) && !strcmp(format->valuestring, DWS_ESTIMATOR_FORMAT);
    cJSON_Delete(card);
    return yes;
}

/* The card's features must be the ones this build computes, in order. */
static int check_features(const cJSON *card, dws_error *err)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(card, "features");
    int n = cJSON_IsArray(f) ? cJSON_GetArraySize(f) : -1;
    for (int k = 0; k < n && k < DWS_DOMAIN_FEATURES; k++) {
        const cJSON *v = cJSON_GetArrayItem(f, k);
        if (!cJSON_IsString(v) || strcmp(v->valuestring, dws_domain_feature_name(k))) n = -1;
    }
    if (n == DWS_DOMAIN_FEATURES) return 0;
    dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL,
                  "estimator card: its features are not the %d this build computes (docs/estimator.md section 2); "
                  "retrain it with this version (dwsnet train-estimator)", DWS_DOMAIN_FEATURES);
    return -1;
}

static int parse_classes(const cJSON *card, dws_domain *classes, int *n, dws_error *err)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(card, "classes");
    int k = cJSON_IsArray(c) ? cJSON_GetArraySize(c) : -1;
    if (k < 2 || k > DWS_ESTIMATOR_MAX_CLASSES) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "estimator card: classes must be an array of 2 to %d domains",
                      DWS_ESTIMATOR_MAX_CLASSES);
        return -1;
    }
    for (int i = 0; i < k; i++) {
        const cJSON *v = cJSON_GetArrayItem(c, i);
        dws_error e;
        dws_error_clear(&e);
        if (!cJSON_IsString(v) || dws_domain_parse(v->valuestring, &classes[i], &e)) {
            dws_error_set(err, DWS_E_BAD_MODEL_FILE, "estimator card: class %d is not a domain %s", i, e.message);
            return -1;
        }
    }
    *n = k;
    return 0;
}

/* The hidden width from architecture.widths: [F, C] (0) or [F, H, C]. */
static int parse_hidden(const cJSON *card, int n_classes, int *hidden, dws_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(card, "architecture");
    const cJSON *w = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, "widths") : NULL;
    int n = cJSON_IsArray(w) ? cJSON_GetArraySize(w) : 0;
    double v[3] = {0};
    for (int i = 0; i < n && i < 3; i++) {
        const cJSON *x = cJSON_GetArrayItem(w, i);
        v[i] = cJSON_IsNumber(x) ? x->valuedouble : -1;
    }
    int ok = (n == 2 || n == 3) && v[0] == DWS_DOMAIN_FEATURES && v[n - 1] == n_classes &&
             (n == 2 || (v[1] >= 1 && v[1] <= 4096 && v[1] == floor(v[1])));
    if (!ok) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE,
                      "estimator card: architecture.widths must be [%d, classes] or [%d, hidden, classes]",
                      DWS_DOMAIN_FEATURES, DWS_DOMAIN_FEATURES);
        return -1;
    }
    *hidden = n == 3 ? (int)v[1] : 0;
    return 0;
}

static int load_tensors(dws_estimator *e, const dws_model_file *f, dws_error *err)
{
    const dws_mlp *m = &e->mlp;
    if (f->n_tensors != 2 + 2 * m->n_layers) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "estimator file has %d tensors, its card implies %d", f->n_tensors,
                      2 + 2 * m->n_layers);
        return -1;
    }
    int64_t nf = DWS_DOMAIN_FEATURES;
    const dws_named_tensor *mean = dws_card_expect_tensor(f, FEATURE_MEAN, 1, &nf, err);
    const dws_named_tensor *std = mean ? dws_card_expect_tensor(f, FEATURE_STD, 1, &nf, err) : NULL;
    if (!std) return -1;
    for (int k = 0; k < DWS_DOMAIN_FEATURES; k++) {
        if (!(std->data[k] > 0.f)) {
            dws_error_set(err, DWS_E_BAD_MODEL_FILE, "tensor '%s' must be positive", FEATURE_STD);
            return -1;
        }
        e->mean[k] = mean->data[k];
        e->std[k] = std->data[k];
    }
    for (int l = 0; l < m->n_layers; l++) {
        char wn[32], bn[32];
        tensor_names(l, wn, bn, sizeof wn);
        int64_t ws[2] = {m->widths[l + 1], m->widths[l]};
        const dws_named_tensor *w = dws_card_expect_tensor(f, wn, 2, ws, err);
        const dws_named_tensor *b = w ? dws_card_expect_tensor(f, bn, 1, ws, err) : NULL;
        if (!b) return -1;
        memcpy(m->W[l], w->data, sizeof(float) * w->count);
        memcpy(m->b[l], b->data, sizeof(float) * b->count);
    }
    return 0;
}

dws_estimator *dws_estimator_from_file(const dws_model_file *f, const char *path, dws_error *err)
{
    dws_estimator *e = calloc(1, sizeof *e);
    if (!e) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate an estimator");
        return NULL;
    }
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int n = 0, hidden = 0, rc = -1;
    const char *format, *id, *kind;
    if (!(e->card = cJSON_Parse(f->card_json)) || !cJSON_IsObject(e->card)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s: estimator card is not a JSON object", path);
    } else if (!(format = dws_card_get_string(e->card, "", "format", err)) ||
               !(id = dws_card_get_string(e->card, "", "id", err)) ||
               !(kind = dws_card_get_string(e->card, "", "kind", err))) {
    } else if (strcmp(format, DWS_ESTIMATOR_FORMAT) || strcmp(kind, DWS_ESTIMATOR_KIND)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s: not a domain estimator (format '%s', kind '%s')", path, format,
                      kind);
    } else if (!dws_card_valid_id(id)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s: estimator card: bad id", path);
    } else if (check_features(e->card, err) == 0 && parse_classes(e->card, classes, &n, err) == 0 &&
               parse_hidden(e->card, n, &hidden, err) == 0 && set_classes(e, classes, n, err) == 0 &&
               init_mlp(e, hidden, err) == 0 && load_tensors(e, f, err) == 0) {
        snprintf(e->id, sizeof e->id, "%s", id);
        rc = render(e, err);
    }
    if (rc) {
        if (err && err->code && !strcmp(err->code, DWS_E_INVALID_ARGUMENT)) err->code = DWS_E_BAD_MODEL_FILE;
        dws_estimator_free(e);
        return NULL;
    }
    return e;
}

dws_estimator *dws_estimator_load(const char *path, dws_error *err)
{
    dws_model_file f;
    if (dws_model_file_read(path, &f, err) != 0) return NULL;
    dws_estimator *e = dws_estimator_from_file(&f, path, err);
    dws_model_file_free(&f);
    return e;
}

void dws_estimator_standardize(const dws_estimator *e, const float *features, float *z)
{
    for (int k = 0; k < DWS_DOMAIN_FEATURES; k++) {
        float v = (features[k] - e->mean[k]) / e->std[k];
        z[k] = isfinite(v) ? (v > 50.f ? 50.f : v < -50.f ? -50.f : v) : 0.f;   /* far outside training: clipped */
    }
}

int dws_estimator_classes(unsigned exclude, const dws_domain *chains, int n_chains, dws_domain *classes,
                          dws_error *err)
{
    int n = 0;
    classes[n++] = (dws_domain){0};
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++) {
        if (exclude & (1u << t)) continue;
        for (int s = 1; s <= 5; s++) classes[n++] = (dws_domain){1, {{(dws_corruption)t, s}}};
    }
    for (int c = 0; c < n_chains; c++) {
        unsigned used = 0;
        for (int k = 0; k < chains[c].n_steps; k++) used |= 1u << chains[c].steps[k].kind;
        if (chains[c].n_steps != DWS_ESTIMATOR_MAX_STEPS) {
            char spec[64];
            dws_domain_format(&chains[c], spec, sizeof spec);
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "estimator chain '%s' is not a chain of %d steps", spec,
                          DWS_ESTIMATOR_MAX_STEPS);
            return -1;
        }
        if (used & exclude) continue;   /* it would show an excluded corruption */
        if (n == DWS_ESTIMATOR_MAX_CLASSES) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "an estimator has at most %d classes: too many chains",
                          DWS_ESTIMATOR_MAX_CLASSES);
            return -1;
        }
        classes[n++] = chains[c];
    }
    return n;
}

int dws_domain_type(const dws_domain *d)
{
    return d->n_steps ? 1 + (int)d->steps[0].kind : 0;
}

int dws_estimator_class_type(const dws_estimator *e, int i)
{
    return e->group[i];
}

void dws_estimator_type_name(const dws_estimator *e, int type, char *buf, size_t size)
{
    int i = 0;
    while (i < e->n_classes && e->group[i] != type) i++;
    const dws_domain *d = i < e->n_classes ? &e->classes[i] : NULL;
    if (!d || !d->n_steps) {
        snprintf(buf, size, "%s", d ? "clean" : "?");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < d->n_steps && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? "," : "", dws_corruption_name(d->steps[k].kind));
}

int dws_estimator_classify_z(const dws_estimator *e, const float *z, dws_domain_estimate *out, dws_error *err)
{
    const dws_mlp *m = &e->mlp;
    float logits[DWS_ESTIMATOR_MAX_CLASSES];
    float *scratch = malloc(sizeof(float) * dws_mlp_scratch_floats(m, 1) + 1);
    if (!scratch) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for the estimator");
        return -1;
    }
    dws_mlp_forward(m, z, 1, logits, scratch);
    free(scratch);
    int c = e->n_classes;
    double top = logits[0], sum = 0, type_p[DWS_DOMAIN_TYPES + DWS_ESTIMATOR_MAX_CLASSES] = {0};
    for (int i = 1; i < c; i++) top = logits[i] > top ? logits[i] : top;
    for (int i = 0; i < c; i++) sum += out->probs[i] = exp(logits[i] - top);
    for (int i = 0; i < c; i++) type_p[e->group[i]] += out->probs[i] /= sum;
    /* The type with the most probability over its classes, then its likeliest class. */
    int best = -1;
    for (int i = 0; i < c; i++) {
        int g = e->group[i];
        if (best < 0 || type_p[g] > type_p[e->group[best]] ||
            (g == e->group[best] && out->probs[i] > out->probs[best]))
            best = i;
    }
    out->n_classes = c;
    out->domain = e->classes[best];
    out->p = out->probs[best];
    out->type = e->group[best];
    out->type_p = type_p[out->type];
    dws_domain_format(&out->domain, out->spec, sizeof out->spec);
    dws_estimator_type_name(e, out->type, out->type_name, sizeof out->type_name);
    return 0;
}

int dws_estimator_classify(const dws_estimator *e, const float *features, dws_domain_estimate *out, dws_error *err)
{
    float z[DWS_DOMAIN_FEATURES];
    dws_estimator_standardize(e, features, z);
    return dws_estimator_classify_z(e, z, out, err);
}

int dws_estimate_domain(const dws_estimator *e, const float *x, size_t n, dws_domain_estimate *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "no images to estimate a domain from");
        return -1;
    }
    float features[DWS_DOMAIN_FEATURES];
    dws_domain_features_of_images(x, n, features);
    out->n_images = n;
    return dws_estimator_classify(e, features, out, err);
}

/* p rounded to 6 decimals: what people read and tests compare. */
static cJSON *probability(double p)
{
    char text[32];
    snprintf(text, sizeof text, "%.6f", p);
    return cJSON_CreateRaw(text);
}

cJSON *dws_domain_estimate_json(const dws_estimator *e, const dws_domain_estimate *est)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "estimate", est->spec);
    cJSON_AddItemToObject(o, "p", probability(est->p));
    cJSON_AddStringToObject(o, "type", est->type_name);
    cJSON_AddItemToObject(o, "type_p", probability(est->type_p));
    cJSON_AddNumberToObject(o, "images", (double)est->n_images);
    cJSON_AddStringToObject(o, "estimator", e->id);
    cJSON *probs = cJSON_AddObjectToObject(o, "probabilities");
    for (int i = 0; i < est->n_classes; i++) {
        char spec[64];
        dws_domain_format(&e->classes[i], spec, sizeof spec);
        cJSON_AddItemToObject(probs, spec, probability(est->probs[i]));
    }
    return o;
}

void dws_adapt_domain_estimated(const dws_estimator *e, const dws_domain_estimate *est, dws_adapt_domain *d,
                                char *note, size_t note_size)
{
    memset(d, 0, sizeof *d);
    d->kind = est->domain.n_steps ? DWS_DOMAIN_NAMED : DWS_DOMAIN_NONE;
    d->chain = est->domain;
    snprintf(note, note_size, "%s (p=%.2f) from %zu images by %s", est->spec, est->p, est->n_images,
             dws_estimator_id(e));
}
