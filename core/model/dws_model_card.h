/* The JSON model card of a .dws file: what the model is, what it accepts, what it
 * was trained on. Built from a network when a model is made; parsed and checked
 * (architecture, signature) when one is loaded. */
#ifndef DWS_MODEL_CARD_H
#define DWS_MODEL_CARD_H

#include <cjson/cJSON.h>

#include "base/base.h"
#include "model.h"
#include "ws/ws.h"

#define DWS_CARD_FORMAT "dwsnet-model"
#define DWS_DEFAULT_INPUT_CONVENTION                                                                              \
    "x = pixel / 255 as float32, channel-major (CHW) flattened to d0 values, as torchvision ToTensor() then "       \
    "flatten; no mean/std normalisation"

/* The signature of a model of architecture a: its depths and activations. */
void dws_signature_of_arch(const dws_arch *a, int64_t min_width, int64_t max_width, dws_signature *sig);
/* sig's activations: a's activation table, or ReLU alone. */
void dws_signature_set_activations(dws_signature *sig, const dws_arch *a);
/* A card for net: format, id, kind, written_by, architecture, signature, input
 * convention, target domain. */
cJSON *dws_card_build(const dws_net *net, const dws_signature *sig, const dws_model_info *info, dws_error *err);

/* Reads and checks the card's architecture, signature, conditions and domains, and
 * id (id: 128 bytes). */
int dws_card_parse(const cJSON *card, dws_arch *arch, dws_signature *sig, dws_conditions *cond, char *id,
                   dws_error *err);

/* 1 when id is 1..127 characters of [A-Za-z0-9._-]. */
int dws_card_valid_id(const char *id);
/* An integer field of obj in [lo, hi] (where: its path in messages); -1 with err set
 * (DWS_E_BAD_MODEL_FILE, or DWS_E_INCOMPATIBLE_MODEL when out of range). */
int dws_card_get_int(const cJSON *obj, const char *where, const char *key, int64_t lo, int64_t hi, int64_t *out,
                     dws_error *err);
/* A string field of obj, or NULL with err set. */
const char *dws_card_get_string(const cJSON *obj, const char *where, const char *key, dws_error *err);
/* The file's tensor `name` with exactly this shape and all values finite; NULL with
 * err set (DWS_E_BAD_MODEL_FILE) otherwise. */
const dws_named_tensor *dws_card_expect_tensor(const dws_model_file *f, const char *name, int ndim,
                                               const int64_t *shape, dws_error *err);

/* *text (freed, replaced) = card on one line; -1 with err when out of memory. */
int dws_card_render(const cJSON *card, char **text, dws_error *err);
/* card[key] = the parsed json_value (added or replaced), then rendered into *text; the
 * caller refuses the keys its loader reads. */
int dws_card_set_entry(cJSON *card, const char *key, const char *json_value, char **text, dws_error *err);

/* Keys dws_card_parse interprets (not settable through dws_model_set_card_entry). */
int dws_card_key_is_reserved(const char *key);

#endif
