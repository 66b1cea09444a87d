#include "zoo.h"

#include <math.h>
#include <string.h>

int dws_zoo_records_read(const char *dir, dws_zoo_records *out, dws_error *err)
{
    return dws_zoo_catalog_read_mode(dir, DWS_ZOO_READ_FIELDS, &out->r, &out->n, NULL, err);
}

void dws_zoo_records_free(dws_zoo_records *z)
{
    dws_zoo_catalog_free(z->r, z->n);
    z->n = 0;
    z->r = NULL;
}

int dws_zoo_record_property(const dws_zoo_record *r, const char *name, double *out)
{
    if (!strcmp(name, "depth")) {   /* weight layers, also where the record does not say */
        *out = r->n_layers;
        return 0;
    }
    if (!strcmp(name, "log_width")) {
        if (r->n_layers < 2) return -1;
        double s = 0;
        for (int l = 1; l < r->n_layers; l++) s += log((double)r->widths[l]);
        *out = s / (r->n_layers - 1);
        return 0;
    }
    char key[128];
    const char *dot = strchr(name, '.');
    const cJSON *o = r->fields;
    if (dot) {
        size_t k = (size_t)(dot - name);
        if (k >= sizeof key) return -1;
        memcpy(key, name, k);
        key[k] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        name = dot + 1;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v)) return -1;
    *out = v->valuedouble;
    return 0;
}
