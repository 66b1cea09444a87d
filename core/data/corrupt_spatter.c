/* Spatter: a blurred, thresholded noise layer becomes water drops (severities 1-3:
 * pale turquoise, shaded by the distance to the drops' Canny edges) or mud (4-5:
 * brown blots). The water path goes through five OpenCV operations on bytes; each is
 * written here to give OpenCV 4's result: Canny (3 x 3 Sobel, L1 magnitude),
 * distanceTransform (DIST_L2, 5 x 5 chamfer), blur (3 x 3 box), equalizeHist and
 * filter2D. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "corrupt_ops.h"

/* make_cifar_c.py spatter(): the layer is N(loc, scale^2), skimage-gaussian'ed with
 * sigma and zeroed below threshold; intensity scales the water, or is the sigma of
 * the mud mask's blur. */
typedef struct {
    double loc, scale, sigma, threshold, intensity;
    int mud;
} spatter_params;
static const spatter_params SPATTER[5] = {
    {0.62, 0.1, 0.7, 0.7, 0.5, 0},  {0.65, 0.1, 0.8, 0.7, 0.5, 0},  {0.65, 0.3, 1, 0.69, 0.5, 0},
    {0.65, 0.1, 0.7, 0.69, 0.6, 1}, {0.65, 0.1, 0.5, 0.68, 0.6, 1},
};

/* Sub-allocates typed arrays from the scratch doubles. */
static void *take(double **next, size_t bytes)
{
    void *p = *next;
    *next += (bytes + sizeof(double) - 1) / sizeof(double);
    return p;
}

/* cv2.Canny(src, low, high) with aperture 3 and the L1 gradient: Sobel derivatives
 * (BORDER_REPLICATE), non-maximum suppression along the gradient's octant (OpenCV's
 * integer tan(22.5) test, ties broken as it does), then hysteresis: pixels above
 * `high` seed edges that grow through 8-connected pixels above `low`. edges[i] is
 * 255 on an edge, else 0. */
static void canny(const unsigned char *src, int h, int w, int low, int high, unsigned char *edges, int *gx,
                  int *gy, int *mag, int *stack)
{
#define S(y, x) src[(size_t)dws_border_nearest(y, h) * w + dws_border_nearest(x, w)]
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            gx[i] = S(y - 1, x + 1) + 2 * S(y, x + 1) + S(y + 1, x + 1) - S(y - 1, x - 1) - 2 * S(y, x - 1) - S(y + 1, x - 1);
            gy[i] = S(y + 1, x - 1) + 2 * S(y + 1, x) + S(y + 1, x + 1) - S(y - 1, x - 1) - 2 * S(y - 1, x) - S(y - 1, x + 1);
            mag[i] = abs(gx[i]) + abs(gy[i]);
        }
#undef S
#define MAG(y, x) ((y) < 0 || (y) >= h || (x) < 0 || (x) >= w ? 0 : mag[(size_t)(y) * w + (x)])
    /* edges as a map first: 2 edge, 0 candidate (above low), 1 not an edge */
    const long TG22 = 13573;   /* tan(22.5 deg) << 15, rounded */
    size_t top = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            int m = mag[i], keep = 0;
            if (m > low) {
                long ax = labs((long)gx[i]), ay = labs((long)gy[i]) << 15, tg22x = ax * TG22;
                if (ay < tg22x)
                    keep = m > MAG(y, x - 1) && m >= MAG(y, x + 1);
                else if (ay > tg22x + (ax << 16))
                    keep = m > MAG(y - 1, x) && m >= MAG(y + 1, x);
                else {
                    int s = (gx[i] ^ gy[i]) < 0 ? -1 : 1;
                    keep = m > MAG(y - 1, x - s) && m > MAG(y + 1, x + s);
                }
            }
            edges[i] = !keep ? 1 : m > high ? 2 : 0;
            if (edges[i] == 2) stack[top++] = (int)i;
        }
#undef MAG
    while (top > 0) {
        int i = stack[--top], y = i / w, x = i % w;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int yy = y + dy, xx = x + dx;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                size_t j = (size_t)yy * w + xx;
                if (edges[j] == 0) {
                    edges[j] = 2;
                    stack[top++] = (int)j;
                }
            }
    }
    for (size_t i = 0, n = (size_t)h * w; i < n; i++) edges[i] = edges[i] == 2 ? 255 : 0;
}

/* cv2.distanceTransform(src, DIST_L2, 5): the 5 x 5 chamfer distance (steps 1, 1.4
 * and 2.1969, in 16.16 fixed point) from each pixel to the nearest zero pixel of src;
 * pixels with none get 32768. t holds (h + 4) x (w + 4) values. */
static void distance_5x5(const unsigned char *src, int h, int w, float *dist, unsigned *t)
{
    const unsigned HV = 65536, DIAG = 91750, KNIGHT = 143976, FAR = INT_MAX;
    int stride = w + 4;
#define T(y, x) t[(size_t)((y) + 2) * stride + (x) + 2]
    for (int y = -2; y < h + 2; y++)
        for (int x = -2; x < w + 2; x++) T(y, x) = FAR;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!src[(size_t)y * w + x]) {
                T(y, x) = 0;
                continue;
            }
            unsigned d = T(y - 2, x - 1) + KNIGHT, c;
#define TRY(v) c = (v), d = c < d ? c : d
            TRY(T(y - 2, x + 1) + KNIGHT);
            TRY(T(y - 1, x - 2) + KNIGHT);
            TRY(T(y - 1, x - 1) + DIAG);
            TRY(T(y - 1, x) + HV);
            TRY(T(y - 1, x + 1) + DIAG);
            TRY(T(y - 1, x + 2) + KNIGHT);
            TRY(T(y, x - 1) + HV);
            T(y, x) = d;
        }
    for (int y = h - 1; y >= 0; y--)
        for (int x = w - 1; x >= 0; x--) {
            unsigned d = T(y, x), c;
            if (d > HV) {
                TRY(T(y + 2, x + 1) + KNIGHT);
                TRY(T(y + 2, x - 1) + KNIGHT);
                TRY(T(y + 1, x + 2) + KNIGHT);
                TRY(T(y + 1, x + 1) + DIAG);
                TRY(T(y + 1, x) + HV);
                TRY(T(y + 1, x - 1) + DIAG);
                TRY(T(y + 1, x - 2) + KNIGHT);
                TRY(T(y, x + 1) + HV);
                T(y, x) = d;
            }
            dist[(size_t)y * w + x] = (float)d * (1.f / 65536.f);
        }
#undef TRY
#undef T
}

/* Sum of the 3 x 3 neighbourhood, BORDER_REFLECT_101 (cv2.blur and filter2D). */
#define AT(p, y, x) (p)[(size_t)dws_border_reflect101(y, h) * w + dws_border_reflect101(x, w)]

/* cv2.equalizeHist on bytes, in place. */
static void equalize(unsigned char *p, size_t n)
{
    int hist[256] = {0};
    unsigned char lut[256];
    for (size_t i = 0; i < n; i++) hist[p[i]]++;
    int i = 0;
    while (!hist[i]) i++;
    if ((size_t)hist[i] == n) return;   /* a constant image stays itself */
    float scale = 255.f / (float)((int)n - hist[i]);
    int sum = 0;
    for (lut[i++] = 0; i < 256; i++) {
        sum += hist[i];
        float v = nearbyintf((float)sum * scale);
        lut[i] = (unsigned char)(v > 255.f ? 255.f : v);
    }
    for (size_t k = 0; k < n; k++) p[k] = lut[p[k]];
}

/* The water-drop layer: the bytes of the liquid layer times the shading that the
 * reference derives from the distance to the drops' edges. */
static void water_layer(const double *liquid, int h, int w, double *layer, double *next)
{
    size_t n = (size_t)h * w;
    unsigned char *bytes = take(&next, n), *edges = take(&next, n), *shade = take(&next, n), *emboss = take(&next, n);
    int *gx = take(&next, n * sizeof(int)), *gy = take(&next, n * sizeof(int));
    int *mag = take(&next, n * sizeof(int)), *stack = take(&next, n * sizeof(int));
    float *dist = take(&next, n * sizeof(float));
    unsigned *t = take(&next, (size_t)(h + 4) * (w + 4) * sizeof(unsigned));
    /* (layer * 255).astype(np.uint8): truncation, and wrap-around above 255 */
    for (size_t i = 0; i < n; i++) bytes[i] = (unsigned char)((long)(liquid[i] * 255.0) & 255);
    canny(bytes, h, w, 50, 150, edges, gx, gy, mag, stack);
    for (size_t i = 0; i < n; i++) edges[i] = 255 - edges[i];
    distance_5x5(edges, h, w, dist, t);
    for (size_t i = 0; i < n; i++) dist[i] = dist[i] > 20.f ? 20.f : dist[i];   /* THRESH_TRUNC at 20 */
    for (int y = 0; y < h; y++)   /* blur (float), then astype(np.uint8) */
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) s += AT(dist, y + dy, x + dx);
            shade[(size_t)y * w + x] = (unsigned char)(float)(s * (1.0 / 9.0));
        }
    equalize(shade, n);
    static const int KER[3][3] = {{-2, -1, 0}, {-1, 1, 1}, {0, 1, 2}};
    for (int y = 0; y < h; y++)   /* filter2D(dist, CV_8U, ker): saturated */
        for (int x = 0; x < w; x++) {
            int s = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) s += KER[dy + 1][dx + 1] * AT(shade, y + dy, x + dx);
            emboss[(size_t)y * w + x] = (unsigned char)(s < 0 ? 0 : s > 255 ? 255 : s);
        }
    for (int y = 0; y < h; y++)   /* blur on bytes: rounded */
        for (int x = 0; x < w; x++) {
            int s = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) s += AT(emboss, y + dy, x + dx);
            layer[(size_t)y * w + x] = (double)bytes[(size_t)y * w + x] * (double)((s + 4) / 9);
        }
}
#undef AT

/* Water: x + intensity layer / max(layer) x (175, 238, 238) / 255. A layer that is zero
 * everywhere leaves the image alone (the reference divides by zero there). Mud: the
 * mask layer > threshold is blurred (sigma = intensity), zeroed below 0.8, and blends
 * the image towards (63, 42, 20) / 255. */
int dws_spatter(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    const spatter_params *p = &SPATTER[severity - 1];
    int h = d->h, w = d->w;
    size_t n = (size_t)h * w;
    double *liquid = scratch, *layer = liquid + n, *tmp = layer + n;
    for (size_t i = 0; i < n; i++) liquid[i] = p->loc + p->scale * dws_rng_normal(rng);
    dws_gaussian_plane(liquid, h, w, p->sigma, 4.0, dws_border_nearest, tmp);
    for (size_t i = 0; i < n; i++)
        if (liquid[i] < p->threshold) liquid[i] = 0.0;
    if (!p->mud) {
        water_layer(liquid, h, w, layer, tmp);
        double top = 0.0;
        for (size_t i = 0; i < n; i++) top = fmax(top, layer[i]);
        if (top <= 0.0) return 0;
        static const double WATER[3] = {175 / 255., 238 / 255., 238 / 255.};
        for (int c = 0; c < 3; c++)
            for (size_t i = 0; i < n; i++)
                img[c * n + i] = dws_clip01(img[c * n + i] + layer[i] / top * p->intensity * WATER[c]);
        return 0;
    }
    for (size_t i = 0; i < n; i++) layer[i] = liquid[i] > p->threshold ? 1.0 : 0.0;
    dws_gaussian_plane(layer, h, w, p->intensity, 4.0, dws_border_nearest, tmp);
    static const double MUD[3] = {63 / 255., 42 / 255., 20 / 255.};
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < n; i++) {
            double m = layer[i] < 0.8 ? 0.0 : layer[i];
            img[c * n + i] = dws_clip01(img[c * n + i] * (1.0 - m) + MUD[c] * m);
        }
    return 0;
}
