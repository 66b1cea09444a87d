/* What the DWSNet model commands (init-model, adapt, embed) share: strict integer
 * options, the arguments of the commands that run a model on one classifier, and
 * loading a model, with a clear error when the default one is absent. */
#ifndef DWS_MODEL_CLI_H
#define DWS_MODEL_CLI_H

#include <stdio.h>

#include "model/model.h"
#include "onnx/onnx_codec.h"

#define DWS_DEFAULT_ADAPTER "models/cifar10c-adapter.dws"
#define DWS_DEFAULT_ENCODER "models/cifar10-embedder.dws"

/* A whole-string integer in [lo, hi]; else prints the error line and returns -1. */
int model_cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);

/* The model at path, or at default_path when path is NULL; prints the error line
 * (naming --model when the default is missing) and returns NULL on failure. */
dws_model *model_cli_load(const char *cmd, const char *path, const char *default_path);

/* `dwsnet CMD IN.onnx [--model FILE] [--threads N]`, and `-o FILE` when with_out. */
typedef struct {
    const char *in, *out, *model_path;
    long threads;   /* 0: one per CPU */
} model_cli_args;

/* -1 when the command goes on with *a; else the exit status it returns: 0 after
 * printing usage for --help, 2 after an error line, or usage when IN (or -o, with
 * with_out) is missing. */
int model_cli_parse_args(const char *cmd, int argc, char **argv, int with_out, void (*usage)(FILE *),
                         model_cli_args *a);

/* The model (a->model_path, else default_path) and the classifier a->in that the
 * command runs it on. Prints the error line and returns -1, with nothing to free,
 * on failure. */
int model_cli_open(const char *cmd, const model_cli_args *a, const char *default_path, dws_model **model,
                   dws_onnx **onnx);

#endif
