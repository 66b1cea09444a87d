#include "eval.h"

#include <math.h>

#define W 640
#define H 520
#define LEFT 60
#define RIGHT 110
#define TOP 40
#define BOTTOM 50

static void range(const double *v, int n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            if (v[i] < *lo) *lo = v[i];
            if (v[i] > *hi) *hi = v[i];
        }
    if (!(*hi > *lo)) {   /* empty or constant: a unit range around it */
        double c = isfinite(*lo) ? *lo : 0;
        *lo = c - 0.5;
        *hi = c + 0.5;
    }
}

/* Viridis, five anchors, linear in between. */
static void colour(double t, int rgb[3])
{
    static const int anchor[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double p = t * 4;
    int k = p >= 4 ? 3 : (int)p;
    double f = p - k;
    for (int c = 0; c < 3; c++) rgb[c] = (int)lround(anchor[k][c] + f * (anchor[k + 1][c] - anchor[k][c]));
}

static void text_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

int dws_svg_scatter(FILE *f, const double *x, const double *y, const double *value, int n, const char *title,
                    const char *x_label, const char *y_label, const char *value_label)
{
    double x0, x1, y0, y1, v0, v1;
    range(x, n, &x0, &x1);
    range(y, n, &y0, &y1);
    range(value, n, &v0, &v1);
    const double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"15\">", LEFT);
    text_escaped(f, title);
    fprintf(f, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n",
            LEFT, TOP, pw, ph);
    fprintf(f, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">", LEFT + pw / 2, H - 15);
    text_escaped(f, x_label);
    fprintf(f, "</text>\n<text transform=\"translate(18,%.0f) rotate(-90)\" text-anchor=\"middle\">", TOP + ph / 2);
    text_escaped(f, y_label);
    fprintf(f, "</text>\n");
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        int c[3];
        colour((value[i] - v0) / (v1 - v0), c);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"rgb(%d,%d,%d)\" fill-opacity=\"0.85\"/>\n",
                LEFT + (x[i] - x0) / (x1 - x0) * pw, TOP + ph - (y[i] - y0) / (y1 - y0) * ph, c[0], c[1], c[2]);
    }
    const double bx = W - RIGHT + 25, bh = ph;   /* colour bar, high values on top */
    for (int s = 0; s < 50; s++) {
        int c[3];
        colour(1 - (s + 0.5) / 50, c);
        fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"16\" height=\"%.2f\" fill=\"rgb(%d,%d,%d)\"/>\n", bx,
                TOP + s * bh / 50, bh / 50 + 0.5, c[0], c[1], c[2]);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%d\">%.3g</text>\n<text x=\"%.0f\" y=\"%.0f\">%.3g</text>\n", bx + 20, TOP + 10,
            v1, bx + 20, TOP + bh, v0);
    fprintf(f, "<text x=\"%.0f\" y=\"%d\">", bx - 5, TOP - 8);
    text_escaped(f, value_label);
    fprintf(f, "</text>\n</svg>\n");
    return ferror(f) ? -1 : 0;
}
