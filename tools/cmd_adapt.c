/* dwsnet adapt: runs a DWSNet adapter on an ONNX MLP classifier and writes the
 * adapted classifier: the same ONNX model with new weights in the same tensors. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "model/model.h"
#include "cli_io.h"
#include "commands.h"
#include "model_cli.h"
#include "onnx/onnx_codec.h"

#define CMD "adapt"

/* --domain auto: the domain the estimator names for the --images (clean: none). */
static int estimate_domain(const model_run_opts *a, dws_adapt_domain *d, char *note, size_t size, dws_error *err)
{
    dws_image_budget budget = {.max_bytes = (size_t)DWS_AUTO_MAX_IMAGES * 3 * 32 * 32 * sizeof(float) * 2,
                               .max_images = DWS_AUTO_MAX_IMAGES};
    dws_image_list images = {0};
    int rc = 0;
    for (int i = 0; i < a->images.n && rc == 0; i++) rc = dws_image_read_file(a->images.v[i], &images, &budget, err);
    const char *path = a->estimator;
    dws_estimator *e = rc == 0 ? model_cli_load_estimator(CMD, &path) : NULL;
    dws_domain_estimate est;
    if (rc == 0 && !e) {
        dws_error_set(err, DWS_E_IO, "no domain estimator for --domain auto (--estimator)");
        rc = -1;
    }
    if (rc == 0) rc = dws_estimate_domain(e, images.x, images.n, &est, err);
    if (rc == 0) dws_adapt_domain_estimated(e, &est, d, note, size);
    dws_estimator_free(e);
    dws_image_list_free(&images, &budget);
    return rc;
}

int cmd_adapt(int argc, char **argv)
{
    model_run_opts a;
    int status = cli_parse(&cli_adapt, argc, argv, &a);
    if (status >= 0) return status;
    dws_model *model;
    dws_onnx *onnx;
    dws_input_norm norm;
    if (model_cli_open(CMD, &a, DWS_DEFAULT_ADAPTER, &model, &onnx, &norm) != 0) return 1;
    dws_error err;
    dws_mlp adapted = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    dws_adapt_domain req, domain;
    char note[256] = "";
    dws_run_opts opts = {.threads = (int)a.threads, .input_norm = &norm, .domain = &req};
    int rc = -1, parsed = dws_adapt_domain_parse(a.domain, &req, &err) == 0;
    if (parsed && (req.kind == DWS_DOMAIN_AUTO) != (a.images.n > 0)) {
        dws_error_set(&err, DWS_E_INVALID_ARGUMENT, a.images.n ? "--images goes with --domain auto"
                                                               : "--domain auto needs --images FILE... (unlabeled "
                                                                 "images from the target domain)");
        parsed = 0;
    }
    if (parsed && req.kind == DWS_DOMAIN_AUTO) {
        parsed = estimate_domain(&a, &req, note, sizeof note, &err) == 0;
        opts.domain_note = note;
    }
    if (parsed && dws_model_resolve_domain(model, &req, &domain, &err) == 0 &&
        dws_adapt_onnx(model, onnx, &opts, &adapted, &bytes, &len, &err) == 0)
        rc = dws_write_file_atomic(a.out, bytes, len, &err);
    if (rc == 0 && strcmp(a.out, "-") != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", dws_model_id(model));
        cJSON_AddStringToObject(o, "output", a.out);
        char spec[256];
        dws_adapt_domain_format(&domain, spec, sizeof spec);
        cJSON_AddStringToObject(o, "domain", spec);
        if (*note) cJSON_AddStringToObject(o, "domain_estimate", note);
        cJSON_AddNumberToObject(o, "max_abs_change", dws_mlp_max_abs_diff(dws_onnx_weights(onnx), &adapted));
        cli_print_json(o);
    }
    free(bytes);
    dws_mlp_free(&adapted);
    dws_onnx_free(onnx);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
