/* A 2-D scatter plot as a self-contained SVG, points coloured by a value on a
 * viridis-like scale with a colour bar: for looking at embeddings. */
#ifndef DWS_SVG_SCATTER_H
#define DWS_SVG_SCATTER_H

#include <stdio.h>

/* Writes the plot of n points (x[i], y[i]) coloured by value[i] to f. */
int dws_svg_scatter(FILE *f, const double *x, const double *y, const double *value, int n, const char *title,
                    const char *x_label, const char *y_label, const char *value_label);

#endif
