/* The domain grid's fine-tuning baselines (domain_grid.c), cached in its oracle
 * directory because they do not depend on the adapter:
 *  - the oracle of a domain: every classifier fine-tuned on the labelled training
 *    images through that domain (dws_oracle_finetune: 1 epoch of Adam), scored on the
 *    domain's test images; one file per domain;
 *  - the clean fine-tune: the same fine-tune on the clean training images, scored on
 *    every domain's test images; one file for the grid. It measures the part of the
 *    oracle's gain that is training rather than the domain: the zoo's classifiers are
 *    under-trained, and one more epoch on clean images lifts them on a mild corruption
 *    about as much as the oracle does (docs/adapter.md section 5).
 * A cache file names its classifiers (zoo ids) and the number of test images; a file
 * made for other classifiers or images is not read. */
#ifndef DWS_GRID_ORACLE_H
#define DWS_GRID_ORACLE_H

#include <cjson/cJSON.h>

#include "eval.h"

/* The cached oracle mean (%) of the domain spec for these classifiers and images; NAN
 * when there is none. */
double grid_oracle_cached(const char *dir, const char *spec, const dws_zoo_set *set, int images);

/* Fine-tunes a copy of every classifier on train through d, scores the copies on test
 * (images: the count the cache records) and caches their mean (%) under spec. */
int grid_oracle_compute(const char *dir, const char *spec, const dws_domain *d, const dws_image_set *train,
                        const dws_zoo_set *set, const dws_samples *test, int images, double *mean, dws_error *err);

typedef struct {
    char path[4096];
    const dws_zoo_set *set;
    int images;
    cJSON *means;       /* domain spec -> mean (%): the cache's, and those scored since */
    dws_mlp *tuned;     /* set->n fine-tuned copies once fitted; NULL before */
    int changed;        /* a mean was scored: the cache is rewritten on close */
} grid_clean_tune;

/* Reads the clean fine-tune's cache in dir (none yet is fine). */
int grid_clean_tune_open(grid_clean_tune *t, const char *dir, const dws_zoo_set *set, int images, dws_error *err);

/* Whether the cache holds the mean of the domain spec. */
int grid_clean_tune_has(const grid_clean_tune *t, const char *spec);

/* Fine-tunes a copy of every classifier on the clean images of train. */
int grid_clean_tune_fit(grid_clean_tune *t, const dws_image_set *train, dws_error *err);

/* *mean: the fine-tuned copies' mean accuracy (%) on test, the images of the domain
 * spec: cached, else scored (when fitted) and added to the cache; else NAN. */
int grid_clean_tune_score(grid_clean_tune *t, const char *spec, const dws_samples *test, double *mean,
                          dws_error *err);

/* Writes the cache when a mean was added, and frees t. */
int grid_clean_tune_close(grid_clean_tune *t, dws_error *err);

#endif
