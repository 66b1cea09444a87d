#include "nt_xent.h"

#include <cblas.h>
#include <math.h>

size_t dws_nt_xent_ws_floats(int n, int d)
{
    size_t m = 2 * (size_t)n;
    return m * m + 2 * m * (size_t)d + m;
}

double dws_nt_xent(const float *z, int n, int d, float tau, float *dz, double *pos_top1, float *ws)
{
    const int m = 2 * n;
    float *S = ws, *u = S + (size_t)m * m, *du = u + (size_t)m * d, *norm = du + (size_t)m * d;
    for (int i = 0; i < m; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double)z[(size_t)i * d + j] * z[(size_t)i * d + j];
        norm[i] = (float)fmax(sqrt(s), 1e-12);
        for (int j = 0; j < d; j++) u[(size_t)i * d + j] = z[(size_t)i * d + j] / norm[i];
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, d, 1.f / tau, u, d, u, d, 0.f, S, m);
    /* Row i of S becomes dLoss/dS_i. = (softmax over k != i - onehot(p)) / m. */
    double loss = 0;
    int hits = 0;
    for (int i = 0; i < m; i++) {
        float *row = S + (size_t)i * m;
        int p = i < n ? i + n : i - n, best = -1;
        float mx = -INFINITY;
        for (int k = 0; k < m; k++)
            if (k != i && row[k] > mx) mx = row[k], best = k;
        hits += best == p;
        double sum = 0;
        for (int k = 0; k < m; k++)
            if (k != i) sum += exp((double)row[k] - mx);
        loss += log(sum) - ((double)row[p] - mx);
        for (int k = 0; k < m; k++) row[k] = k == i ? 0.f : (float)(exp((double)row[k] - mx) / sum / m);
        row[p] -= 1.f / (float)m;
    }
    /* s_ik = u_i . u_k / tau: dL/du = (G + G^T) u / tau */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d, m, 1.f / tau, S, m, u, d, 0.f, du, d);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, d, m, 1.f / tau, S, m, u, d, 1.f, du, d);
    /* through u = z / |z|: dz = (du - u (u . du)) / |z| */
    for (int i = 0; i < m; i++) {
        const float *ui = u + (size_t)i * d, *dui = du + (size_t)i * d;
        double dot = 0;
        for (int j = 0; j < d; j++) dot += (double)ui[j] * dui[j];
        for (int j = 0; j < d; j++) dz[(size_t)i * d + j] = (float)((dui[j] - ui[j] * dot) / norm[i]);
    }
    if (pos_top1) *pos_top1 = (double)hits / m;
    return loss / m;
}
