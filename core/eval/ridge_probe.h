/* Linear probes: ridge regression in closed form, with the penalty chosen on a
 * validation set, scored by R^2. Used to read properties (accuracy, widths,
 * INR parameters) off embeddings and off baseline features. */
#ifndef DWS_RIDGE_PROBE_H
#define DWS_RIDGE_PROBE_H

#include "base/dws_error.h"

typedef struct {
    int p;
    double lambda;
    double *mean, *scale;   /* feature standardisation (training rows) */
    double *w;              /* weights on standardised features */
    double bias;
} dws_ridge;

/* Fits y ~ w . standardise(x) + bias on n rows of p features (row-major), with
 * penalty lambda * |w|^2 (lambda relative to n). Constant features are ignored. */
int dws_ridge_fit(const double *X, const double *y, int n, int p, double lambda, dws_ridge *r, dws_error *err);
double dws_ridge_predict(const dws_ridge *r, const double *x);
void dws_ridge_free(dws_ridge *r);

/* 1 - SS_res / SS_tot (0 when y is constant and the predictions are exact; can
 * be negative). */
double dws_r2(const double *y, const double *pred, int n);

/* Fits on (Xt, yt) for every lambda of a log grid 1e-7 .. 1e4 and keeps the one
 * with the best R^2 on (Xv, yv); *val_r2 receives that R^2. */
int dws_ridge_select(const double *Xt, const double *yt, int nt, const double *Xv, const double *yv, int nv, int p,
                     dws_ridge *best, double *val_r2, dws_error *err);

/* R^2 of r on n rows. */
double dws_ridge_r2(const dws_ridge *r, const double *X, const double *y, int n);

#endif
