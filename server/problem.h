/* Error responses: problem details (RFC 9457, application/problem+json) with a
 * stable `code`, and the one table that maps every code to its HTTP status. */
#ifndef DWSD_PROBLEM_H
#define DWSD_PROBLEM_H

#include <stddef.h>

/* The daemon's own codes; the codec's and the core's (DWS_E_*) are used as they are. */
#define DWSD_E_NOT_FOUND          "not_found"
#define DWSD_E_METHOD_NOT_ALLOWED "method_not_allowed"
#define DWSD_E_MISSING_BODY       "missing_body"
#define DWSD_E_NO_IMAGES          "no_images"
#define DWSD_E_INVALID_MULTIPART  "invalid_multipart"
#define DWSD_E_BAD_REQUEST        "bad_request"
#define DWSD_E_INVALID_FRAMING    "invalid_framing"
#define DWSD_E_TARGET_TOO_LONG    "target_too_long"
#define DWSD_E_BODY_TOO_LARGE     "body_too_large"
#define DWSD_E_UNSUPPORTED_MEDIA  "unsupported_media_type"
#define DWSD_E_UNKNOWN_MODEL      "unknown_model"
#define DWSD_E_WRONG_MODEL_KIND   "wrong_model_kind"
#define DWSD_E_OVERLOADED         "overloaded"
#define DWSD_E_NO_MODEL           "no_model_loaded"
#define DWSD_E_NOT_READY          "not_ready"
#define DWSD_E_INTERNAL           "internal_error"

/* HTTP status for a code; unknown codes are a bug and map to 500. */
int dwsd_problem_status(const char *code);
/* Its title, which also serves as the reason phrase. */
const char *dwsd_problem_title(const char *code);

/* The problem+json body (malloc'd, NUL-terminated; *len excludes the NUL), or NULL
 * when out of memory. instance is the request path. */
char *dwsd_problem_json(const char *code, const char *detail, const char *request_id,
                        const char *instance, size_t *len);

#endif
