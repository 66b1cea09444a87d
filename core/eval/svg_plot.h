/* Small dependency-free SVG charts for the evaluation report: scatter or line
 * series on linear axes with ticks, a legend and an optional y = x diagonal. */
#ifndef DWS_SVG_PLOT_H
#define DWS_SVG_PLOT_H

#include "base/base.h"

typedef struct {
    const char *label;
    const double *x, *y;      /* NAN values are skipped */
    int n;
    int line;                 /* 1: joined by a line, 0: points */
} svg_series;

typedef struct {
    const char *title, *xlabel, *ylabel;
    int diagonal;             /* draw y = x */
    int zero_line;            /* draw y = 0 */
} svg_chart;

int svg_plot_write(const char *path, const svg_chart *c, const svg_series *s, int n_series, dws_error *err);

/* rows x cols values (row-major; NAN: an empty cell), coloured by sign and size. */
typedef struct {
    const char *title;
    const char *const *row_labels, *const *col_labels;
    int rows, cols;
    const double *values;
} svg_heatmap;

int svg_heatmap_write(const char *path, const svg_heatmap *h, dws_error *err);

#endif
