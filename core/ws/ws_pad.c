#include "ws.h"

#include <string.h>

int dws_pad_fits(const dws_mlp *m, int n_layers, const int64_t *max_widths)
{
    if (m->n_layers != n_layers || m->widths[0] != max_widths[0] || m->widths[n_layers] != max_widths[n_layers])
        return 0;
    for (int l = 1; l < n_layers; l++)
        if (m->widths[l] > max_widths[l]) return 0;
    return 1;
}

/* Copies (pad = 1) or gathers back (pad = 0) every tensor's corner. */
static void corner_copy(float *padded, const int64_t *max_widths, const dws_mlp *m, float *params, int pad)
{
    size_t off = 0, m_off = 0;
    for (int l = 0; l < m->n_layers; l++) {
        int64_t rows = m->widths[l + 1], cols = m->widths[l], max_rows = max_widths[l + 1], max_cols = max_widths[l];
        for (int64_t i = 0; i < rows; i++) {
            float *p = padded + off + (size_t)(i * max_cols), *q = params + m_off + (size_t)(i * cols);
            if (pad) memcpy(p, q, (size_t)cols * sizeof(float));
            else memcpy(q, p, (size_t)cols * sizeof(float));
        }
        off += (size_t)(max_rows * max_cols);
        m_off += (size_t)(rows * cols);
        if (pad) memcpy(padded + off, params + m_off, (size_t)rows * sizeof(float));
        else memcpy(params + m_off, padded + off, (size_t)rows * sizeof(float));
        off += (size_t)max_rows;
        m_off += (size_t)rows;
    }
}

void dws_pad_mlp(const dws_mlp *m, const int64_t *max_widths, float *padded)
{
    memset(padded, 0, dws_mlp_param_count(m->n_layers, max_widths) * sizeof(float));
    corner_copy(padded, max_widths, m, m->params, 1);
}

void dws_unpad_mlp(const float *padded, const int64_t *max_widths, dws_mlp *m)
{
    corner_copy((float *)padded, max_widths, m, m->params, 0);
}
