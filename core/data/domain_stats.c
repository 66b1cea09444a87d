/* Image statistics that tell corruptions apart (docs/estimator.md section 2): per image a
 * vector of means over its pixels (colour moments, saturation, clipping, difference
 * energies at several lags and directions, noise residuals by brightness, JPEG block
 * edges, repeated pixels, centre against border sharpness), and per set the features
 * the estimator reads, computed from the set's mean of those vectors. Because a set's
 * features depend only on that mean, a set of N images costs N image passes and one
 * pooling, and training can form sets from per-image vectors without recomputing. */
#include "data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 32
#define PLANE (SIDE * SIDE)
#define NOISE_BINS 8
#define HIST 256
#define QUIET_LEVELS 2
static const float QUIET[QUIET_LEVELS] = {0.04f, 0.12f};
/* JPEG qualities whose quantisation lattice is looked for: jpeg_compression's 1-5. */
#define JPEG_LEVELS 5
static const int JPEG_Q[JPEG_LEVELS] = {80, 65, 58, 50, 40};

/* Per-image entries (means over the image), in this order. */
enum {
    R_MEAN_R, R_MEAN_G, R_MEAN_B,
    R_STD_R, R_STD_G, R_STD_B,
    R_SAT, R_SAT2, R_SAT_FULL,
    R_VALUE, R_DARK, R_DARK_P5,
    R_ZERO, R_ONE,
    R_Y_P2, R_Y_P98,
    R_BLUE_RED,
    R_E_H1, R_E_V1, R_E_D1, R_E_A1, R_E_2, R_E_3, R_E_4, R_E_D2, R_LAP, R_NOISE,
    R_NOISE_SUM0, R_NOISE_CNT0 = R_NOISE_SUM0 + NOISE_BINS,
    R_QUIET0 = R_NOISE_CNT0 + NOISE_BINS,   /* [bin pair][threshold]: share of |residual| below it */
    R_CHROMA_RG = R_QUIET0 + NOISE_BINS / 2 * QUIET_LEVELS, R_CHROMA_BG,
    R_EQUAL_H, R_EQUAL_V,
    R_BLOCK_H, R_BLOCK_V, R_ALL_H, R_ALL_V, R_CBLOCK, R_CALL,
    R_CENTRE_LAP,
    R_LATTICE0, R_LATTICE_CNT0 = R_LATTICE0 + JPEG_LEVELS,
    R_ANISO = R_LATTICE_CNT0 + JPEG_LEVELS, R_LOGE, R_LOGE2,
    R_COUNT
};

/* Per-set features, in this order (dws_domain_feature_name). */
static const char *const FEATURE_NAMES[] = {
    "mean_r", "mean_g", "mean_b", "log_std_r", "log_std_g", "log_std_b",
    "sat_mean", "sat_std", "logit_sat_full", "value_mean", "dark_mean", "dark_p5",
    "logit_zero", "logit_one", "y_p2", "y_p98", "blue_minus_red",
    "log_e_h1", "log_e_v1", "log_e_d1", "log_e_a1", "log_e_2", "log_e_3", "log_e_4", "log_e_diag2", "log_laplacian",
    "log_noise", "log_noise2_b0", "log_noise2_b1", "log_noise2_b2", "log_noise2_b3", "log_noise2_b4", "log_noise2_b5",
    "log_noise2_b6", "log_noise2_b7", "logit_quiet_b01_lo", "logit_quiet_b01_hi", "logit_quiet_b23_lo",
    "logit_quiet_b23_hi", "logit_quiet_b45_lo", "logit_quiet_b45_hi", "logit_quiet_b67_lo", "logit_quiet_b67_hi",
    "log_chroma_rg", "log_chroma_bg", "logit_equal_h", "logit_equal_v",
    "log_block_h", "log_block_v", "log_block_chroma", "log_centre_sharpness",
    "jpeg_lattice_q80", "jpeg_lattice_q65", "jpeg_lattice_q58", "jpeg_lattice_q50", "jpeg_lattice_q40",
    "anisotropy", "log_energy_spread",
};
#define N_FEATURES ((int)(sizeof FEATURE_NAMES / sizeof *FEATURE_NAMES))

_Static_assert(R_COUNT == DWS_DOMAIN_STATS, "per-image entries and DWS_DOMAIN_STATS differ");
_Static_assert(sizeof FEATURE_NAMES / sizeof *FEATURE_NAMES == DWS_DOMAIN_FEATURES,
               "feature names and DWS_DOMAIN_FEATURES differ");

const char *dws_domain_feature_name(int i)
{
    return i >= 0 && i < N_FEATURES ? FEATURE_NAMES[i] : NULL;
}

/* The value below which a fraction q of the histogram's count lies, in [0, 1]. */
static double percentile(const int *hist, int total, double q)
{
    int want = (int)(q * total), seen = 0;
    for (int b = 0; b < HIST; b++) {
        seen += hist[b];
        if (seen > want) return b / (double)(HIST - 1);
    }
    return 1.0;
}

static int bin_of(float v)
{
    int b = (int)(v * (HIST - 1) + 0.5f);
    return b < 0 ? 0 : b > HIST - 1 ? HIST - 1 : b;
}

/* Colour moments, saturation, clipping and brightness percentiles. */
static void colour_stats(const float *x, const float *y, double *r)
{
    const float *R = x, *G = x + PLANE, *B = x + 2 * PLANE;
    double sum[3] = {0}, sq[3] = {0}, sat = 0, sat2 = 0, full = 0, value = 0, dark = 0, zero = 0, one = 0, br = 0;
    int yhist[HIST] = {0}, dhist[HIST] = {0};
    for (int i = 0; i < PLANE; i++) {
        float c[3] = {R[i], G[i], B[i]};
        float hi = c[0], lo = c[0];
        for (int k = 0; k < 3; k++) {
            sum[k] += c[k];
            sq[k] += (double)c[k] * c[k];
            hi = c[k] > hi ? c[k] : hi;
            lo = c[k] < lo ? c[k] : lo;
            zero += c[k] < 0.5f / 255;
            one += c[k] > 254.5f / 255;
        }
        float s = hi > 0 ? (hi - lo) / hi : 0;
        sat += s;
        sat2 += (double)s * s;
        full += s > 0.99f;
        value += hi;
        dark += lo;
        br += c[2] - c[0];
        yhist[bin_of(y[i])]++;
        dhist[bin_of(lo)]++;
    }
    for (int k = 0; k < 3; k++) {
        double m = sum[k] / PLANE, v = sq[k] / PLANE - m * m;
        r[R_MEAN_R + k] = m;
        r[R_STD_R + k] = sqrt(v > 0 ? v : 0);
    }
    r[R_SAT] = sat / PLANE;
    r[R_SAT2] = sat2 / PLANE;
    r[R_SAT_FULL] = full / PLANE;
    r[R_VALUE] = value / PLANE;
    r[R_DARK] = dark / PLANE;
    r[R_DARK_P5] = percentile(dhist, PLANE, 0.05);
    r[R_ZERO] = zero / (3.0 * PLANE);
    r[R_ONE] = one / (3.0 * PLANE);
    r[R_Y_P2] = percentile(yhist, PLANE, 0.02);
    r[R_Y_P98] = percentile(yhist, PLANE, 0.98);
    r[R_BLUE_RED] = br / PLANE;
}

/* Mean squared difference of y with itself shifted by (dy, dx). */
static double lag_energy(const float *y, int dy, int dx)
{
    double e = 0;
    int n = 0;
    int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? SIDE - dx : SIDE;
    for (int i = 0; i + dy < SIDE; i++) {
        const float *a = y + i * SIDE, *b = y + (i + dy) * SIDE + dx;
        float row = 0;   /* float sums within a row vectorise; rows add up in double */
        for (int j = x0; j < x1; j++) row += (b[j] - a[j]) * (b[j] - a[j]);
        e += row;
        n += x1 - x0;
    }
    return e / n;
}

/* Immerkaer's noise residual |p * [1 -2 1; -2 4 -2; 1 -2 1]| of the interior pixels
 * (1..SIDE-2) of row i into out[1..SIDE-2]; returns their sum. */
static float residual_row(const float *p, int i, float *out)
{
    const float *u = p + (i - 1) * SIDE, *m = p + i * SIDE, *d = p + (i + 1) * SIDE;
    float sum = 0;
    for (int j = 1; j < SIDE - 1; j++) {
        float v = (u[j - 1] + u[j + 1] + d[j - 1] + d[j + 1]) - 2 * (u[j] + d[j] + m[j - 1] + m[j + 1]) + 4 * m[j];
        out[j] = fabsf(v);
        sum += out[j];
    }
    return sum;
}

/* Energies at lags 1, 2 and 4, the Laplacian, noise residuals (overall, by local
 * brightness, of the colour differences), centre against whole sharpness. */
static void texture_stats(const float *x, const float *y, double *r)
{
    double e[4] = {lag_energy(y, 0, 1), lag_energy(y, 1, 0), lag_energy(y, 1, 1), lag_energy(y, 1, -1)};
    r[R_E_H1] = e[0];
    r[R_E_V1] = e[1];
    r[R_E_D1] = e[2];
    r[R_E_A1] = e[3];
    r[R_E_2] = (lag_energy(y, 0, 2) + lag_energy(y, 2, 0)) / 2;
    r[R_E_3] = (lag_energy(y, 0, 3) + lag_energy(y, 3, 0)) / 2;
    r[R_E_4] = (lag_energy(y, 0, 4) + lag_energy(y, 4, 0)) / 2;
    r[R_E_D2] = (lag_energy(y, 2, 2) + lag_energy(y, 2, -2)) / 2;
    double lo = e[0], hi = e[0];
    for (int k = 1; k < 4; k++) lo = e[k] < lo ? e[k] : lo, hi = e[k] > hi ? e[k] : hi;
    r[R_ANISO] = log((hi + 1e-6) / (lo + 1e-6));
    double le = log(e[0] + e[1] + 1e-6);
    r[R_LOGE] = le;
    r[R_LOGE2] = le * le;

    const float *R = x, *G = x + PLANE, *B = x + 2 * PLANE;
    float rg[PLANE], bg[PLANE], res[SIDE], scratch[SIDE], local[SIDE];
    for (int i = 0; i < PLANE; i++) rg[i] = R[i] - G[i], bg[i] = B[i] - G[i];
    double lap = 0, centre = 0, noise = 0, crg = 0, cbg = 0, nsum[NOISE_BINS] = {0}, ncnt[NOISE_BINS] = {0};
    double quiet[NOISE_BINS / 2][QUIET_LEVELS] = {{0}};
    for (int i = 1; i < SIDE - 1; i++) {
        const float *m = y + i * SIDE;
        float row = 0, mid = 0;
        for (int j = 1; j < SIDE - 1; j++) {
            float l = 4 * m[j] - m[j - 1] - m[j + 1] - m[j - SIDE] - m[j + SIDE];
            row += l * l;
            mid += j >= 8 && j < 24 ? l * l : 0;
            local[j] = (m[j - 1] + m[j + 1] + m[j - SIDE] + m[j + SIDE] + m[j]) * (NOISE_BINS / 5.0f);
        }
        lap += row;
        if (i >= 8 && i < 24) centre += mid;
        noise += residual_row(y, i, res);
        crg += residual_row(rg, i, scratch);
        cbg += residual_row(bg, i, scratch);
        for (int j = 1; j < SIDE - 1; j++) {   /* by local brightness: a scatter, not vectorised */
            int b = (int)local[j];
            b = b < 0 ? 0 : b >= NOISE_BINS ? NOISE_BINS - 1 : b;
            float n = res[j];
            nsum[b] += n * n;
            ncnt[b] += 1;
            for (int q = 0; q < QUIET_LEVELS; q++) quiet[b / 2][q] += n < QUIET[q];
        }
    }
    const double inner = (SIDE - 2) * (SIDE - 2);
    r[R_LAP] = lap / inner;
    r[R_CENTRE_LAP] = centre / 256;
    r[R_NOISE] = noise / inner;
    for (int b = 0; b < NOISE_BINS; b++) r[R_NOISE_SUM0 + b] = nsum[b] / inner, r[R_NOISE_CNT0 + b] = ncnt[b] / inner;
    for (int b = 0; b < NOISE_BINS / 2; b++)
        for (int q = 0; q < QUIET_LEVELS; q++) r[R_QUIET0 + b * QUIET_LEVELS + q] = quiet[b][q] / inner;
    r[R_CHROMA_RG] = crg / inner;
    r[R_CHROMA_BG] = cbg / inner;
}

/* Repeated pixels (pixelate) and JPEG's 8 x 8 block edges (16 x 16 in its 4:2:0 chroma). */
static void grid_stats(const float *x, const float *y, double *r)
{
    const float *R = x, *G = x + PLANE, *B = x + 2 * PLANE;
    double eq_h = 0, eq_v = 0, bh = 0, bv = 0, ah = 0, av = 0, cb = 0, ca = 0;
    for (int i = 0; i < SIDE; i++) {
        for (int j = 0; j < SIDE; j++) {
            int k = i * SIDE + j;
            if (j + 1 < SIDE) {
                eq_h += R[k] == R[k + 1] && G[k] == G[k + 1] && B[k] == B[k + 1];
                float d = fabsf(y[k + 1] - y[k]);
                ah += d;
                if (j % 8 == 7) bh += d;
                /* chroma: blue against the luma, across 16-pixel edges and everywhere */
                float c = fabsf((B[k + 1] - y[k + 1]) - (B[k] - y[k]));
                ca += c;
                if (j % 16 == 15) cb += c;
            }
            if (i + 1 < SIDE) {
                eq_v += R[k] == R[k + SIDE] && G[k] == G[k + SIDE] && B[k] == B[k + SIDE];
                float d = fabsf(y[k + SIDE] - y[k]);
                av += d;
                if (i % 8 == 7) bv += d;
                float c = fabsf((B[k + SIDE] - y[k + SIDE]) - (B[k] - y[k]));
                ca += c;
                if (i % 16 == 15) cb += c;
            }
        }
    }
    const double pairs = SIDE * (SIDE - 1);
    r[R_EQUAL_H] = eq_h / pairs;
    r[R_EQUAL_V] = eq_v / pairs;
    r[R_BLOCK_H] = bh / (SIDE * (SIDE / 8 - 1));   /* edges 7|8, 15|16, 23|24 of every row */
    r[R_BLOCK_V] = bv / (SIDE * (SIDE / 8 - 1));
    r[R_ALL_H] = ah / pairs;
    r[R_ALL_V] = av / pairs;
    r[R_CBLOCK] = cb / (2.0 * SIDE);               /* edge 15|16 of every row and column */
    r[R_CALL] = ca / (2 * pairs);
}

/* libjpeg's luminance quantisation table (ITU T.81 Annex K), in natural order. */
static const int LUMA_Q[64] = {
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};

/* How close the 8 x 8 DCT coefficients of the luma lie to the quantisation lattice of
 * each JPEG quality: over coefficients at least half a step large, the mean of
 * 1 - 4 |c/Q - round(c/Q)| (1 on the lattice, 0 on average off it). */
static void jpeg_stats(const float *y, double *r)
{
    float basis[8][8];   /* C(u)/2 cos((2x+1) u pi / 16) */
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < 8; x++)
            basis[u][x] = (float)((u ? 0.5 : 0.5 / sqrt(2.0)) * cos((2 * x + 1) * u * M_PI / 16));
    float inv_q[JPEG_LEVELS][64];   /* libjpeg's jpeg_set_quality scaling of the table */
    for (int l = 0; l < JPEG_LEVELS; l++) {
        int scale = JPEG_Q[l] < 50 ? 5000 / JPEG_Q[l] : 200 - 2 * JPEG_Q[l];
        for (int i = 0; i < 64; i++) {
            int v = (LUMA_Q[i] * scale + 50) / 100;
            inv_q[l][i] = 1.0f / (float)(v < 1 ? 1 : v > 255 ? 255 : v);
        }
    }
    float sum[JPEG_LEVELS] = {0}, cnt[JPEG_LEVELS] = {0};
    for (int by = 0; by < SIDE; by += 8) {
        for (int bx = 0; bx < SIDE; bx += 8) {
            float rows[8][8], coef[64];
            for (int i = 0; i < 8; i++) {   /* along x, samples on the 0..255 scale shifted by 128 */
                float px[8];
                for (int x = 0; x < 8; x++) px[x] = 255.0f * y[(by + i) * SIDE + bx + x] - 128.0f;
                for (int u = 0; u < 8; u++) {
                    float a = 0;
                    for (int x = 0; x < 8; x++) a += basis[u][x] * px[x];
                    rows[i][u] = a;
                }
            }
            for (int v = 0; v < 8; v++)
                for (int u = 0; u < 8; u++) {
                    float a = 0;
                    for (int i = 0; i < 8; i++) a += basis[v][i] * rows[i][u];
                    coef[v * 8 + u] = fabsf(a);
                }
            coef[0] = 0;   /* the DC term is not looked at */
            for (int l = 0; l < JPEG_LEVELS; l++) {
                float s_ = 0, c_ = 0;
                for (int i = 0; i < 64; i++) {
                    float t = coef[i] * inv_q[l][i], big = t >= 0.5f ? 1.0f : 0.0f;
                    s_ += big * (1 - 4 * fabsf(t - (float)(int)(t + 0.5f)));
                    c_ += big;
                }
                sum[l] += s_;
                cnt[l] += c_;
            }
        }
    }
    for (int l = 0; l < JPEG_LEVELS; l++) r[R_LATTICE0 + l] = sum[l] / PLANE, r[R_LATTICE_CNT0 + l] = cnt[l] / PLANE;
}

void dws_domain_stats_image(const float *x, double *stats)
{
    float y[PLANE];
    const float *R = x, *G = x + PLANE, *B = x + 2 * PLANE;
    for (int i = 0; i < PLANE; i++) y[i] = 0.299f * R[i] + 0.587f * G[i] + 0.114f * B[i];
    colour_stats(x, y, stats);
    texture_stats(x, y, stats);
    grid_stats(x, y, stats);
    jpeg_stats(y, stats);
}

static double safe_log(double v)
{
    return log(v > 1e-9 ? v : 1e-9);
}

static double logit(double f)
{
    const double eps = 1e-4;
    return log((f + eps) / (1 - f + eps));
}

void dws_domain_features(const double *m, float *f)
{
    int k = 0;
    for (int c = 0; c < 3; c++) f[k++] = (float)m[R_MEAN_R + c];
    for (int c = 0; c < 3; c++) f[k++] = (float)safe_log(m[R_STD_R + c]);
    double sv = m[R_SAT2] - m[R_SAT] * m[R_SAT];
    f[k++] = (float)m[R_SAT];
    f[k++] = (float)sqrt(sv > 0 ? sv : 0);
    f[k++] = (float)logit(m[R_SAT_FULL]);
    f[k++] = (float)m[R_VALUE];
    f[k++] = (float)m[R_DARK];
    f[k++] = (float)m[R_DARK_P5];
    f[k++] = (float)logit(m[R_ZERO]);
    f[k++] = (float)logit(m[R_ONE]);
    f[k++] = (float)m[R_Y_P2];
    f[k++] = (float)m[R_Y_P98];
    f[k++] = (float)m[R_BLUE_RED];
    for (int e = R_E_H1; e <= R_NOISE; e++) f[k++] = (float)safe_log(m[e]);
    double all = 0, all_cnt = 0;
    for (int b = 0; b < NOISE_BINS; b++) all += m[R_NOISE_SUM0 + b], all_cnt += m[R_NOISE_CNT0 + b];
    for (int b = 0; b < NOISE_BINS; b++) {
        /* the squared residual of pixels of this brightness; of all pixels when the set has none */
        double cnt = m[R_NOISE_CNT0 + b];
        f[k++] = (float)safe_log(cnt > 1e-3 ? m[R_NOISE_SUM0 + b] / cnt : all / (all_cnt > 0 ? all_cnt : 1));
    }
    for (int b = 0; b < NOISE_BINS / 2; b++) {
        /* the share of quiet pixels (small residual) among pixels of this brightness */
        double cnt = m[R_NOISE_CNT0 + 2 * b] + m[R_NOISE_CNT0 + 2 * b + 1];
        for (int q = 0; q < QUIET_LEVELS; q++)
            f[k++] = (float)logit(cnt > 1e-3 ? m[R_QUIET0 + b * QUIET_LEVELS + q] / cnt : 0.5);
    }
    f[k++] = (float)safe_log(m[R_CHROMA_RG]);
    f[k++] = (float)safe_log(m[R_CHROMA_BG]);
    f[k++] = (float)logit(m[R_EQUAL_H]);
    f[k++] = (float)logit(m[R_EQUAL_V]);
    f[k++] = (float)safe_log((m[R_BLOCK_H] + 1e-4) / (m[R_ALL_H] + 1e-4));
    f[k++] = (float)safe_log((m[R_BLOCK_V] + 1e-4) / (m[R_ALL_V] + 1e-4));
    f[k++] = (float)safe_log((m[R_CBLOCK] + 1e-4) / (m[R_CALL] + 1e-4));
    f[k++] = (float)safe_log((m[R_CENTRE_LAP] + 1e-6) / (m[R_LAP] + 1e-6));
    for (int l = 0; l < JPEG_LEVELS; l++) {
        double cnt = m[R_LATTICE_CNT0 + l];
        f[k++] = (float)(cnt > 1e-6 ? m[R_LATTICE0 + l] / cnt : 0);
    }
    f[k++] = (float)m[R_ANISO];
    double spread = m[R_LOGE2] - m[R_LOGE] * m[R_LOGE];
    f[k++] = (float)sqrt(spread > 0 ? spread : 0);
}

void dws_domain_features_of_images(const float *x, size_t n, float *features)
{
    double sum[DWS_DOMAIN_STATS] = {0}, one[DWS_DOMAIN_STATS];
    for (size_t i = 0; i < n; i++) {
        dws_domain_stats_image(x + i * DWS_CIFAR10_DIM, one);
        for (int k = 0; k < DWS_DOMAIN_STATS; k++) sum[k] += one[k];
    }
    for (int k = 0; k < DWS_DOMAIN_STATS; k++) sum[k] /= n ? (double)n : 1.0;
    dws_domain_features(sum, features);
}

/* ---- the stats of many corrupted images, in parallel ---- */

#define ROWS_PER_PART 32

typedef struct {
    const dws_image_set *s;
    const uint32_t *rows;
    size_t n;
    const dws_domain *d;
    uint64_t seed;
    double *stats;
    dws_error errs[DWS_MAX_THREADS];   /* per worker: the first failure it met */
} stats_job;

static void stats_part(void *ctx, int part, int thread)
{
    stats_job *j = ctx;
    float x[DWS_CIFAR10_DIM];
    uint8_t bytes[DWS_CIFAR10_DIM];
    size_t first = (size_t)part * ROWS_PER_PART;
    if (j->errs[thread].code) return;
    for (size_t i = first; i < first + ROWS_PER_PART && i < j->n; i++) {
        uint32_t row = j->rows ? j->rows[i] : (uint32_t)i;
        dws_image_set_to_float(j->s, row, 1, x);
        if (dws_domain_apply(j->d, 3, SIDE, SIDE, x, 1, j->seed, row, &j->errs[thread])) return;
        /* as an image file holds them: bytes */
        dws_float_to_pixels(x, DWS_CIFAR10_DIM, bytes);
        for (int k = 0; k < DWS_CIFAR10_DIM; k++) x[k] = bytes[k] / 255.0f;
        dws_domain_stats_image(x, j->stats + i * DWS_DOMAIN_STATS);
    }
}

int dws_domain_stats_of_rows(const dws_image_set *s, const uint32_t *rows, size_t n, const dws_domain *d,
                             uint64_t seed, int threads, double *stats, dws_error *err)
{
    if (s->channels != 3 || s->height != SIDE || s->width != SIDE) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "domain statistics need 3 x 32 x 32 images, not %d x %d x %d",
                      s->channels, s->height, s->width);
        return -1;
    }
    if (threads > DWS_MAX_THREADS) threads = DWS_MAX_THREADS;
    stats_job j = {.s = s, .rows = rows, .n = n, .d = d, .seed = seed, .stats = stats};
    for (int t = 0; t < DWS_MAX_THREADS; t++) dws_error_clear(&j.errs[t]);
    dws_parallel_parts((int)((n + ROWS_PER_PART - 1) / ROWS_PER_PART), threads, stats_part, &j);
    for (int t = 0; t < DWS_MAX_THREADS; t++)
        if (j.errs[t].code) {
            *err = j.errs[t];
            return -1;
        }
    return 0;
}

void dws_domain_features_of_draw(const double *pool, uint32_t *order, uint32_t pool_n, uint32_t set_n, dws_rng *rng,
                                 float *features)
{
    double sum[DWS_DOMAIN_STATS] = {0};
    if (set_n > pool_n) set_n = pool_n;
    for (uint32_t i = 0; i < set_n; i++) {
        /* a partial Fisher-Yates shuffle: order stays a permutation from draw to draw */
        uint32_t j = i + (uint32_t)dws_rng_below(rng, pool_n - i), t = order[i];
        order[i] = order[j];
        order[j] = t;
        const double *s = pool + (size_t)order[i] * DWS_DOMAIN_STATS;
        for (int k = 0; k < DWS_DOMAIN_STATS; k++) sum[k] += s[k];
    }
    for (int k = 0; k < DWS_DOMAIN_STATS; k++) sum[k] /= set_n ? (double)set_n : 1.0;
    dws_domain_features(sum, features);
}

int dws_domain_pools_build(const dws_image_set *s, uint32_t first, uint32_t count, const dws_domain *classes,
                           int n_classes, uint32_t per_class, uint64_t seed, int threads, double *stats,
                           dws_error *err)
{
    if (per_class > count || (size_t)first + count > s->n) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "cannot draw %u of images %u..%u from a set of %zu", per_class,
                      first, first + count - 1, s->n);
        return -1;
    }
    uint32_t *rows = malloc(sizeof(uint32_t) * count + 1);
    if (!rows) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for %u image indices", count);
        return -1;
    }
    int rc = 0;
    for (int c = 0; c < n_classes && rc == 0; c++) {
        dws_rng rng;
        dws_rng_seed_stream(&rng, seed, (uint64_t)c);
        for (uint32_t i = 0; i < count; i++) rows[i] = first + i;
        for (uint32_t i = 0; i < per_class; i++) {
            uint32_t j = i + (uint32_t)dws_rng_below(&rng, count - i), t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
        }
        uint64_t noise = dws_mix64(seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(c + 1)));   /* the class's own */
        rc = dws_domain_stats_of_rows(s, rows, per_class, &classes[c], noise, threads,
                                      stats + (size_t)c * per_class * DWS_DOMAIN_STATS, err);
    }
    free(rows);
    return rc;
}
