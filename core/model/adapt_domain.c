/* The domain of an /adapt request: parsed, checked against what an adapter reads,
 * and described for /v1/models (model.h, adapt domain). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int dws_adapt_domain_parse(const char *spec, dws_adapt_domain *d, dws_error *err)
{
    memset(d, 0, sizeof *d);
    if (!spec || !*spec || !strcmp(spec, "default")) return 0;
    if (!strcmp(spec, "any")) d->kind = DWS_DOMAIN_ANY;
    else if (!strcmp(spec, "auto")) d->kind = DWS_DOMAIN_AUTO;
    else if (!strcmp(spec, "none") || !strcmp(spec, "clean")) d->kind = DWS_DOMAIN_NONE;
    else {
        dws_error e;
        if (dws_domain_parse(spec, &d->chain, &e) != 0) {
            dws_error_set(err, DWS_E_UNKNOWN_DOMAIN,
                          "%s; a domain is default, any, none, or type:severity steps joined by commas, type "
                          "one of %s",
                          e.message, dws_corruption_names());
            return -1;
        }
        d->kind = d->chain.n_steps ? DWS_DOMAIN_NAMED : DWS_DOMAIN_NONE;
    }
    return 0;
}

void dws_arch_condition_on_domains(dws_arch *a, int cond_dim)
{
    a->cond_dim = cond_dim;
    a->cond_types = DWS_CORRUPT_COUNT;
    a->cond_severities = 5;
    a->cond_steps = 2;
}

void dws_adapt_domain_format(const dws_adapt_domain *d, char *buf, size_t size)
{
    switch (d->kind) {
    case DWS_DOMAIN_DEFAULT: snprintf(buf, size, "default"); break;
    case DWS_DOMAIN_ANY: snprintf(buf, size, "any"); break;
    case DWS_DOMAIN_NONE: snprintf(buf, size, "none"); break;
    case DWS_DOMAIN_AUTO: snprintf(buf, size, "auto"); break;
    case DWS_DOMAIN_NAMED: dws_domain_format(&d->chain, buf, size); break;
    }
}

/* What an adapter reads, in words, for error messages. */
static void describe(const dws_conditions *c, const char *id, char *buf, size_t size)
{
    if (!c->conditioned) {
        char fixed[256];
        dws_adapt_domain_format(&c->fixed, fixed, sizeof fixed);
        snprintf(buf, size, "adapter '%s' reads only %s and none", id,
                 c->fixed.kind == DWS_DOMAIN_DEFAULT ? "its one (unnamed) training domain, as default," : fixed);
        return;
    }
    snprintf(buf, size, "adapter '%s' reads any, none, and chains of up to %d steps type:severity, severity 1-%d, "
                        "type one of %s", id, c->max_steps, c->severities, dws_corruption_names());
}

int dws_conditions_resolve(const dws_conditions *c, const char *id, dws_model_kind kind, const dws_adapt_domain *req,
                           dws_adapt_domain *out, dws_error *err)
{
    *out = req && req->kind != DWS_DOMAIN_DEFAULT ? *req : c->fallback;
    const char *why = NULL;
    if (kind != DWS_MODEL_ADAPTER) why = "an encoder reads no domain";
    else if (out->kind == DWS_DOMAIN_AUTO) why = "auto is estimated from images sent with the model (--images, or "
                                                  "images fields of the form)";
    else if (out->kind == DWS_DOMAIN_NONE) return 0;
    else if (!c->conditioned) {
        if (!(c->fixed.kind == out->kind && (out->kind != DWS_DOMAIN_NAMED || dws_domain_same(&c->fixed.chain, &out->chain))))
            why = "";   /* an unnamed domain (DWS_DOMAIN_DEFAULT) is reached only by naming none */
    } else if (out->kind == DWS_DOMAIN_ANY) {
        if (!c->any) why = "";
    } else if (out->chain.n_steps > c->max_steps) {
        why = "";
    } else {
        for (int k = 0; k < out->chain.n_steps && !why; k++) {
            const dws_domain_step *s = &out->chain.steps[k];
            if (c->type_row[s->kind] < 0 || s->severity < 1 || s->severity > c->severities) why = "";
        }
    }
    if (!why) return 0;
    char spec[256], what[1024];
    dws_adapt_domain_format(out, spec, sizeof spec);
    describe(c, id, what, sizeof what);
    dws_error_set(err, DWS_E_UNKNOWN_DOMAIN, "domain '%s' is not one this model reads%s%s: %s", spec, *why ? ": " : "",
                  why, what);
    return -1;
}

char *dws_conditions_accepts_json(const dws_conditions *c)
{
    char spec[256];
    cJSON *j;
    if (!c->conditioned) {   /* its one domain (none listed when its card names none) */
        j = cJSON_CreateObject();
        cJSON *list = cJSON_AddArrayToObject(j, "domains");
        dws_adapt_domain_format(&c->fixed, spec, sizeof spec);
        if (c->fixed.kind == DWS_DOMAIN_NAMED) cJSON_AddItemToArray(list, cJSON_CreateString(spec));
        cJSON_AddBoolToObject(j, "none", 1);
        cJSON_AddStringToObject(j, "default", spec);
    } else {
        j = cJSON_CreateObject();
        cJSON *types = cJSON_AddArrayToObject(j, "types"), *sev = cJSON_AddArrayToObject(j, "severities");
        for (int t = 0; t < DWS_CORRUPT_COUNT; t++)
            if (c->type_row[t] >= 0) cJSON_AddItemToArray(types, cJSON_CreateString(dws_corruption_name(t)));
        for (int s = 1; s <= c->severities; s++) cJSON_AddItemToArray(sev, cJSON_CreateNumber(s));
        cJSON_AddNumberToObject(j, "max_chain", c->max_steps);
        cJSON_AddBoolToObject(j, "any", c->any);
        cJSON_AddBoolToObject(j, "none", 1);
        dws_adapt_domain_format(&c->fallback, spec, sizeof spec);
        cJSON_AddStringToObject(j, "default", spec);
    }
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return text;
}
