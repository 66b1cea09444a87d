/* Errors that cross module boundaries: a stable machine-readable code (used as the
 * problem+json `code` by the daemon and printed by the CLI) and a human message that
 * names the node, tensor or file at fault. */
#ifndef DWS_ERROR_H
#define DWS_ERROR_H

#include <stddef.h>

/* Stable codes. Clients match on these strings; never rename one. */
#define DWS_E_INVALID_PROTOBUF      "invalid_protobuf"
#define DWS_E_NOT_AN_MLP            "not_an_mlp"
#define DWS_E_UNSUPPORTED_OPERATOR  "unsupported_operator"
#define DWS_E_UNSUPPORTED_ACTIVATION "unsupported_activation"
#define DWS_E_SHAPE_MISMATCH        "shape_mismatch"
#define DWS_E_EXTERNAL_DATA         "external_data_unsupported"
#define DWS_E_TOO_LARGE             "too_large"
#define DWS_E_IO                    "io_error"
#define DWS_E_BAD_MODEL_FILE        "bad_model_file"
#define DWS_E_INCOMPATIBLE_MODEL    "incompatible_model"
#define DWS_E_BAD_DATA              "bad_data"
#define DWS_E_INVALID_ARGUMENT      "invalid_argument"
#define DWS_E_OUT_OF_MEMORY         "out_of_memory"

typedef struct {
    const char *code;   /* one of DWS_E_*, or NULL when no error */
    char message[512];
} dws_error;

void dws_error_set(dws_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dws_error_clear(dws_error *err);

#endif
