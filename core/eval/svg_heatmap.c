/* A table of numbers as an SVG heatmap (svg_plot.h): one coloured cell per value,
 * red below zero, green above, white at zero, the value written in the cell. */
#include <math.h>
#include <stdio.h>

#include "svg_plot.h"

#define CELL_W 56
#define CELL_H 22
#define LABEL_W 150
#define TOP 56

static void cell_colour(double v, double scale, char *out, size_t n)
{
    double t = scale > 0 ? fmin(fabs(v) / scale, 1.0) : 0;
    int fade = (int)lround(255 * (1 - t));
    if (v >= 0) snprintf(out, n, "rgb(%d,%d,%d)", fade, 200 + (55 * fade) / 255, fade);
    else snprintf(out, n, "rgb(%d,%d,%d)", 230 + (25 * fade) / 255, fade, fade);
}

int svg_heatmap_write(const char *path, const svg_heatmap *h, dws_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        dws_error_set(err, DWS_E_IO, "cannot write %s", path);
        return -1;
    }
    double scale = 0;
    for (int i = 0; i < h->rows * h->cols; i++)
        if (!isnan(h->values[i])) scale = fmax(scale, fabs(h->values[i]));
    int w = LABEL_W + h->cols * CELL_W + 20, ht = TOP + h->rows * CELL_H + 20;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
               "font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", w, ht);
    fprintf(f, "<text x=\"%d\" y=\"18\" font-size=\"13\">%s</text>\n", 10, h->title);
    for (int c = 0; c < h->cols; c++)
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", LABEL_W + c * CELL_W + CELL_W / 2,
                TOP - 8, h->col_labels[c]);
    for (int r = 0; r < h->rows; r++) {
        int y = TOP + r * CELL_H;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", LABEL_W - 6, y + 15, h->row_labels[r]);
        for (int c = 0; c < h->cols; c++) {
            double v = h->values[r * h->cols + c];
            char fill[32] = "#eee";
            if (!isnan(v)) cell_colour(v, scale, fill, sizeof fill);
            int x = LABEL_W + c * CELL_W;
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"white\"/>\n", x, y,
                    CELL_W, CELL_H, fill);
            if (!isnan(v))
                fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%+.1f</text>\n", x + CELL_W / 2, y + 15, v);
        }
    }
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        dws_error_set(err, DWS_E_IO, "cannot write %s", path);
        return -1;
    }
    return 0;
}
