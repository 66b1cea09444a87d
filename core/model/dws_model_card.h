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

/* A card for net: format, id, kind, written_by, architecture, signature, input
 * convention, target domain. */
cJSON *dws_card_build(const dws_net *net, const dws_signature *sig, const dws_model_info *info, dws_error *err);

/* Reads and checks the card's architecture, signature, conditions and domains, and
 * id (id: 128 bytes). */
int dws_card_parse(const cJSON *card, dws_arch *arch, dws_signature *sig, dws_conditions *cond, char *id,
                   dws_error *err);

/* Keys dws_card_parse interprets (not settable through dws_model_set_card_entry). */
int dws_card_key_is_reserved(const char *key);

#endif
