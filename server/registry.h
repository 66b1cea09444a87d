/* The loaded models. A set is an immutable, reference-counted snapshot of one
 * models directory: requests hold the set they started with, a reload (SIGHUP)
 * builds a whole new set and swaps it in, and the old set is freed when its last
 * request ends. A reload that fails keeps the current set. */
#ifndef DWSD_REGISTRY_H
#define DWSD_REGISTRY_H

#include "base/base.h"
#include "model/model.h"

typedef struct dwsd_model_set dwsd_model_set;
typedef struct dwsd_registry dwsd_registry;

dwsd_registry *dwsd_registry_new(const char *dir);
void dwsd_registry_free(dwsd_registry *r);

/* Loads every *.dws file of the directory into a new set and makes it current.
 * On failure (a file that does not load, two models with one id, an unreadable
 * directory) the current set stays and err says which file and why. A directory
 * that is missing or has no model files gives an empty set (the daemon runs, not ready). */
int dwsd_registry_reload(dwsd_registry *r, dws_error *err);

/* For the next reloads: the work memory and job threads /v1/models states limits
 * for, and the bytes a set may take (a larger one is refused like a bad file). */
void dwsd_registry_configure(dwsd_registry *r, size_t work_memory, int threads, size_t models_room);

/* The current set with a reference taken; give it back with dwsd_model_set_release. */
dwsd_model_set *dwsd_registry_acquire(dwsd_registry *r);
void dwsd_model_set_release(dwsd_model_set *s);

int dwsd_model_set_count(const dwsd_model_set *s);   /* adapters and encoders (not estimators) */
size_t dwsd_model_set_bytes(const dwsd_model_set *s);   /* what its models hold */
const dws_model *dwsd_model_set_get(const dwsd_model_set *s, int i);
const dws_model *dwsd_model_set_find(const dwsd_model_set *s, const char *id);
/* The domain estimator with this id, or the first one loaded when id is NULL; NULL
 * when there is none. Estimator files (.dws with an estimator card) load beside the
 * models, share their ids' namespace and are listed in /v1/models. */
const dws_estimator *dwsd_model_set_estimator(const dwsd_model_set *s, const char *id);
int dwsd_model_set_estimator_count(const dwsd_model_set *s);
const dws_estimator *dwsd_model_set_estimator_at(const dwsd_model_set *s, int i);
/* Why the set is empty ("" when it is not). */
const char *dwsd_model_set_empty_reason(const dwsd_model_set *s);
/* The /v1/models document, built once per set. */
const char *dwsd_model_set_json(const dwsd_model_set *s);

#endif
