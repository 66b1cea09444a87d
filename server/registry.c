#include "registry.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "body.h"
#include "log.h"
#include "work_need.h"

#define MAX_MODELS 256

struct dwsd_model_set {
    atomic_int refs;
    int n;
    size_t bytes;                  /* the models' memory (dws_model_bytes) */
    dws_model *models[MAX_MODELS];
    int n_estimators;
    dws_estimator *estimators[MAX_MODELS];
    char *json;
    char empty_reason[300];
};

struct dwsd_registry {
    char dir[1024];
    size_t work_memory;            /* for the limits /v1/models shows; 0: not shown yet */
    int threads;
    size_t models_room;            /* bytes a set may take (the memory ceiling's share) */
    pthread_mutex_t lock;          /* guards current: taking a reference is lock + increment */
    dwsd_model_set *current;
};

static void set_free(dwsd_model_set *s)
{
    for (int i = 0; i < s->n; i++) dws_model_free(s->models[i]);
    for (int i = 0; i < s->n_estimators; i++) dws_estimator_free(s->estimators[i]);
    free(s->json);
    free(s);
}

void dwsd_model_set_release(dwsd_model_set *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) set_free(s);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The card's own field, or null when the card lacks it. */
static cJSON *card_field(const cJSON *card, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(card, key);
    return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* What a request to m may be within the work memory (memory.h, work_need.h). */
static void add_limits(cJSON *e, const dws_model *m, const dwsd_registry *r)
{
    if (!r->work_memory) return;
    cJSON *l = cJSON_AddObjectToObject(e, "limits");
    cJSON_AddNumberToObject(l, "work_memory", (double)r->work_memory);
    cJSON_AddNumberToObject(l, "max_hidden_width", (double)dwsd_max_hidden_width(m, r->work_memory, r->threads));
}

static cJSON *model_entry(const dws_model *m, const char *file)
{
    const dws_signature *sig = dws_model_signature(m);
    cJSON *card = cJSON_Parse(dws_model_card_json(m));
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", dws_model_id(m));
    cJSON_AddStringToObject(e, "kind", dws_model_kind_name(dws_model_get_kind(m)));
    cJSON_AddStringToObject(e, "file", file);
    cJSON *s = cJSON_AddObjectToObject(e, "signature");
    cJSON_AddNumberToObject(s, "d0", (double)sig->d0);
    cJSON_AddNumberToObject(s, "dL", (double)sig->dL);
    cJSON_AddNumberToObject(s, "depth", sig->depth);
    cJSON_AddStringToObject(s, "activation", dws_activation_name(sig->activation));
    cJSON *range = cJSON_AddArrayToObject(s, "width_range");
    cJSON_AddItemToArray(range, cJSON_CreateNumber((double)sig->min_width));
    cJSON_AddItemToArray(range, cJSON_CreateNumber((double)sig->max_width));
    /* The MLPs it reads: weight layers (hidden layers + 1) and hidden activations. */
    cJSON *depths = cJSON_AddArrayToObject(s, "depth_range");
    cJSON_AddItemToArray(depths, cJSON_CreateNumber(sig->depth_min));
    cJSON_AddItemToArray(depths, cJSON_CreateNumber(sig->depth_max));
    cJSON *acts = cJSON_AddArrayToObject(s, "activations");
    for (int i = 0; i < sig->n_activations; i++)
        cJSON_AddItemToArray(acts, cJSON_CreateString(dws_activation_name(sig->activations[i])));
    cJSON_AddItemToObject(e, "input_convention", card_field(card, "input_convention"));
    /* What is assumed of a classifier's input (docs/onnx.md section 2.1). */
    cJSON_AddStringToObject(e, "input_normalisation",
                            "preprocessing inside the ONNX graph (Sub/Add/Mul/Div with constants, Transpose) is folded "
                            "into this convention; normalisation outside it is assumed absent unless the request says "
                            "?input_mean=&input_std= or ?input_range=");
    /* Where a classifier with normalised inputs is read (docs/adapter.md section 3). */
    cJSON_AddStringToObject(e, "normalised_inputs_read_in", dws_frame_name(dws_model_frame_for_normalized(m)));
    cJSON_AddItemToObject(e, "target_domain", card_field(card, "target_domain"));
    char *accepts = dws_model_accepts_json(m);   /* adapters: the domains they read (?domain=) */
    if (accepts) cJSON_AddItemToObject(e, "accepts", cJSON_Parse(accepts));
    free(accepts);
    cJSON_AddItemToObject(e, "metrics", card_field(card, "metrics"));
    cJSON_Delete(card);
    return e;
}

static cJSON *estimator_entry(const dws_estimator *e, const char *file)
{
    cJSON *card = cJSON_Parse(dws_estimator_card_json(e));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", dws_estimator_id(e));
    cJSON_AddStringToObject(o, "kind", DWS_ESTIMATOR_KIND);
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddItemToObject(o, "input", card_field(card, "input"));
    cJSON_AddNumberToObject(o, "classes", dws_estimator_class_count(e));
    cJSON_AddNumberToObject(o, "max_images", DWSD_MAX_IMAGES);
    cJSON_AddItemToObject(o, "metrics", card_field(card, "metrics"));
    cJSON_Delete(card);
    return o;
}

/* How many models and estimators of s have this id. */
static int id_count(const dwsd_model_set *s, const char *id)
{
    int n = 0;
    for (int j = 0; j < s->n; j++) n += !strcmp(dws_model_id(s->models[j]), id);
    for (int j = 0; j < s->n_estimators; j++) n += !strcmp(dws_estimator_id(s->estimators[j]), id);
    return n;
}

/* Loads one file into s, as a model or a domain estimator by its card, and its
 * /v1/models entry into *entry. 0, or -1 with err set. */
static int load_one(dwsd_model_set *s, const char *path, const char *file, cJSON **entry, dws_error *err)
{
    dws_model_file f;
    dws_error e;
    dws_error_clear(&e);
    const char *id = NULL;
    if (dws_model_file_read(path, &f, &e) == 0) {
        if (dws_model_file_is_estimator(&f)) {
            dws_estimator *x = dws_estimator_from_file(&f, path, &e);
            if (x) {
                s->estimators[s->n_estimators++] = x;
                s->bytes += dws_estimator_bytes(x);
                id = dws_estimator_id(x);
                *entry = estimator_entry(x, file);
            }
        } else {
            dws_model *m = dws_model_from_file(&f, path, &e);
            if (m) {
                s->models[s->n++] = m;
                s->bytes += dws_model_bytes(m);
                id = dws_model_id(m);
                *entry = model_entry(m, file);
            }
        }
        dws_model_file_free(&f);
    }
    if (!id) {
        const char *code = e.code ? e.code : DWS_E_BAD_MODEL_FILE;
        if (strstr(e.message, path)) dws_error_set(err, code, "%s", e.message);
        else dws_error_set(err, code, "%s: %s", path, e.message);
        return -1;
    }
    if (id_count(s, id) > 1) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s: model id '%s' is already used by another file of the "
                      "directory", path, id);
        return -1;
    }
    return 0;
}

/* Model file names of dir, sorted so ids resolve in a stable order. */
static int list_model_files(const char *dir, char ***names, int *n, int *missing, dws_error *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    *missing = !d && errno == ENOENT;
    if (!d) {
        if (*missing) return 0;
        dws_error_set(err, DWS_E_IO, "cannot read models directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    char **list = calloc(MAX_MODELS, sizeof *list);
    int count = 0, rc = 0;
    struct dirent *ent;
    while (list && (ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len < 5 || strcmp(ent->d_name + len - 4, ".dws")) continue;
        if (count == MAX_MODELS) {
            dws_error_set(err, DWS_E_TOO_LARGE, "more than %d model files in '%s'", MAX_MODELS, dir);
            rc = -1;
            break;
        }
        if (!(list[count] = strdup(ent->d_name))) break;
        count++;
    }
    closedir(d);
    if (!list || (rc == 0 && ent)) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory listing '%s'", dir);
        rc = -1;
    }
    if (rc) {
        for (int i = 0; i < count; i++) free(list[i]);
        free(list);
        return -1;
    }
    qsort(list, (size_t)count, sizeof *list, compare_names);
    *names = list;
    *n = count;
    return 0;
}

static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device" : "not a regular file";
}

/* Whether path (symlinks followed) is a regular file; anything else named *.dws (a
 * FIFO would block the reader, a directory cannot be read) is skipped and logged.
 * stat never opens, so it cannot block; the loader opens with O_NONBLOCK and
 * checks again, in case the file was swapped in between. */
static int loadable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        dwsd_log_event("warn", "skipping %s: %s", path, strerror(errno));
        return 0;
    }
    if (S_ISREG(st.st_mode)) return 1;
    dwsd_log_event("warn", "skipping %s: %s, not a model file", path, file_kind(st.st_mode));
    return 0;
}

static dwsd_model_set *load_set(const dwsd_registry *r, dws_error *err)
{
    const char *dir = r->dir;
    char **names;
    int n_names, missing;
    if (list_model_files(dir, &names, &n_names, &missing, err)) return NULL;
    dwsd_model_set *s = calloc(1, sizeof *s);
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(doc, "models");
    int ok = s && arr;
    if (!ok) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory loading models");
    for (int i = 0; ok && i < n_names; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!loadable(path)) continue;
        cJSON *entry = NULL;
        if (load_one(s, path, names[i], &entry, err)) {
            cJSON_Delete(entry);
            ok = 0;
            break;
        }
        if (s->bytes > r->models_room) {
            cJSON_Delete(entry);
            dws_error_set(err, DWS_E_TOO_LARGE, "%s: the models take %zu bytes, more than the %zu the memory limit "
                          "leaves them (--memory-limit)", path, s->bytes, r->models_room);
            ok = 0;
            break;
        }
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "kind"));
        if (kind && strcmp(kind, DWS_ESTIMATOR_KIND)) add_limits(entry, s->models[s->n - 1], r);
        cJSON_AddItemToArray(arr, entry);
    }
    for (int i = 0; i < n_names; i++) free(names[i]);
    free(names);
    if (ok && !(s->json = cJSON_PrintUnformatted(doc))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory loading models");
        ok = 0;
    }
    cJSON_Delete(doc);
    if (!ok) {
        if (s) set_free(s);
        return NULL;
    }
    if (s->n == 0)
        snprintf(s->empty_reason, sizeof s->empty_reason,
                 missing ? "models directory '%.256s' does not exist"
                 : s->n_estimators ? "only domain estimators in '%.256s', no adapter or encoder"
                                   : "no .dws model files in '%.256s'", dir);
    atomic_init(&s->refs, 1);
    return s;
}

dwsd_registry *dwsd_registry_new(const char *dir)
{
    dwsd_registry *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    r->models_room = SIZE_MAX;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void dwsd_registry_free(dwsd_registry *r)
{
    if (!r) return;
    dwsd_model_set_release(r->current);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int dwsd_registry_reload(dwsd_registry *r, dws_error *err)
{
    dwsd_model_set *fresh = load_set(r, err);
    if (!fresh) return -1;
    pthread_mutex_lock(&r->lock);
    dwsd_model_set *old = r->current;
    r->current = fresh;
    pthread_mutex_unlock(&r->lock);
    dwsd_model_set_release(old);
    return 0;
}

void dwsd_registry_configure(dwsd_registry *r, size_t work_memory, int threads, size_t models_room)
{
    r->work_memory = work_memory;
    r->threads = threads;
    r->models_room = models_room;
}

size_t dwsd_model_set_bytes(const dwsd_model_set *s)
{
    return s ? s->bytes : 0;
}

dwsd_model_set *dwsd_registry_acquire(dwsd_registry *r)
{
    pthread_mutex_lock(&r->lock);
    dwsd_model_set *s = r->current;
    if (s) atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&r->lock);
    return s;
}

int dwsd_model_set_count(const dwsd_model_set *s)
{
    return s ? s->n : 0;
}

const dws_model *dwsd_model_set_get(const dwsd_model_set *s, int i)
{
    return s->models[i];
}

const dws_model *dwsd_model_set_find(const dwsd_model_set *s, const char *id)
{
    for (int i = 0; s && i < s->n; i++)
        if (!strcmp(dws_model_id(s->models[i]), id)) return s->models[i];
    return NULL;
}

const dws_estimator *dwsd_model_set_estimator(const dwsd_model_set *s, const char *id)
{
    for (int i = 0; s && i < s->n_estimators; i++)
        if (!id || !strcmp(dws_estimator_id(s->estimators[i]), id)) return s->estimators[i];
    return NULL;
}

const dws_estimator *dwsd_model_set_estimator_at(const dwsd_model_set *s, int i)
{
    return s->estimators[i];
}

int dwsd_model_set_estimator_count(const dwsd_model_set *s)
{
    return s ? s->n_estimators : 0;
}

const char *dwsd_model_set_empty_reason(const dwsd_model_set *s)
{
    return s ? s->empty_reason : "no models loaded";
}

const char *dwsd_model_set_json(const dwsd_model_set *s)
{
    return s ? s->json : "{\"models\":[]}";
}
