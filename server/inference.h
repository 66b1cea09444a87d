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

/* The most requests one forward takes (--batch). */
#define DWSD_BATCH_MAX 64

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

/* A request's work in two steps, so that requests for the same model and widths
 * can share one forward (batched serving, jobs.c); a request alone is a batch of
 * one. */
typedef struct {
    dws_onnx *onnx;             /* decoded */
    const dws_model *model;     /* chosen */
    size_t need;                /* work memory the request takes alone (work_need.h) */
    dws_adapt_domain domain;    /* /adapt: the domain it runs for (with auto: the estimate) */
    char note[256];             /* with auto: the note on the estimate (dwsnet.domain_estimate) */
    int has_note;
} dwsd_prepared;

/* Decodes the body (the decoder may use decode_limit bytes) and chooses the
 * model: 1 when the request is ready to run (p filled; free it with
 * dwsd_prepared_free unless dwsd_inference_run_batch does); 0 when out holds the
 * answer: an error (the one the request gets alone when decode_limit is
 * in->work_memory) or /v1/inspect's description. */
int dwsd_inference_prepare(const dwsd_inference *in, size_t decode_limit, dwsd_prepared *p, dwsd_reply *out);
void dwsd_prepared_free(dwsd_prepared *p);
/* The same domain (a batch runs one): kind, and for a chain its steps. */
int dwsd_same_domain(const dws_adapt_domain *a, const dws_adapt_domain *b);
/* Can b share a's forward: the same model, MLPs of the same widths and the same
 * domain (never domain=auto, whose estimate is its own)? */
int dwsd_prepared_batchable(const dwsd_prepared *a, const dwsd_prepared *b);
/* The work memory of prepared requests 0 .. n-1 (batchable) run as one batch:
 * every request's decoded model, fold and answer, and the batch's network. */
size_t dwsd_batch_need(const dwsd_inference *const *in, const dwsd_prepared *const *p, int n);
/* Runs them as one forward with in[0]'s threads and domain; out[i] is filled,
 * then done(i, ctx) is called, request by request as each answer is ready; what
 * in[i] points to is not read after done(i). Frees every p[i]. */
void dwsd_inference_run_batch(const dwsd_inference *const *in, dwsd_prepared *const *p, dwsd_reply *const *out, int n,
                              void (*done)(int i, void *ctx), void *ctx);

#endif
