/* Pieces several corruptions share: border rules, the Gaussian filter, clipped zoom,
 * ImageMagick's motion blur and the plasma fractal, each written to give what the
 * library the reference calls gives. */
#include <math.h>

#include "corrupt_ops.h"

int dws_border_nearest(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

int dws_border_reflect(int i, int n)
{
    int period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

int dws_border_reflect101(int i, int n)
{
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
}

void dws_gaussian_plane(double *p, int h, int w, double sigma, double truncate, dws_border_fn border, double *tmp)
{
    if (sigma <= 1e-15) return;
    int radius = (int)(truncate * sigma + 0.5);
    if (radius > DWS_GAUSS_MAX_RADIUS) radius = DWS_GAUSS_MAX_RADIUS;
    double k[2 * DWS_GAUSS_MAX_RADIUS + 1], sum = 0.0;
    for (int t = -radius; t <= radius; t++) sum += k[t + radius] = exp(-0.5 * t * t / (sigma * sigma));
    for (int t = 0; t <= 2 * radius; t++) k[t] /= sum;
    /* the border rule is looked up only where the kernel leaves the plane */
    for (int y = 0; y < h; y++) {
        const double *row = p + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            if (x >= radius && x + radius < w)
                for (int t = -radius; t <= radius; t++) s += k[t + radius] * row[x + t];
            else
                for (int t = -radius; t <= radius; t++) s += k[t + radius] * row[border(x + t, w)];
            tmp[(size_t)y * w + x] = s;
        }
    }
    for (int y = 0; y < h; y++) {
        int inside = y >= radius && y + radius < h;
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            for (int t = -radius; t <= radius; t++)
                s += k[t + radius] * tmp[(size_t)(inside ? y + t : border(y + t, h)) * w + x];
            p[(size_t)y * w + x] = s;
        }
    }
}

/* One axis of clipped_zoom: the crop of n / z samples starting at `start`, zoomed by
 * scipy (output size round(crop z), sample o at crop coordinate o (crop-1)/(size-1)),
 * then `trim` samples dropped on each side. first[o] and frac[o] give out sample o
 * as (1 - frac) in[first] + frac in[first + 1] (first + 1 clamped to the crop). */
typedef struct {
    int first, next;
    double frac;
} zoom_tap;

static void zoom_taps(int n, double z, zoom_tap *taps)
{
    int crop = (int)ceil(n / z);
    int start = (n - crop) / 2;
    int size = (int)nearbyint(crop * z);   /* Python's round(): half to even */
    int trim = (size - n) / 2;
    double step = size > 1 ? (double)(crop - 1) / (size - 1) : 1.0;
    for (int o = 0; o < n; o++) {
        double c = (o + trim) * step;
        int i = (int)floor(c);
        if (i > crop - 1) i = crop - 1;
        taps[o].first = start + i;
        taps[o].next = start + (i + 1 < crop ? i + 1 : i);
        taps[o].frac = c - i;
    }
}

void dws_clipped_zoom(const double *in, double *out, int h, int w, double z, double *tmp)
{
    zoom_tap *ty = (zoom_tap *)tmp, *tx = ty + h;
    zoom_taps(h, z, ty);
    zoom_taps(w, z, tx);
    for (int y = 0; y < h; y++) {
        const double *r0 = in + (size_t)ty[y].first * w, *r1 = in + (size_t)ty[y].next * w;
        for (int x = 0; x < w; x++) {
            double a = r0[tx[x].first] + tx[x].frac * (r0[tx[x].next] - r0[tx[x].first]);
            double b = r1[tx[x].first] + tx[x].frac * (r1[tx[x].next] - r1[tx[x].first]);
            out[(size_t)y * w + x] = a + ty[y].frac * (b - a);
        }
    }
}

/* MagickCore/effect.c MotionBlurImage (ImageMagick 6.9): kernel width
 * GetOptimalKernelWidth1D(radius, sigma) = 2 ceil(radius) + 1, offsets from
 * point = width (sin a, cos a). Virtual pixels default to the edge method. */
#define MOTION_MAX_WIDTH 129

void dws_motion_blur_plane(const double *in, double *out, int h, int w, double radius, double sigma,
                           double angle_degrees)
{
    int width = radius > 1e-12 ? 2 * (int)ceil(radius) + 1 : 3;
    if (width > MOTION_MAX_WIDTH) width = MOTION_MAX_WIDTH;
    double s = fabs(sigma) < 1e-12 ? 1e-12 : sigma;
    double k[MOTION_MAX_WIDTH], norm = 0.0;
    for (int i = 0; i < width; i++) norm += k[i] = exp(-((double)i * i) / (2.0 * s * s));
    for (int i = 0; i < width; i++) k[i] /= norm;
    double a = M_PI * angle_degrees / 180.0;
    double px = width * sin(a), py = width * cos(a), len = hypot(px, py);
    int ox[MOTION_MAX_WIDTH], oy[MOTION_MAX_WIDTH];
    for (int i = 0; i < width; i++) {
        ox[i] = (int)ceil(i * py / len - 0.5);
        oy[i] = (int)ceil(i * px / len - 0.5);
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double sum = 0.0;
            for (int i = 0; i < width; i++)
                sum += k[i] * in[(size_t)dws_border_nearest(y + oy[i], h) * w + dws_border_nearest(x + ox[i], w)];
            out[(size_t)y * w + x] = sum;
        }
}

int dws_plasma_side(int h, int w)
{
    int n = 32;
    while (n < h || n < w) n *= 2;
    return n;
}

/* Diamond-square on an n x n torus, as plasma_fractal(): map[0][0] = 0; at each step
 * size s, square centres get the mean of their 4 corners and then diamond centres the
 * mean of their 4 neighbours (indices wrap), each plus wibble x U(-wibble, wibble)
 * (the reference's wibble squared), wibble starting at 100 and divided by `decay`
 * after each level. Draws: squares, then row-edge diamonds, then column-edge
 * diamonds, each in row-major order. */
void dws_plasma_fractal(double *map, int n, double decay, dws_rng *rng)
{
#define M(i, j) map[(size_t)(i) * n + (j)]
    M(0, 0) = 0.0;
    double wibble = 100.0;
    for (int step = n; step >= 2; step /= 2, wibble /= decay) {
        int half = step / 2, g = n / step;
#define NOISE() (wibble * (2.0 * wibble * dws_rng_uniform(rng) - wibble))
        for (int i = 0; i < g; i++)
            for (int j = 0; j < g; j++) {
                int i1 = (i + 1) % g, j1 = (j + 1) % g;
                double corners = M(i * step, j * step) + M(i1 * step, j * step) + M(i * step, j1 * step) +
                                 M(i1 * step, j1 * step);
                M(i * step + half, j * step + half) = corners / 4 + NOISE();
            }
        for (int i = 0; i < g; i++)
            for (int j = 0; j < g; j++) {
                int im = (i + g - 1) % g, j1 = (j + 1) % g;
                double around = M(i * step + half, j * step + half) + M(im * step + half, j * step + half) +
                                M(i * step, j * step) + M(i * step, j1 * step);
                M(i * step, j * step + half) = around / 4 + NOISE();
            }
        for (int i = 0; i < g; i++)
            for (int j = 0; j < g; j++) {
                int i1 = (i + 1) % g, jm = (j + g - 1) % g;
                double around = M(i * step + half, j * step + half) + M(i * step + half, jm * step + half) +
                                M(i * step, j * step) + M(i1 * step, j * step);
                M(i * step + half, j * step) = around / 4 + NOISE();
            }
#undef NOISE
    }
#undef M
    size_t nn = (size_t)n * n;
    double lo = map[0], hi;
    for (size_t i = 1; i < nn; i++) lo = fmin(lo, map[i]);
    for (size_t i = 0; i < nn; i++) map[i] -= lo;
    hi = map[0];
    for (size_t i = 1; i < nn; i++) hi = fmax(hi, map[i]);
    for (size_t i = 0; i < nn; i++) map[i] = hi > 0.0 ? map[i] / hi : 0.0;
}
