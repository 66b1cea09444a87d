#include "dws_model_card.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static const char *RESERVED[] = {"format",    "id",          "kind",           "written_by", "architecture",
                                 "signature", "target_domain", "default_domain", NULL};

int dws_card_key_is_reserved(const char *key)
{
    for (int i = 0; RESERVED[i]; i++)
        if (!strcmp(key, RESERVED[i])) return 1;
    return 0;
}

int dws_card_valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > 127) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

cJSON *dws_card_build(const dws_net *net, const dws_signature *sig, const dws_model_info *info, dws_error *err)
{
    const dws_arch *a = &net->arch;
    if (!dws_card_valid_id(info->id)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "model id must be 1 to 127 characters of [A-Za-z0-9._-]");
        return NULL;
    }
    cJSON *card = cJSON_CreateObject(), *arch = cJSON_CreateObject(), *s = cJSON_CreateObject();
    cJSON_AddStringToObject(card, "format", DWS_CARD_FORMAT);
    cJSON_AddStringToObject(card, "id", info->id);
    cJSON_AddStringToObject(card, "kind", dws_model_kind_name(a->kind));
    cJSON_AddStringToObject(card, "written_by", "dwsnet " DWS_VERSION);

    cJSON_AddNumberToObject(arch, "dws_layers", a->n_dws_layers);
    cJSON_AddNumberToObject(arch, "channels", a->channels);
    if (a->image.planes) {
        cJSON *im = cJSON_AddObjectToObject(arch, "image");
        cJSON_AddNumberToObject(im, "channels", a->image.planes);
        cJSON_AddNumberToObject(im, "height", a->image.h);
        cJSON_AddNumberToObject(im, "width", a->image.w);
    } else {
        cJSON_AddNullToObject(arch, "image");
    }
    cJSON_AddStringToObject(arch, "input_axis", a->image.planes ? "shared maps per colour plane, learned position "
                                                                  "embedding, depthwise 3x3 template convolution"
                                                                : "shared maps, learned position embedding");
    if (a->input_map) cJSON_AddNumberToObject(arch, "input_map", a->input_map);
    cJSON_AddStringToObject(arch, "class_axis", "exact (per-class parameters)");
    if (a->kind == DWS_MODEL_ENCODER) {
        cJSON_AddNumberToObject(arch, "embed_dim", a->embed_dim);
        cJSON_AddNumberToObject(arch, "mlp_hidden", a->mlp_hidden);
        cJSON_AddBoolToObject(arch, "width_features", a->width_features);
        cJSON_AddNumberToObject(arch, "probes", a->probes);
        if (a->probes) cJSON_AddNumberToObject(arch, "probe_scale", dws_float_decimal(a->probe_scale));
        cJSON_AddNumberToObject(arch, "projection_hidden", a->proj_hidden);
        cJSON_AddBoolToObject(arch, "head_skip", a->head_skip);
    }
    if (a->cond_dim) {   /* rows of the condition table: the corruptions in enum order */
        cJSON *c = cJSON_AddObjectToObject(arch, "conditions"), *types = cJSON_AddArrayToObject(c, "types");
        cJSON_AddNumberToObject(c, "dim", a->cond_dim);
        for (int t = 0; t < a->cond_types; t++) cJSON_AddItemToArray(types, cJSON_CreateString(dws_corruption_name(t)));
        cJSON_AddNumberToObject(c, "severities", a->cond_severities);
        cJSON_AddNumberToObject(c, "max_steps", a->cond_steps);
        cJSON_AddBoolToObject(c, "any", 1);
        if (a->cond_acts) {   /* rows of the activation table */
            int n;
            const dws_activation *acts = dws_cond_activations(&n);
            cJSON *list = cJSON_AddArrayToObject(c, "activations");
            for (int r = 0; r < a->cond_acts; r++)
                cJSON_AddItemToArray(list, cJSON_CreateString(dws_activation_name(acts[r])));
        }
        if (a->cond_frames) {   /* the frames it reads MLPs in: pixel, then one row each */
            cJSON *list = cJSON_AddArrayToObject(c, "frames");
            for (int f = 0; f <= a->cond_frames; f++)
                cJSON_AddItemToArray(list, cJSON_CreateString(dws_frame_name((dws_frame)f)));
        }
    }
    cJSON_AddNumberToObject(arch, "parameters", (double)net->n_params);
    cJSON_AddItemToObject(card, "architecture", arch);

    cJSON_AddNumberToObject(s, "d0", (double)sig->d0);
    cJSON_AddNumberToObject(s, "dL", (double)sig->dL);
    cJSON_AddNumberToObject(s, "depth", sig->depth);
    cJSON_AddStringToObject(s, "activation", dws_activation_name(sig->activation));
    cJSON_AddNumberToObject(s, "min_width", (double)sig->min_width);
    cJSON_AddNumberToObject(s, "max_width", (double)sig->max_width);
    cJSON_AddNumberToObject(s, "min_depth", sig->depth_min);
    cJSON_AddNumberToObject(s, "max_depth", sig->depth_max);
    cJSON *acts = cJSON_AddArrayToObject(s, "activations");
    for (int i = 0; i < sig->n_activations; i++)
        cJSON_AddItemToArray(acts, cJSON_CreateString(dws_activation_name(sig->activations[i])));
    cJSON_AddItemToObject(card, "signature", s);

    cJSON_AddStringToObject(card, "input_convention",
                            info->input_convention ? info->input_convention : DWS_DEFAULT_INPUT_CONVENTION);
    cJSON_AddStringToObject(card, "target_domain", info->target_domain ? info->target_domain : "none");
    if (a->cond_dim)
        cJSON_AddStringToObject(card, "default_domain", info->target_domain ? info->target_domain : DWS_DEFAULT_DOMAIN);
    return card;
}

int dws_card_get_int(const cJSON *obj, const char *where, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   dws_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: %s.%s must be an integer", where, key);
        return -1;
    }
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model card: %s.%s = %.0f is outside %lld..%lld", where, key,
                      v->valuedouble, (long long)lo, (long long)hi);
        return -1;
    }
    *out = (int64_t)v->valuedouble;
    return 0;
}

/* dws_card_get_int, or 0 when obj has no such key. */
static int get_optional_int(const cJSON *obj, const char *where, const char *key, int64_t lo, int64_t hi,
                            int64_t *out, dws_error *err)
{
    *out = 0;
    return cJSON_GetObjectItemCaseSensitive(obj, key) ? dws_card_get_int(obj, where, key, lo, hi, out, err) : 0;
}

const char *dws_card_get_string(const cJSON *obj, const char *where, const char *key, dws_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: %s%s%s must be a string", where, *where ? "." : "", key);
        return NULL;
    }
    return v->valuestring;
}

static const cJSON *get_object(const cJSON *obj, const char *key, dws_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsObject(v)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: %s must be an object", key);
        return NULL;
    }
    return v;
}

static int parse_architecture(const cJSON *card, dws_arch *a, dws_error *err)
{
    const cJSON *arch = get_object(card, "architecture", err);
    if (!arch) return -1;
    int64_t v;
    if (dws_card_get_int(arch, "architecture", "dws_layers", 1, DWS_MAX_DWS_LAYERS, &v, err) != 0) return -1;
    a->n_dws_layers = (int)v;
    if (dws_card_get_int(arch, "architecture", "channels", 1, 256, &v, err) != 0) return -1;
    a->channels = (int)v;
    const cJSON *im = cJSON_GetObjectItemCaseSensitive(arch, "image");
    a->image = (dws_image_shape){0, 0, 0};
    if (cJSON_IsObject(im)) {
        int64_t c, h, w;
        if (dws_card_get_int(im, "architecture.image", "channels", 1, DWS_MAX_IN_GROUPS, &c, err) != 0 ||
            dws_card_get_int(im, "architecture.image", "height", 1, 1 << 16, &h, err) != 0 ||
            dws_card_get_int(im, "architecture.image", "width", 1, 1 << 16, &w, err) != 0)
            return -1;
        a->image = (dws_image_shape){(int)c, (int)h, (int)w};
    } else if (!cJSON_IsNull(im)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: architecture.image must be an object or null");
        return -1;
    }
    /* Absent in files written before the input map: none. */
    if (get_optional_int(arch, "architecture", "input_map", 0, DWS_INMAP_MAX_KERNEL, &v, err) != 0) return -1;
    a->input_map = (int)v;
    if (a->kind == DWS_MODEL_ENCODER) {
        if (dws_card_get_int(arch, "architecture", "embed_dim", 1, 4096, &v, err) != 0) return -1;
        a->embed_dim = (int)v;
        if (dws_card_get_int(arch, "architecture", "mlp_hidden", 1, 4096, &v, err) != 0) return -1;
        a->mlp_hidden = (int)v;
        /* Absent in models written before the option existed: off. */
        a->width_features = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(arch, "width_features"));
        a->probe_scale = 0.f;
        a->head_skip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(arch, "head_skip"));   /* absent: off */
        /* Absent in models written before these options: none. */
        if (get_optional_int(arch, "architecture", "projection_hidden", 0, 4096, &v, err) != 0) return -1;
        a->proj_hidden = (int)v;
        if (get_optional_int(arch, "architecture", "probes", 0, 4096, &v, err) != 0) return -1;
        a->probes = (int)v;
        if (a->probes) {
            const cJSON *sc = cJSON_GetObjectItemCaseSensitive(arch, "probe_scale");
            if (!cJSON_IsNumber(sc) || !(sc->valuedouble > 0) || !(sc->valuedouble < 1e30)) {
                dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: architecture.probe_scale must be a number > 0");
                return -1;
            }
            a->probe_scale = (float)sc->valuedouble;
        }
    }
    return 0;
}

/* architecture.conditions of a conditioned adapter (absent: not conditioned). */
static int parse_conditions(const cJSON *card, dws_arch *a, dws_conditions *cond, dws_error *err)
{
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++) cond->type_row[t] = -1;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(card, "architecture"),
                                                      "conditions");
    if (!c) return 0;
    int64_t v;
    const char *w = "architecture.conditions";
    if (!cJSON_IsObject(c) || dws_card_get_int(c, w, "dim", 1, DWS_COND_MAX_DIM, &v, err) != 0) {
        if (!cJSON_IsObject(c)) dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: %s must be an object", w);
        return -1;
    }
    a->cond_dim = (int)v;
    if (dws_card_get_int(c, w, "severities", 1, 16, &v, err) != 0) return -1;
    a->cond_severities = cond->severities = (int)v;
    if (dws_card_get_int(c, w, "max_steps", 1, DWS_COND_MAX_STEPS, &v, err) != 0) return -1;
    a->cond_steps = cond->max_steps = (int)v;
    cond->any = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "any"));
    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(c, "activations"), *act;
    int n_known;
    const dws_activation *known = dws_cond_activations(&n_known);
    if (!cJSON_IsArray(acts)) acts = NULL;
    cJSON_ArrayForEach(act, acts)
    {
        if (a->cond_acts >= n_known || !cJSON_IsString(act) ||
            strcmp(act->valuestring, dws_activation_name(known[a->cond_acts])) != 0) {
            dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model card: %s.activations[%d] is not the activation this "
                          "build reads in that row", w, a->cond_acts);
            return -1;
        }
        a->cond_acts++;
    }
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(c, "frames"), *frame;
    int n_frames = 0;
    if (!cJSON_IsArray(frames)) frames = NULL;
    cJSON_ArrayForEach(frame, frames)
    {
        if (n_frames >= DWS_FRAME_COUNT || !cJSON_IsString(frame) ||
            strcmp(frame->valuestring, dws_frame_name((dws_frame)n_frames)) != 0) {
            dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model card: %s.frames[%d] is not the frame this build "
                          "reads in that row", w, n_frames);
            return -1;
        }
        n_frames++;
    }
    a->cond_frames = n_frames > 1 ? n_frames - 1 : 0;
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(c, "types"), *t;
    int row = 0;
    if (!cJSON_IsArray(types)) types = NULL;
    cJSON_ArrayForEach(t, types)
    {
        int kind = -1;
        for (int k = 0; cJSON_IsString(t) && k < DWS_CORRUPT_COUNT; k++)
            if (!strcmp(t->valuestring, dws_corruption_name(k))) kind = k;
        if (kind < 0 || cond->type_row[kind] >= 0) {
            dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model card: %s.types[%d] is not a corruption this build "
                          "knows, or a repeat", w, row);
            return -1;
        }
        cond->type_row[kind] = row++;
    }
    if (row < 1) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: %s.types must list corruption names", w);
        return -1;
    }
    a->cond_types = row;
    cond->conditioned = 1;
    return 0;
}

/* The domains: a conditioned adapter's default (a domain it reads), an unconditioned
 * one's target. A target that names no domain ("none", absent, or free text in files
 * written before domains were parsed) leaves the unconditioned adapter's domain
 * unnamed: it runs for requests that name none. */
static int parse_domains(const cJSON *card, dws_conditions *cond, dws_error *err)
{
    const char *key = cond->conditioned ? "default_domain" : "target_domain";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(card, key);
    const char *spec = cJSON_IsString(v) ? v->valuestring : "none";
    dws_error e;
    int named = dws_adapt_domain_parse(spec, &cond->fallback, &e) == 0 && cond->fallback.kind == DWS_DOMAIN_NAMED;
    if (cond->conditioned && !named) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: %s '%s' is not a domain", key, spec);
        return -1;
    }
    if (!named) memset(&cond->fallback, 0, sizeof cond->fallback);   /* DWS_DOMAIN_DEFAULT: unnamed */
    cond->fixed = cond->fallback;
    return 0;
}

static int parse_signature(const cJSON *card, dws_signature *sig, dws_error *err)
{
    const cJSON *s = get_object(card, "signature", err);
    if (!s) return -1;
    int64_t depth;
    if (dws_card_get_int(s, "signature", "d0", 1, (int64_t)1 << 24, &sig->d0, err) != 0 ||
        dws_card_get_int(s, "signature", "dL", 1, DWS_MAX_EXACT_CLASSES, &sig->dL, err) != 0 ||
        dws_card_get_int(s, "signature", "depth", 1, DWS_MAX_LAYERS, &depth, err) != 0 ||
        dws_card_get_int(s, "signature", "min_width", 0, (int64_t)1 << 40, &sig->min_width, err) != 0 ||
        dws_card_get_int(s, "signature", "max_width", 0, (int64_t)1 << 40, &sig->max_width, err) != 0)
        return -1;
    sig->depth = (int)depth;
    if (sig->min_width > sig->max_width) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: signature.min_width > max_width");
        return -1;
    }
    const char *act = dws_card_get_string(s, "signature", "activation", err);
    if (!act) return -1;
    if (dws_activation_parse(act, &sig->activation) != 0) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model card: unknown activation '%s'", act);
        return -1;
    }
    /* Absent in models written before depth ranges: their one depth and activation. */
    int64_t lo = sig->depth, hi = sig->depth;
    if ((cJSON_GetObjectItemCaseSensitive(s, "min_depth") &&
         dws_card_get_int(s, "signature", "min_depth", 1, DWS_MAX_LAYERS, &lo, err) != 0) ||
        (cJSON_GetObjectItemCaseSensitive(s, "max_depth") &&
         dws_card_get_int(s, "signature", "max_depth", 1, DWS_MAX_LAYERS, &hi, err) != 0))
        return -1;
    if (lo > sig->depth || hi < sig->depth) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: signature depth range %lld..%lld misses depth %d",
                      (long long)lo, (long long)hi, sig->depth);
        return -1;
    }
    sig->depth_min = (int)lo;
    sig->depth_max = (int)hi;
    sig->n_activations = 1;
    sig->activations[0] = sig->activation;
    return 0;
}

int dws_card_parse(const cJSON *card, dws_arch *arch, dws_signature *sig, dws_conditions *cond, char *id,
                   dws_error *err)
{
    memset(arch, 0, sizeof *arch);
    memset(sig, 0, sizeof *sig);
    memset(cond, 0, sizeof *cond);
    const char *format = dws_card_get_string(card, "", "format", err);
    if (!format) return -1;
    if (strcmp(format, DWS_CARD_FORMAT) != 0) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: format is '%s', not '%s'", format, DWS_CARD_FORMAT);
        return -1;
    }
    const char *s = dws_card_get_string(card, "", "id", err);
    if (!s) return -1;
    if (!dws_card_valid_id(s)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model card: bad id");
        return -1;
    }
    strcpy(id, s);
    if (!(s = dws_card_get_string(card, "", "kind", err))) return -1;
    if (!strcmp(s, "adapter")) arch->kind = DWS_MODEL_ADAPTER;
    else if (!strcmp(s, "encoder")) arch->kind = DWS_MODEL_ENCODER;
    else {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model card: unknown model kind '%s'", s);
        return -1;
    }
    if (parse_architecture(card, arch, err) != 0 || parse_signature(card, sig, err) != 0 ||
        (arch->kind == DWS_MODEL_ADAPTER && parse_conditions(card, arch, cond, err) != 0) ||
        parse_domains(card, cond, err) != 0)
        return -1;
    arch->depth = sig->depth;
    if (sig->depth_min != sig->depth || sig->depth_max != sig->depth) {
        arch->depth_min = sig->depth_min;
        arch->depth_max = sig->depth_max;
    }
    if (arch->cond_acts) dws_signature_set_activations(sig, arch);
    arch->d0 = sig->d0;
    arch->dL = sig->dL;
    if (dws_arch_check(arch, err) != 0) {
        if (err) err->code = DWS_E_INCOMPATIBLE_MODEL;
        return -1;
    }
    return 0;
}

int dws_card_render(const cJSON *card, char **text, dws_error *err)
{
    char *t = cJSON_PrintUnformatted(card);
    if (!t) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot render the model card");
        return -1;
    }
    free(*text);
    *text = t;
    return 0;
}

int dws_card_set_entry(cJSON *card, const char *key, const char *json_value, char **text, dws_error *err)
{
    cJSON *v = cJSON_Parse(json_value);
    if (!v) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "model card entry '%s' is not valid JSON", key);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(card, key)) cJSON_ReplaceItemInObjectCaseSensitive(card, key, v);
    else cJSON_AddItemToObject(card, key, v);
    return dws_card_render(card, text, err);
}

void dws_signature_set_activations(dws_signature *sig, const dws_arch *a)
{
    int n;
    const dws_activation *acts = dws_cond_activations(&n);
    sig->n_activations = a->cond_acts ? a->cond_acts : 1;
    for (int i = 0; i < sig->n_activations; i++) sig->activations[i] = a->cond_acts ? acts[i] : DWS_ACT_RELU;
    sig->activation = sig->activations[0];
}

void dws_signature_of_arch(const dws_arch *a, int64_t min_width, int64_t max_width, dws_signature *sig)
{
    memset(sig, 0, sizeof *sig);
    sig->d0 = a->d0;
    sig->dL = a->dL;
    sig->depth = a->depth;
    sig->depth_min = a->depth_max ? a->depth_min : a->depth;
    sig->depth_max = a->depth_max ? a->depth_max : a->depth;
    sig->min_width = min_width;
    sig->max_width = max_width;
    dws_signature_set_activations(sig, a);
}
