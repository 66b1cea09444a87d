#include "problem.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* A decode failure of a well-formed ONNX file that is simply not a model we serve
 * (a CNN, an unsupported activation, a branch) is 422 like a signature mismatch;
 * a malformed or self-contradictory file is 400. */
static const struct {
    const char *code;
    int status;
    const char *title;
} table[] = {
    {DWS_E_INVALID_PROTOBUF, 400, "The body is not a valid ONNX model"},
    {DWS_E_SHAPE_MISMATCH, 400, "The ONNX model's tensor shapes are inconsistent"},
    {DWS_E_BAD_DATA, 400, "The ONNX model holds invalid data"},
    {DWS_E_INVALID_MODEL, 400, "The ONNX model breaks a rule of the ONNX specification"},
    {DWS_E_INVALID_ARGUMENT, 400, "Invalid argument"},
    {DWS_E_UNKNOWN_DOMAIN, 400, "No loaded adapter reads this domain"},
    {DWSD_E_MISSING_BODY, 400, "The request carries no model"},
    {DWSD_E_NO_IMAGES, 400, "The request carries no images"},
    {DWS_E_BAD_IMAGE, 400, "An image is not a 32 x 32 RGB PNG, JPEG or CIFAR-10 record"},
    {DWS_E_TOO_MANY_IMAGES, 413, "The request carries too many images"},
    {DWSD_E_INVALID_MULTIPART, 400, "The multipart body is malformed"},
    {DWSD_E_BAD_REQUEST, 400, "Bad request"},
    {DWSD_E_INVALID_FRAMING, 400, "The request's message framing is invalid"},
    {DWSD_E_WRONG_MODEL_KIND, 400, "The requested model does not do this operation"},
    {DWSD_E_NOT_FOUND, 404, "Not found"},
    {DWSD_E_UNKNOWN_MODEL, 404, "No loaded model has this id"},
    {DWSD_E_METHOD_NOT_ALLOWED, 405, "Method not allowed"},
    {DWSD_E_TARGET_TOO_LONG, 414, "URI too long"},
    {DWSD_E_BODY_TOO_LARGE, 413, "The request body exceeds the limit"},
    {DWS_E_TOO_LARGE, 413, "The ONNX model exceeds the size limits"},
    {DWSD_E_UNSUPPORTED_MEDIA, 415, "Unsupported media type"},
    {DWS_E_NOT_AN_MLP, 422, "The ONNX model is not an MLP classifier"},
    {DWS_E_UNSUPPORTED_OPERATOR, 422, "The ONNX model uses an unsupported operator"},
    {DWS_E_UNSUPPORTED_ACTIVATION, 422, "The ONNX model uses an unsupported activation"},
    {DWS_E_EXTERNAL_DATA, 422, "The ONNX model stores weights in external files"},
    {DWS_E_INCOMPATIBLE_MODEL, 422, "No loaded model accepts this MLP"},
    {DWS_E_NOT_REPRESENTABLE, 422, "The result does not fit the model's number type"},
    {DWSD_E_OVERLOADED, 503, "The server is overloaded"},
    {DWSD_E_NO_MODEL, 503, "No model of this kind is loaded"},
    {DWSD_E_NOT_READY, 503, "The server is not ready"},
    {DWS_E_OUT_OF_MEMORY, 503, "Out of memory"},
    {DWS_E_IO, 500, "Internal error"},
    {DWS_E_BAD_MODEL_FILE, 500, "Internal error"},
    {DWSD_E_INTERNAL, 500, "Internal error"},
};

static int find(const char *code)
{
    for (size_t i = 0; code && i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].code, code)) return (int)i;
    return -1;
}

int dwsd_problem_status(const char *code)
{
    int i = find(code);
    return i < 0 ? 500 : table[i].status;
}

const char *dwsd_problem_title(const char *code)
{
    int i = find(code);
    return i < 0 ? "Internal error" : table[i].title;
}

char *dwsd_problem_json(const char *code, const char *detail, const char *request_id,
                        const char *instance, size_t *len)
{
    int i = find(code);
    if (i < 0) code = DWSD_E_INTERNAL, i = find(code);
    char type[96];
    snprintf(type, sizeof type, "urn:dwsnet:problem:%s", code);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "title", table[i].title);
    cJSON_AddNumberToObject(o, "status", table[i].status);
    cJSON_AddStringToObject(o, "detail", detail && *detail ? detail : table[i].title);
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "instance", instance);
    cJSON_AddStringToObject(o, "request_id", request_id);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (text) *len = strlen(text);
    return text;
}
