#include "chanmap.h"

#include "blas_local.h"
#include "hot_loop.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=fast")   /* see hot_loop.h */
#endif

/* Shapes below this many multiply-adds per entry without a vector loop run as
 * plain loops; larger ones go to dws_gemm. */
#define SCALAR_MAX 256

/* out[j][o0 .. o0 + 8 nv) += x[j] E[., o0 ..]: nv (1..4) vectors of 8 outputs in
 * registers per entry, the c_in broadcasts of x[j] feeding them; u entries at a
 * time (u nv <= 4), so that u independent chains of adds are in flight. */
static inline __attribute__((always_inline)) void map_vec(int64_t n, int ci, int co, const float *restrict x,
                                                          const float *restrict E, float *restrict out, const int nv,
                                                          const int add)
{
    const int u = 4 / nv;
    int64_t j = 0;
    for (; j + u <= n; j += u) {
        v8f acc[4];
        #pragma GCC unroll 8
        for (int e = 0; e < u; e++)
            #pragma GCC unroll 8
            for (int g = 0; g < nv; g++) acc[e * nv + g] = add ? LD8(out + (j + e) * co + 8 * g) : (v8f){0};
        for (int a = 0; a < ci; a++)
            #pragma GCC unroll 8
            for (int g = 0; g < nv; g++) {
                const v8f Eg = AT8(E + (int64_t)a * co + 8 * g);
                #pragma GCC unroll 8
                for (int e = 0; e < u; e++) acc[e * nv + g] += x[(j + e) * ci + a] * Eg;
            }
        #pragma GCC unroll 8
        for (int e = 0; e < u; e++)
            #pragma GCC unroll 8
            for (int g = 0; g < nv; g++) AT8(out + (j + e) * co + 8 * g) = acc[e * nv + g];
    }
    for (; j < n; j++) {   /* the same operations, one entry at a time */
        v8f acc[4];
        #pragma GCC unroll 8
        for (int g = 0; g < nv; g++) acc[g] = add ? LD8(out + j * co + 8 * g) : (v8f){0};
        for (int a = 0; a < ci; a++)
            #pragma GCC unroll 8
            for (int g = 0; g < nv; g++) acc[g] += x[j * ci + a] * AT8(E + (int64_t)a * co + 8 * g);
        #pragma GCC unroll 8
        for (int g = 0; g < nv; g++) AT8(out + j * co + 8 * g) = acc[g];
    }
}

DWS_HOT_LOOP static void map_vec_all(int64_t n, int ci, int co, const float *x, const float *E, float *out, int add)
{
    for (int o0 = 0; o0 < co; o0 += 32) {
        switch ((co - o0 >= 32 ? 32 : co - o0) / 8) {
        case 1: map_vec(n, ci, co, x, E + o0, out + o0, 1, add); break;
        case 2: map_vec(n, ci, co, x, E + o0, out + o0, 2, add); break;
        case 3: map_vec(n, ci, co, x, E + o0, out + o0, 3, add); break;
        default: map_vec(n, ci, co, x, E + o0, out + o0, 4, add); break;
        }
    }
}

/* co = 1, ci a multiple of 8: one dot product per entry, eight entries' lanes
 * summed together (V8F_SUMS8); the last entries one at a time in the same order. */
DWS_HOT_LOOP static void map_dot(int64_t n, int ci, const float *restrict x, const float *restrict E,
                                 float *restrict out, int add)
{
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f p[8];
#pragma GCC unroll 8
        for (int e = 0; e < 8; e++) {
            const float *restrict xj = x + (j + e) * ci;
            p[e] = LD8(xj) * LD8(E);
            for (int a = 8; a < ci; a += 8) p[e] += LD8(xj + a) * LD8(E + a);
        }
        const v8f s = V8F_SUMS8(p);
        AT8(out + j) = add ? LD8(out + j) + s : s;
    }
    for (; j < n; j++) {
        const float *restrict xj = x + j * ci;
        v8f s = LD8(xj) * LD8(E);
        for (int a = 8; a < ci; a += 8) s += LD8(xj + a) * LD8(E + a);
        out[j] = add ? out[j] + v8f_sum(&s) : v8f_sum(&s);
    }
}

static void map_scalar(int64_t n, int ci, int co, const float *restrict x, const float *restrict E,
                       float *restrict out, int add)
{
    for (int64_t j = 0; j < n; j++)
        for (int o = 0; o < co; o++) {
            float s = add ? out[j * co + o] : 0.f;
            for (int a = 0; a < ci; a++) s += x[j * ci + a] * E[a * co + o];
            out[j * co + o] = s;
        }
}

void dws_chanmap(int64_t n, int ci, int co, const float *x, const float *E, float *out, int add)
{
    if (n <= 0) return;
    if (co % 8 == 0) map_vec_all(n, ci, co, x, E, out, add);
    else if (co == 1 && ci % 8 == 0) map_dot(n, ci, x, E, out, add);
    else if (ci * co <= SCALAR_MAX) map_scalar(n, ci, co, x, E, out, add);
    else dws_gemm(0, 0, n, co, ci, 1.f, x, ci, E, co, add ? 1.f : 0.f, out, co);
}

/* dE[a0 + a][o0 .. o0 + 8) += sum over j of x[j][a0 + a] g[j][o0 ..], a < ka (1..8):
 * ka vector accumulators, and for ka < 4 four of each (entries j mod 4, added
 * at the end), so that at least four chains of adds are in flight. */
static inline __attribute__((always_inline)) void grad_vec(int64_t n, int ci, int co, const float *restrict x,
                                                           const float *restrict g, float *restrict dE, const int ka)
{
    const int u = ka >= 4 ? 1 : 4;
    v8f acc[4][8];
#pragma GCC unroll 4
    for (int e = 0; e < u; e++)
#pragma GCC unroll 8
        for (int a = 0; a < ka; a++) acc[e][a] = (v8f){0};
    int64_t j = 0;
    for (; j + u <= n; j += u)
#pragma GCC unroll 4
        for (int e = 0; e < u; e++) {
            const v8f gj = LD8(g + (j + e) * co);
#pragma GCC unroll 8
            for (int a = 0; a < ka; a++) acc[e][a] += x[(j + e) * ci + a] * gj;
        }
    for (; j < n; j++) {
        const v8f gj = LD8(g + j * co);
#pragma GCC unroll 8
        for (int a = 0; a < ka; a++) acc[0][a] += x[j * ci + a] * gj;
    }
#pragma GCC unroll 8
    for (int a = 0; a < ka; a++)
        AT8(dE + (int64_t)a * co) += u == 1 ? acc[0][a] : (acc[0][a] + acc[1][a]) + (acc[2][a] + acc[3][a]);
}

DWS_HOT_LOOP static void grad_vec_all(int64_t n, int ci, int co, const float *x, const float *g, float *dE)
{
    for (int o0 = 0; o0 < co; o0 += 8)
        for (int a0 = 0; a0 < ci; a0 += 8) {
            const float *xa = x + a0, *go = g + o0;
            float *d = dE + (int64_t)a0 * co + o0;
            switch (ci - a0 >= 8 ? 8 : ci - a0) {
            case 1: grad_vec(n, ci, co, xa, go, d, 1); break;
            case 2: grad_vec(n, ci, co, xa, go, d, 2); break;
            case 3: grad_vec(n, ci, co, xa, go, d, 3); break;
            case 4: grad_vec(n, ci, co, xa, go, d, 4); break;
            case 5: grad_vec(n, ci, co, xa, go, d, 5); break;
            case 6: grad_vec(n, ci, co, xa, go, d, 6); break;
            case 7: grad_vec(n, ci, co, xa, go, d, 7); break;
            default: grad_vec(n, ci, co, xa, go, d, 8); break;
            }
        }
}

/* co = 1, ci a multiple of 8: dE[a] += sum over j of x[j][a] g[j], 8 a's per vector. */
DWS_HOT_LOOP static void grad_col(int64_t n, int ci, const float *restrict x, const float *restrict g,
                                  float *restrict dE)
{
    for (int a0 = 0; a0 < ci; a0 += 8) {   /* four chains: entries j mod 4 */
        v8f acc[4] = {{0}};
        int64_t j = 0;
        for (; j + 4 <= n; j += 4)
#pragma GCC unroll 4
            for (int e = 0; e < 4; e++) acc[e] += LD8(x + (j + e) * ci + a0) * g[j + e];
        for (; j < n; j++) acc[0] += LD8(x + j * ci + a0) * g[j];
        AT8(dE + a0) += (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

static void grad_scalar(int64_t n, int ci, int co, const float *restrict x, const float *restrict g,
                        float *restrict dE)
{
    for (int a = 0; a < ci; a++)
        for (int o = 0; o < co; o++) {
            float s = 0.f;
            for (int64_t j = 0; j < n; j++) s += x[j * ci + a] * g[j * co + o];
            dE[a * co + o] += s;
        }
}

void dws_chanmap_grad(int64_t n, int ci, int co, const float *x, const float *g, float *dE)
{
    if (n <= 0) return;
    if (co % 8 == 0) grad_vec_all(n, ci, co, x, g, dE);
    else if (co == 1 && ci % 8 == 0) grad_col(n, ci, x, g, dE);
    else if (ci * co <= SCALAR_MAX) grad_scalar(n, ci, co, x, g, dE);
    else dws_gemm(1, 0, ci, co, n, 1.f, x, ci, g, co, 1.f, dE, co);
}

void dws_chanmap_adjoint(int64_t n, int ci, int co, const float *g, const float *E, float *dx, int add)
{
    if (n <= 0) return;
    if (ci * co > 64 * 64) {
        dws_gemm(0, 1, n, ci, co, 1.f, g, co, E, co, add ? 1.f : 0.f, dx, ci);
        return;
    }
    float Et[64 * 64];   /* E transposed: the adjoint is the map by E^T */
    for (int a = 0; a < ci; a++)
        for (int o = 0; o < co; o++) Et[o * ci + a] = E[a * co + o];
    dws_chanmap(n, co, ci, g, Et, dx, add);
}
