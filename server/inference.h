/* The work behind POST /adapt, POST /embed, POST /v1/inspect and POST
 * /v1/estimate-domain, run on a worker thread: decode the ONNX body (or the images),
 * choose the model, run it, and encode the answer. Knows nothing of HTTP connections;
 * it only fills a dwsd_reply. */
#ifndef DWSD_INFERENCE_H
#define DWSD_INFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "body.h"
#include "model/model.h"
#include "registry.h"
#include "reply.h"
#include "routes.h"

typedef struct {
    dwsd_endpoint op;              /* DWSD_EP_ADAPT, DWSD_EP_EMBED, DWSD_EP_INSPECT or DWSD_EP_ESTIMATE */
    const uint8_t *onnx;           /* the model; /v1/estimate-domain: a raw body, one images file */
    size_t onnx_len;
    const uint8_t *images;         /* the form's `images` fields (body.h), n_parts 0: none */
    const dwsd_part *parts;
    int n_parts;
    size_t max_bytes;              /* the body limit, also the decoder's size limit */
    size_t work_memory;            /* what the work may allocate (work_need.h); more: 413 */
    const dwsd_model_set *models;
    const char *model_id;          /* ?model=ID, or NULL to choose by signature */
    const char *filename;          /* stem for the attachment name, "" when unknown */
    const dws_input_norm *input_norm;   /* normalisation outside the model, or NULL */
    const dws_adapt_domain *domain;     /* /adapt: the target domain; NULL: the adapter's default */
    const char *domain_note;            /* /adapt with domain=auto: the estimate (set by the run) */
    int threads;
} dwsd_inference;

/* Checks ?model=ID before the body is read: unknown ids (404) and models of the
 * other kind (400) are answered without waiting for the upload. 0 when fine. */
int dwsd_inference_precheck(const dwsd_inference *in, dwsd_reply *out);
/* Reads ?input_mean=, ?input_std=, ?input_range= (each NULL when absent) into *norm;
 * 400 invalid_argument with the reason on a bad value. 0 when fine. */
int dwsd_inference_input_norm(const char *mean, const char *std, const char *range, dws_input_norm *norm,
                              dwsd_reply *out);

/* Reads a domain spec (?domain= or a form's domain field; NULL or "": the default);
 * 400 unknown_domain with the reason on a bad one. 0 when fine. */
int dwsd_inference_domain(const char *spec, dws_adapt_domain *d, dwsd_reply *out);

void dwsd_inference_run(const dwsd_inference *in, dwsd_reply *out);

#endif
