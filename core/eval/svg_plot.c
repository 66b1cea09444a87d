#include "svg_plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define W 640
#define H 440
#define ML 70
#define MR 150
#define MT 40
#define MB 55

static const char *const COLOURS[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->buf ? b->buf + b->len : NULL, b->buf ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->buf && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? 2 * b->cap : 4096) + (size_t)n;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->failed = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
}

/* A "nice" tick step for a range: 1, 2 or 5 times a power of ten. */
static double tick_step(double span)
{
    double raw = span / 5, p = pow(10, floor(log10(raw))), r = raw / p;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * p;
}

static void range(const svg_series *s, int n, int use_x, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < s[k].n; i++) {
            double v = use_x ? s[k].x[i] : s[k].y[i];
            if (isfinite(v)) {
                *lo = fmin(*lo, v);
                *hi = fmax(*hi, v);
            }
        }
    if (!isfinite(*lo)) *lo = 0, *hi = 1;
    if (*hi - *lo < 1e-12) *lo -= 0.5, *hi += 0.5;
    double pad = 0.05 * (*hi - *lo);
    *lo -= pad;
    *hi += pad;
}

int svg_plot_write(const char *path, const svg_chart *c, const svg_series *s, int n_series, dws_error *err)
{
    double x0, x1, y0, y1;
    range(s, n_series, 1, &x0, &x1);
    range(s, n_series, 0, &y0, &y1);
    if (c->diagonal) {
        x0 = y0 = fmin(x0, y0);
        x1 = y1 = fmax(x1, y1);
    }
    if (c->zero_line) y0 = fmin(y0, 0), y1 = fmax(y1, 0);
    double pw = W - ML - MR, ph = H - MT - MB;
#define PX(v) (ML + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (MT + ph - ((v) - y0) / (y1 - y0) * ph)
    sbuf b = {0};
    put(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
            "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    put(&b, "<text x=\"%d\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n", (int)(ML + pw / 2), c->title);
    put(&b, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n", ML, MT, pw, ph);
    double st = tick_step(x1 - x0);
    for (double t = ceil(x0 / st) * st; t <= x1; t += st)
        put(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"middle\">%g</text>\n", PX(t), (double)MT, PX(t), MT + ph, PX(t), MT + ph + 16, t);
    st = tick_step(y1 - y0);
    for (double t = ceil(y0 / st) * st; t <= y1; t += st)
        put(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" "
                "text-anchor=\"end\">%g</text>\n", ML, PY(t), ML + pw, PY(t), ML - 6, PY(t) + 4, t);
    put(&b, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", ML + pw / 2, H - 14, c->xlabel);
    put(&b, "<text transform=\"translate(18,%.0f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", MT + ph / 2,
        c->ylabel);
    if (c->diagonal)
        put(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" stroke-dasharray=\"4 4\"/>\n",
            PX(x0), PY(x0), PX(x1), PY(x1));
    if (c->zero_line)
        put(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" stroke-dasharray=\"4 4\"/>\n", ML,
            PY(0), ML + pw, PY(0));
    for (int k = 0; k < n_series; k++) {
        const char *col = COLOURS[k % (int)(sizeof COLOURS / sizeof *COLOURS)];
        if (s[k].line) {
            put(&b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col);
            for (int i = 0; i < s[k].n; i++)
                if (isfinite(s[k].x[i]) && isfinite(s[k].y[i])) put(&b, "%.1f,%.1f ", PX(s[k].x[i]), PY(s[k].y[i]));
            put(&b, "\"/>\n");
        } else {
            for (int i = 0; i < s[k].n; i++)
                if (isfinite(s[k].x[i]) && isfinite(s[k].y[i]))
                    put(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
                        PX(s[k].x[i]), PY(s[k].y[i]), col);
        }
        double ly = MT + 14 + 18 * k;
        put(&b, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
            ML + pw + 12, ly - 10, col, ML + pw + 30, ly, s[k].label);
    }
    put(&b, "</svg>\n");
#undef PX
#undef PY
    int rc = -1;
    if (b.failed) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "SVG text");
    else rc = dws_write_file_atomic(path, b.buf, b.len, err);
    free(b.buf);
    return rc;
}
