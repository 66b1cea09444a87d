#include "inspect.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"
#include "problem.h"

/* For each loaded model: whether it accepts this MLP, and if not why, so a client
 * (the page) can say so before anything runs. */
static void add_acceptance(cJSON *o, const dwsd_model_set *models, const dws_mlp *w)
{
    cJSON *list = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; list && i < dwsd_model_set_count(models); i++) {
        const dws_model *m = dwsd_model_set_get(models, i);
        dws_error err;
        dws_error_clear(&err);
        int ok = dws_model_check_input(m, w, &err) == 0;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", dws_model_id(m));
        cJSON_AddStringToObject(e, "kind", dws_model_kind_name(dws_model_get_kind(m)));
        cJSON_AddBoolToObject(e, "accepts", ok);
        if (ok) cJSON_AddNullToObject(e, "why_not");
        else cJSON_AddStringToObject(e, "why_not", err.message);
        cJSON_AddItemToArray(list, e);
    }
}

void dwsd_inspect_reply(const dwsd_inference *in, const dws_onnx *onnx, dwsd_reply *out)
{
    char file[DWSD_FILENAME_MAX + 8];
    int named = in->filename && *in->filename;
    if (named) snprintf(file, sizeof file, "%s.onnx", in->filename);
    cJSON *o = dws_onnx_inspect_json(onnx, named ? file : NULL);
    if (o) add_acceptance(o, in->models, dws_onnx_weights(onnx));
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        dwsd_reply_error(out, DWS_E_OUT_OF_MEMORY, "out of memory describing the model");
        return;
    }
    dwsd_reply_ok(out, "application/json", text, strlen(text));
}
