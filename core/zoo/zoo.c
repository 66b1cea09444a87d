/* Zoo spec: defaults, per-entry recipe sampling, and zoo.json. */
#include "zoo.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data.h"
#include "base/base.h"

static const int DEFAULT_EPOCHS[] = {1, 2, 3, 4, 6, 8, 12, 16, 20};
static const uint32_t DEFAULT_SUBSETS[] = {5000, 10000, 25000, 50000};

static const int64_t SEEN_WIDTHS[] = {32, 64, 128, 256};
static const int64_t UNSEEN_WIDTHS[] = {48, 96, 192};
static const float ADAM_LRS[] = {3e-4f, 6e-4f, 1e-3f, 2e-3f};
static const float SGD_LRS[] = {0.005f, 0.01f, 0.02f, 0.04f};
static const float L2_DECAYS[] = {0.f, 0.f, 1e-4f, 5e-4f};     /* Adam and SGD: half without decay */
static const float ADAMW_DECAYS[] = {0.01f, 0.05f};
static const int BATCH_SIZES[] = {64, 128, 256};

/* Split fractions: train, val, test, test_unseen_widths; entry i's split compares u with their running sums. */
static const double SPLIT_FRACTIONS[4] = {0.75, 0.10, 0.10, 0.05};
#define SPLIT_RULE \
    "u = first uniform draw of entry i's stream (seed, i); train if u < 0.75, val if u < 0.85, " \
    "test if u < 0.95, else test_unseen_widths (hidden widths from unseen_hidden_widths)"

#define DEPTH_RULE                                                                                      \
    "hidden layers and activation drawn per entry from hidden_layers and activations (after u, only " \
    "from lists of two or more); each record's depth counts weight layers (hidden layers + 1)"

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof *(a)))
#define PICK(rng, a) ((a)[dws_rng_below(rng, (uint64_t)COUNT_OF(a))])

void dws_zoo_spec_default(dws_zoo_spec *s)
{
    memset(s, 0, sizeof *s);
    s->count = 500;
    s->n_epochs = COUNT_OF(DEFAULT_EPOCHS);
    memcpy(s->epochs, DEFAULT_EPOCHS, sizeof DEFAULT_EPOCHS);
    s->n_subsets = COUNT_OF(DEFAULT_SUBSETS);
    memcpy(s->subsets, DEFAULT_SUBSETS, sizeof DEFAULT_SUBSETS);
    dws_zoo_spec_family(s, DWS_ZOO_FAMILY_DEFAULT);
    dws_domain_parse(DWS_DEFAULT_DOMAIN, &s->domain, NULL);
}

/* The architectures of each family (dws_zoo_family order). */
static const struct {
    const char *name;
    int n_layers, layers[4];
    int n_acts;
    dws_activation acts[4];
} FAMILIES[] = {
    {"default", 1, {2}, 1, {DWS_ACT_RELU}},
    {"any-mlp", 4, {1, 2, 3, 4}, 4, {DWS_ACT_RELU, DWS_ACT_LEAKY_RELU, DWS_ACT_GELU, DWS_ACT_TANH}},
};

const char *dws_zoo_family_name(dws_zoo_family f) { return FAMILIES[f].name; }

int dws_zoo_family_parse(const char *name, dws_zoo_family *out)
{
    for (int k = 0; k < COUNT_OF(FAMILIES); k++)
        if (!strcmp(name, FAMILIES[k].name)) {
            *out = (dws_zoo_family)k;
            return 0;
        }
    return -1;
}

void dws_zoo_spec_family(dws_zoo_spec *s, dws_zoo_family f)
{
    s->n_hidden_layers = FAMILIES[f].n_layers;
    memcpy(s->hidden_layers, FAMILIES[f].layers, (size_t)FAMILIES[f].n_layers * sizeof *s->hidden_layers);
    s->n_activations = FAMILIES[f].n_acts;
    memcpy(s->activations, FAMILIES[f].acts, (size_t)FAMILIES[f].n_acts * sizeof *s->activations);
}

int dws_zoo_spec_is_default_family(const dws_zoo_spec *s)
{
    return s->n_hidden_layers == 1 && s->hidden_layers[0] == 2 && s->n_activations == 1 &&
           s->activations[0] == DWS_ACT_RELU;
}

int dws_zoo_spec_check(const dws_zoo_spec *s, dws_error *err)
{
    int ok = s->count >= 1 && s->count <= DWS_ZOO_MAX_COUNT && s->n_epochs >= 1 &&
             s->n_epochs <= DWS_ZOO_MAX_CHOICES && s->n_subsets >= 1 && s->n_subsets <= DWS_ZOO_MAX_CHOICES &&
             s->n_hidden_layers >= 1 && s->n_hidden_layers <= DWS_ZOO_MAX_CHOICES && s->n_activations >= 1 &&
             s->n_activations <= DWS_ZOO_MAX_CHOICES;
    for (int i = 0; ok && i < s->n_epochs; i++) ok = s->epochs[i] >= 0 && s->epochs[i] <= 100000;
    for (int i = 0; ok && i < s->n_hidden_layers; i++)
        ok = s->hidden_layers[i] >= 1 && s->hidden_layers[i] < DWS_MAX_LAYERS;
    for (int i = 0; ok && i < s->n_activations; i++)
        ok = s->activations[i] > DWS_ACT_IDENTITY && s->activations[i] <= DWS_ACT_LAST;
    if (!ok) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT,
                      "zoo settings out of range (count, epochs, subsets, hidden layers or activations)");
        return -1;
    }
    if (s->recipes == DWS_ZOO_REFERENCE && !dws_zoo_spec_is_default_family(s)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT,
                      "a reference zoo is 3072-128-128-10 ReLU: it takes no other hidden layers or activations");
        return -1;
    }
    return 0;
}

const char *dws_zoo_split_name(dws_zoo_split s)
{
    switch (s) {
    case DWS_ZOO_TRAIN: return "train";
    case DWS_ZOO_VAL: return "val";
    case DWS_ZOO_TEST: return "test";
    case DWS_ZOO_TEST_UNSEEN_WIDTHS: return "test_unseen_widths";
    }
    return "unknown";
}

const char *dws_zoo_recipes_name(dws_zoo_recipes r) { return r == DWS_ZOO_REFERENCE ? "reference" : "mixed"; }

int dws_zoo_recipes_parse(const char *name, dws_zoo_recipes *out)
{
    if (!strcmp(name, "mixed")) *out = DWS_ZOO_MIXED;
    else if (!strcmp(name, "reference")) *out = DWS_ZOO_REFERENCE;
    else return -1;
    return 0;
}

void dws_zoo_entry_recipe(const dws_zoo_spec *s, int index, dws_recipe *r, dws_zoo_split *split)
{
    dws_rng rng;
    dws_rng_seed_stream(&rng, s->seed, (uint64_t)index);
    double u = dws_rng_uniform(&rng), edge = 0.0;
    *split = DWS_ZOO_TEST_UNSEEN_WIDTHS;
    for (int k = 0; k < 3; k++)
        if (u < (edge += SPLIT_FRACTIONS[k])) {
            *split = (dws_zoo_split)k;
            break;
        }
    if (s->recipes == DWS_ZOO_REFERENCE) {
        *r = dws_recipe_reference();
        r->seed = dws_rng_u64(&rng) >> 11;
        if (*split == DWS_ZOO_TEST_UNSEEN_WIDTHS) *split = DWS_ZOO_TEST;
        return;
    }
    memset(r, 0, sizeof *r);
    /* Lists of one choice draw nothing: a default-family zoo's stream is what it was. */
    r->n_hidden = s->n_hidden_layers > 1 ? s->hidden_layers[dws_rng_below(&rng, (uint64_t)s->n_hidden_layers)]
                                         : s->hidden_layers[0];
    r->activation = s->n_activations > 1 ? s->activations[dws_rng_below(&rng, (uint64_t)s->n_activations)]
                                         : s->activations[0];
    r->leaky_slope = DWS_ZOO_LEAKY_SLOPE;
    for (int l = 0; l < r->n_hidden; l++)
        r->hidden[l] = *split == DWS_ZOO_TEST_UNSEEN_WIDTHS ? PICK(&rng, UNSEEN_WIDTHS) : PICK(&rng, SEEN_WIDTHS);
    double o = dws_rng_uniform(&rng);
    if (o < 0.5) {
        r->optim = dws_optim_defaults(DWS_OPT_ADAM, PICK(&rng, ADAM_LRS));
        r->optim.weight_decay = PICK(&rng, L2_DECAYS);
    } else if (o < 0.85) {
        r->optim = dws_optim_defaults(DWS_OPT_SGD, PICK(&rng, SGD_LRS));
        r->optim.weight_decay = PICK(&rng, L2_DECAYS);
    } else {
        r->optim = dws_optim_defaults(DWS_OPT_ADAMW, PICK(&rng, ADAM_LRS));
        r->optim.weight_decay = PICK(&rng, ADAMW_DECAYS);
    }
    r->batch_size = PICK(&rng, BATCH_SIZES);
    r->epochs = s->epochs[dws_rng_below(&rng, (uint64_t)s->n_epochs)];
    r->subset = s->subsets[dws_rng_below(&rng, (uint64_t)s->n_subsets)];
    r->seed = dws_rng_u64(&rng) >> 11;   /* 53 bits: exact in any JSON reader */
}

static cJSON *int_array(const int64_t *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

/* The keys of zoo.json that must match for a run to join an existing zoo (absent in
 * both counts as the same: a default-family zoo has no hidden_layers or activations). */
static const char *const IDENTITY_KEYS[] = {"format",       "seed",       "count",         "recipes",
                                            "epochs",       "subsets",    "hidden_layers", "activations",
                                            "domain",       "domain_seed", "train_images", "test_images",
                                            "frame"};

static cJSON *manifest(const dws_zoo_spec *s, size_t train_images, size_t test_images)
{
    cJSON *o = cJSON_CreateObject();
    int64_t tmp[DWS_ZOO_MAX_CHOICES];
    char domain[256];
    dws_domain_format(&s->domain, domain, sizeof domain);
    cJSON_AddNumberToObject(o, "format", DWS_ZOO_FORMAT);
    cJSON_AddNumberToObject(o, "seed", (double)s->seed);
    cJSON_AddNumberToObject(o, "count", s->count);
    cJSON_AddStringToObject(o, "recipes", dws_zoo_recipes_name(s->recipes));
    for (int i = 0; i < s->n_epochs; i++) tmp[i] = s->epochs[i];
    cJSON_AddItemToObject(o, "epochs", int_array(tmp, s->n_epochs));
    for (int i = 0; i < s->n_subsets; i++) tmp[i] = s->subsets[i];
    cJSON_AddItemToObject(o, "subsets", int_array(tmp, s->n_subsets));
    if (!dws_zoo_spec_is_default_family(s)) {   /* keys a default-family zoo.json never had */
        for (int i = 0; i < s->n_hidden_layers; i++) tmp[i] = s->hidden_layers[i];
        cJSON_AddItemToObject(o, "hidden_layers", int_array(tmp, s->n_hidden_layers));
        cJSON *acts = cJSON_AddArrayToObject(o, "activations");
        int leaky = 0;
        for (int i = 0; i < s->n_activations; i++) {
            cJSON_AddItemToArray(acts, cJSON_CreateString(dws_activation_name(s->activations[i])));
            leaky |= s->activations[i] == DWS_ACT_LEAKY_RELU;
        }
        if (leaky) cJSON_AddNumberToObject(o, "leaky_relu_slope", dws_float_decimal(DWS_ZOO_LEAKY_SLOPE));
        cJSON_AddStringToObject(o, "depth_rule", DEPTH_RULE);
    }
    cJSON_AddStringToObject(o, "domain", domain);
    cJSON_AddNumberToObject(o, "domain_seed", (double)s->domain_seed);
    cJSON_AddNumberToObject(o, "train_images", (double)train_images);
    cJSON_AddNumberToObject(o, "test_images", (double)test_images);
    if (s->frame != DWS_FRAME_PIXEL) cJSON_AddStringToObject(o, "frame", dws_frame_name(s->frame));
    cJSON_AddStringToObject(o, "input", s->frame == DWS_FRAME_STANDARDIZED ? DWS_CIFAR10_STANDARDIZED_CONVENTION
                                                                          : DWS_CIFAR10_INPUT_CONVENTION);
    cJSON_AddNumberToObject(o, "classes", 10);
    cJSON_AddItemToObject(o, "hidden_widths", int_array(SEEN_WIDTHS, COUNT_OF(SEEN_WIDTHS)));
    cJSON_AddItemToObject(o, "unseen_hidden_widths", int_array(UNSEEN_WIDTHS, COUNT_OF(UNSEEN_WIDTHS)));
    cJSON *splits = cJSON_AddObjectToObject(o, "splits");
    for (int k = 0; k < 4; k++) cJSON_AddNumberToObject(splits, dws_zoo_split_name((dws_zoo_split)k), SPLIT_FRACTIONS[k]);
    cJSON_AddStringToObject(o, "split_rule", SPLIT_RULE);
    cJSON_AddStringToObject(o, "created_by", "dwsnet " DWS_VERSION);
    return o;
}

static cJSON *read_json_file(const char *path, dws_error *err)
{
    uint8_t *buf;
    size_t len;
    if (dws_gz_read_all(path, 1 << 20, &buf, &len, err)) return NULL;
    cJSON *o = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    if (!o) dws_error_set(err, DWS_E_BAD_DATA, "%s is not valid JSON", path);
    return o;
}

static int make_dir(const char *path, dws_error *err)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
    dws_error_set(err, DWS_E_IO, "cannot create %s: %s", path, strerror(errno));
    return -1;
}

int dws_zoo_open(const char *dir, const dws_zoo_spec *spec, size_t train_images, size_t test_images,
                 dws_error *err)
{
    char path[4096], tmp[4200];
    if (dws_zoo_spec_check(spec, err)) return -1;
    snprintf(path, sizeof path, "%s/models", dir);
    if (make_dir(dir, err) || make_dir(path, err)) return -1;
    snprintf(path, sizeof path, "%s/entries", dir);
    if (make_dir(path, err)) return -1;

    cJSON *want = manifest(spec, train_images, test_images);
    char *text = cJSON_Print(want);
    snprintf(path, sizeof path, "%s/zoo.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int rc = -1, fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int written = f && fchmod(fd, 0644) == 0 && fprintf(f, "%s\n", text) >= 0;
    if (f ? fclose(f) != 0 : fd >= 0 && close(fd) != 0) written = 0;
    if (!written) {
        dws_error_set(err, DWS_E_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    /* link() publishes the manifest only if no other shard did first. */
    if (link(tmp, path) == 0) {
        rc = 0;
        goto done;
    }
    if (errno != EEXIST) {
        dws_error_set(err, DWS_E_IO, "cannot create %s: %s", path, strerror(errno));
        goto done;
    }
    cJSON *have = read_json_file(path, err);
    if (!have) goto done;
    rc = 0;
    for (int i = 0; i < COUNT_OF(IDENTITY_KEYS) && rc == 0; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(want, IDENTITY_KEYS[i]),
                    *b = cJSON_GetObjectItemCaseSensitive(have, IDENTITY_KEYS[i]);
        if ((a || b) && !cJSON_Compare(a, b, 1)) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT,
                          "%s was made with a different '%s'; use the same settings or another folder", path,
                          IDENTITY_KEYS[i]);
            rc = -1;
        }
    }
    cJSON_Delete(have);
done:
    unlink(tmp);
    free(text);
    cJSON_Delete(want);
    return rc;
}

static int int_list(const cJSON *a, int *n, int max, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsArray(a)) return -1;
    *n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a)
    {
        if (*n == max || !cJSON_IsNumber(v) || v->valuedouble < (double)lo || v->valuedouble > (double)hi) return -1;
        out[(*n)++] = (int64_t)v->valuedouble;
    }
    return *n ? 0 : -1;
}

int dws_zoo_read_spec(const char *dir, dws_zoo_spec *spec, dws_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/zoo.json", dir);
    cJSON *o = read_json_file(path, err);
    if (!o) return -1;
    memset(spec, 0, sizeof *spec);
    int64_t v[DWS_ZOO_MAX_CHOICES];
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed"),
                *count = cJSON_GetObjectItemCaseSensitive(o, "count"),
                *domain = cJSON_GetObjectItemCaseSensitive(o, "domain"),
                *dseed = cJSON_GetObjectItemCaseSensitive(o, "domain_seed"),
                *recipes = cJSON_GetObjectItemCaseSensitive(o, "recipes"),
                *frame = cJSON_GetObjectItemCaseSensitive(o, "frame");
    int ok = cJSON_IsNumber(seed) && seed->valuedouble >= 0 && cJSON_IsNumber(count) && count->valuedouble >= 1 &&
             count->valuedouble <= DWS_ZOO_MAX_COUNT && cJSON_IsString(domain) && cJSON_IsNumber(dseed) &&
             dseed->valuedouble >= 0 && cJSON_IsString(recipes) &&
             dws_zoo_recipes_parse(recipes->valuestring, &spec->recipes) == 0 &&
             (!frame || (cJSON_IsString(frame) && dws_frame_parse(frame->valuestring, &spec->frame) == 0));
    if (ok) {
        spec->seed = (uint64_t)seed->valuedouble;
        spec->count = count->valueint;
        spec->domain_seed = (uint64_t)dseed->valuedouble;
        ok = dws_domain_parse(domain->valuestring, &spec->domain, NULL) == 0;
    }
    if (ok) ok = int_list(cJSON_GetObjectItemCaseSensitive(o, "epochs"), &spec->n_epochs, DWS_ZOO_MAX_CHOICES, 0,
                          100000, v) == 0;
    for (int i = 0; ok && i < spec->n_epochs; i++) spec->epochs[i] = (int)v[i];
    if (ok) ok = int_list(cJSON_GetObjectItemCaseSensitive(o, "subsets"), &spec->n_subsets, DWS_ZOO_MAX_CHOICES, 0,
                          UINT32_MAX, v) == 0;
    for (int i = 0; ok && i < spec->n_subsets; i++) spec->subsets[i] = (uint32_t)v[i];
    /* Absent in a zoo made before families: 2 hidden layers, ReLU. */
    dws_zoo_spec_family(spec, DWS_ZOO_FAMILY_DEFAULT);
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(o, "hidden_layers"),
                *acts = cJSON_GetObjectItemCaseSensitive(o, "activations");
    if (ok && layers) ok = int_list(layers, &spec->n_hidden_layers, DWS_ZOO_MAX_CHOICES, 1, DWS_MAX_LAYERS - 1, v) == 0;
    for (int i = 0; ok && layers && i < spec->n_hidden_layers; i++) spec->hidden_layers[i] = (int)v[i];
    if (ok && acts) {
        spec->n_activations = 0;
        ok = cJSON_IsArray(acts) && cJSON_GetArraySize(acts) >= 1 && cJSON_GetArraySize(acts) <= DWS_ZOO_MAX_CHOICES;
        for (const cJSON *a = ok ? acts->child : NULL; a && ok; a = a->next) {
            dws_activation *slot = &spec->activations[spec->n_activations++];
            ok = cJSON_IsString(a) && dws_activation_parse(a->valuestring, slot) == 0 && *slot != DWS_ACT_IDENTITY;
        }
    }
    cJSON_Delete(o);
    if (!ok) dws_error_set(err, DWS_E_BAD_DATA, "%s does not describe a zoo", path);
    return ok ? 0 : -1;
}
