/* dwsnet init-model: writes a freshly initialised (untrained) adapter or encoder
 * model file: for tests, and as the starting point of training. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"
#include "model/model.h"
#include "ws/ws.h"
#include "model_cli.h"

#define CMD "init-model"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet init-model --kind adapter|encoder -o FILE.dws [options]\n\n"
            "Writes a DWSNet model with random (seeded) parameters. An adapter starts as the exact\n"
            "identity (its residual scales are 0); an encoder starts with random embeddings.\n\n"
            "options (defaults: the shipped CIFAR-10 models):\n"
            "  --channels C     channels of the hidden DWS layers (16)\n"
            "  --layers N       DWS layers (4)\n"
            "  --d0 N           inputs of the MLPs read (3072)\n"
            "  --dL N           classes of the MLPs read (10)\n"
            "  --depth L        layers of the MLPs read (3)\n"
            "  --image CxHxW    d0 is an image of C planes (3x32x32 when d0 is 3072), or 'none'\n"
            "  --embed-dim D    encoder embedding size (32)\n"
            "  --mlp-hidden H   encoder MLP hidden width (128)\n"
            "  --seed S         initialisation seed (0)\n"
            "  --alpha A        adapter residual scale of every tensor (0: the identity; nonzero\n"
            "                   gives an untrained but non-trivial adapter, for tests)\n"
            "  --id NAME        model id, [A-Za-z0-9._-] (untrained-KIND)\n"
            "Prints {\"id\", \"kind\", \"parameters\", \"path\"} as JSON.\n");
}

static int fail(const char *code, const char *msg)
{
    dws_error err;
    dws_error_set(&err, code, "%s", msg);
    return cli_fail(CMD, &err);
}

static int parse_image(const char *s, dws_image_shape *im)
{
    if (!strcmp(s, "none")) {
        *im = (dws_image_shape){0, 0, 0};
        return 0;
    }
    int c, h, w, n;
    if (sscanf(s, "%dx%dx%d%n", &c, &h, &w, &n) != 3 || s[n] || c < 1 || h < 1 || w < 1) {
        fprintf(stderr, "dwsnet " CMD ": %s: --image needs CxHxW or none, got '%s'\n", DWS_E_INVALID_ARGUMENT, s);
        return -1;
    }
    *im = (dws_image_shape){c, h, w};
    return 0;
}

int cmd_init_model(int argc, char **argv)
{
    const char *kind = NULL, *out = NULL, *id = NULL, *image = NULL, *alpha = NULL;
    long v, seed = 0;
    dws_arch a;
    dws_arch_default(&a, DWS_MODEL_ADAPTER);
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *val;
        int status = cli_flag_value(CMD, argc, argv, usage, &i, &val);
        if (status >= 0) return status;
        int rc = 0;
        if (!strcmp(f, "--kind")) kind = val;
        else if (!strcmp(f, "-o")) out = val;
        else if (!strcmp(f, "--id")) id = val;
        else if (!strcmp(f, "--image")) image = val;
        else if (!strcmp(f, "--alpha")) alpha = val;
        else if (!strcmp(f, "--channels")) rc = model_cli_int(CMD, f, val, 1, 256, &v), a.channels = (int)v;
        else if (!strcmp(f, "--layers")) rc = model_cli_int(CMD, f, val, 1, DWS_MAX_DWS_LAYERS, &v), a.n_dws_layers = (int)v;
        else if (!strcmp(f, "--d0")) rc = model_cli_int(CMD, f, val, 1, 1L << 24, &v), a.d0 = v;
        else if (!strcmp(f, "--dL")) rc = model_cli_int(CMD, f, val, 1, 64, &v), a.dL = v;
        else if (!strcmp(f, "--depth")) rc = model_cli_int(CMD, f, val, 1, DWS_MAX_LAYERS, &v), a.depth = (int)v;
        else if (!strcmp(f, "--embed-dim")) rc = model_cli_int(CMD, f, val, 1, 4096, &v), a.embed_dim = (int)v;
        else if (!strcmp(f, "--mlp-hidden")) rc = model_cli_int(CMD, f, val, 1, 4096, &v), a.mlp_hidden = (int)v;
        else if (!strcmp(f, "--seed")) rc = model_cli_int(CMD, f, val, 0, 0x7fffffffL, &seed);
        else return cli_unknown_option(CMD, f);
        if (rc != 0) return 2;
    }
    if (!kind || !out) return cli_missing_option(CMD, usage, "--kind and -o are required");
    if (!strcmp(kind, "adapter")) a.kind = DWS_MODEL_ADAPTER;
    else if (!strcmp(kind, "encoder")) a.kind = DWS_MODEL_ENCODER;
    else return fail(DWS_E_INVALID_ARGUMENT, "--kind must be adapter or encoder");
    if (image) {
        if (parse_image(image, &a.image) != 0) return 2;
    } else if (a.d0 != 3072) {
        a.image = (dws_image_shape){0, 0, 0};
    }
    char default_id[32];
    snprintf(default_id, sizeof default_id, "untrained-%s", kind);
    dws_error err;
    dws_net net;
    if (dws_net_init(&net, &a, (uint64_t)seed, &err) != 0) return cli_fail(CMD, &err);
    if (alpha) {
        char *end;
        float v = strtof(alpha, &end);
        if (end == alpha || *end || !(v >= -100.f && v <= 100.f) || a.kind != DWS_MODEL_ADAPTER) {
            dws_net_free(&net);
            return fail(DWS_E_INVALID_ARGUMENT, "--alpha needs a number in -100..100, for an adapter");
        }
        for (int k = 0; k < 2 * a.depth; k++) net.params[net.alpha + (size_t)k] = v;
    }
    dws_model_info info = {.id = id ? id : default_id};
    dws_model *m = dws_model_from_net(&net, &info, &err);
    if (!m) {
        dws_net_free(&net);
        return cli_fail(CMD, &err);
    }
    size_t n_params = dws_model_net(m)->n_params;
    int rc = dws_model_save(m, out, &err);
    if (rc == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", dws_model_id(m));
        cJSON_AddStringToObject(o, "kind", kind);
        cJSON_AddNumberToObject(o, "parameters", (double)n_params);
        cJSON_AddStringToObject(o, "path", out);
        cli_print_json(o);
    }
    dws_model_free(m);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
