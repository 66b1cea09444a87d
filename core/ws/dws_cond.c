/* Conditioning an adapter on its target domain by FiLM folded into effective
 * parameters (ws.h, docs/design.md section 15). */
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dws_cond_check(const dws_net *net, const dws_cond *c, dws_error *err)
{
    const dws_arch *a = &net->arch;
    if (a->kind != DWS_MODEL_ADAPTER || a->cond_dim < 1) {
        dws_error_set(err, DWS_E_UNKNOWN_DOMAIN, "this adapter is not conditioned on a domain");
        return -1;
    }
    if (a->cond_acts && (c->act < 0 || c->act >= a->cond_acts)) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "activation row %d is outside the adapter's table of %d",
                      c->act, a->cond_acts);
        return -1;
    }
    if (c->frame < 0 || c->frame > a->cond_frames) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "this adapter does not read MLPs in the %s input frame",
                      dws_frame_name((dws_frame)c->frame));
        return -1;
    }
    if (c->any) {
        if (c->n_steps != 0) {
            dws_error_set(err, DWS_E_UNKNOWN_DOMAIN, "`any` has no steps");
            return -1;
        }
        return 0;
    }
    if (c->n_steps < 1 || c->n_steps > a->cond_steps) {
        dws_error_set(err, DWS_E_UNKNOWN_DOMAIN, "a domain of %d steps; this adapter reads chains of 1 to %d",
                      c->n_steps, a->cond_steps);
        return -1;
    }
    for (int k = 0; k < c->n_steps; k++) {
        if (c->type[k] < 0 || c->type[k] >= a->cond_types || c->severity[k] < 1 ||
            c->severity[k] > a->cond_severities) {
            dws_error_set(err, DWS_E_UNKNOWN_DOMAIN, "step %d: type %d severity %d is outside the adapter's table",
                          k + 1, c->type[k], c->severity[k]);
            return -1;
        }
    }
    return 0;
}

/* Row of step k's embedding in the table. */
static size_t step_row(const dws_arch *a, const dws_cond *c, int k)
{
    return ((size_t)k * (size_t)a->cond_types + (size_t)c->type[k]) * (size_t)a->cond_severities +
           (size_t)(c->severity[k] - 1);
}

/* y[j] += sum_i e[i] M[i][j] for M (k x n). */
static void embed_add(const float *e, const float *M, int k, size_t n, float *y)
{
    for (int i = 0; i < k; i++)
        for (size_t j = 0; j < n; j++) y[j] += e[i] * M[(size_t)i * n + j];
}

/* y[j] = sum_i e[i] M[i][j] for M (k x n). */
static void embed_times(const float *e, const float *M, int k, int n, float *y)
{
    for (int j = 0; j < n; j++) y[j] = 0.f;
    embed_add(e, M, k, (size_t)n, y);
}

/* The input map's tensors and their condition offsets (base, cond, count) of net. */
static int inmap_tensors(const dws_net *net, size_t base[2], size_t cond[2], size_t count[2])
{
    const dws_arch *a = &net->arch;
    if (!a->input_map) return 0;
    base[0] = net->inmap_mix, cond[0] = net->cond_inmap_mix;
    count[0] = (size_t)(a->image.planes * a->image.planes) * (size_t)(a->input_map * a->input_map);
    base[1] = net->inmap_shift, cond[1] = net->cond_inmap_shift, count[1] = (size_t)a->d0;
    return 2;
}

/* The tensors of layer l that each output term is linear in: all but the template
 * kernel K, which multiplies the entry term (out = z + K * z) and so is already
 * scaled through E. Each keeps the output channel innermost. Returns their count. */
static int scaled_tensors(const dws_net *net, int l, size_t *offset, size_t *count)
{
    const dws_layer *ly = &net->layers[l];
    const dws_axes *ax = &ly->slots;
    const size_t ci = (size_t)ly->c_in, co = (size_t)ly->c_out;
    int n = 0;
    for (int t = 0; t + 1 < ax->n_layers; t++, n++) offset[n] = ly->E[t], count[n] = ci * co;
    for (int a = 0; a < ax->n_layers; a++, n++)
        offset[n] = ly->M[a], count[n] = (size_t)ax->feat_slots[a] * ci * (size_t)ax->feat_slots[a] * co;
    offset[n] = ly->pos, count[n++] = (size_t)(ax->d[0] * ax->feat_slots[0]) * co;
    offset[n] = ly->G, count[n++] = (size_t)ax->n_global * ci * (size_t)ax->n_global * co;
    offset[n] = ly->bias, count[n++] = (size_t)ax->n_global * co;
    return n;
}

#define MAX_SCALED (2 * DWS_MAX_LAYERS + 3)

int dws_cond_net_make(dws_cond_net *cn, const dws_net *net, const dws_cond *c, dws_error *err)
{
    if (dws_cond_check(net, c, err) != 0) return -1;
    const dws_arch *a = &net->arch;
    const int k = a->cond_dim;
    cn->net = *net;
    cn->cond = *c;
    cn->net.params = malloc(sizeof(float) * net->n_params);
    if (!cn->net.params) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu conditioned parameters", net->n_params);
        return -1;
    }
    const float *P = net->params;
    float *Q = cn->net.params;
    memcpy(Q, P, sizeof(float) * net->n_params);
    if (c->any) memcpy(cn->e, P + net->cond_any, sizeof(float) * (size_t)k);
    else {
        memset(cn->e, 0, sizeof cn->e);
        for (int s = 0; s < c->n_steps; s++) {
            const float *row = P + net->cond_table + step_row(a, c, s) * (size_t)k;
            for (int i = 0; i < k; i++) cn->e[i] += row[i];
        }
    }
    if (a->cond_acts)
        for (int i = 0; i < k; i++) cn->e[i] += P[net->cond_act + (size_t)c->act * (size_t)k + (size_t)i];
    if (c->frame)   /* the pixel frame has no row */
        for (int i = 0; i < k; i++) cn->e[i] += P[net->cond_frame + (size_t)(c->frame - 1) * (size_t)k + (size_t)i];
    for (int l = 0; l < a->n_dws_layers; l++) {
        const dws_layer *ly = &net->layers[l];
        const int co = ly->c_out;
        float shift[256];
        embed_times(cn->e, P + net->cond_scale[l], k, co, cn->scale[l]);
        embed_times(cn->e, P + net->cond_shift[l], k, co, shift);
        for (int o = 0; o < co; o++) cn->scale[l][o] += 1.f;
        size_t off[MAX_SCALED], cnt[MAX_SCALED];
        for (int t = scaled_tensors(net, l, off, cnt) - 1; t >= 0; t--)
            for (size_t i = 0; i < cnt[t]; i++) Q[off[t] + i] = P[off[t] + i] * cn->scale[l][i % (size_t)co];
        for (size_t i = 0; i < (size_t)ly->slots.n_global * (size_t)co; i++) Q[ly->bias + i] += shift[i % (size_t)co];
    }
    float da[2 * DWS_MAX_LAYERS];
    embed_times(cn->e, P + net->cond_alpha, k, 2 * a->depth, da);
    for (int j = 0; j < 2 * a->depth; j++) Q[net->alpha + (size_t)j] += da[j];
    size_t base[2], cond[2], count[2];
    for (int t = inmap_tensors(net, base, cond, count) - 1; t >= 0; t--)
        embed_add(cn->e, P + cond[t], k, count[t], Q + base[t]);
    return 0;
}

/* grads_M (k x n) += e (outer) g; g_e[i] += sum_j M[i][j] g[j]. */
static void embed_times_backward(const float *e, const float *M, int k, size_t n, const float *g, float *grads_M,
                                 float *g_e)
{
    for (int i = 0; i < k; i++)
        for (size_t j = 0; j < n; j++) {
            grads_M[(size_t)i * n + j] += e[i] * g[j];
            g_e[i] += M[(size_t)i * n + j] * g[j];
        }
}

void dws_cond_net_backward(const dws_cond_net *cn, const dws_net *net, const float *g_eff, float *grads)
{
    const dws_arch *a = &net->arch;
    const int k = a->cond_dim;
    const float *P = net->params;
    const dws_cond *c = &cn->cond;
    float g_e[DWS_COND_MAX_DIM] = {0};
    /* An adapter's parameters are its layers', alpha and the conditioning tensors,
     * which the effective network does not read (their g_eff is 0). */
    for (int l = 0; l < a->n_dws_layers; l++) {
        const dws_layer *ly = &net->layers[l];
        const int co = ly->c_out;
        double g_scale[256] = {0}, g_shift[256] = {0};
        size_t off[MAX_SCALED], cnt[MAX_SCALED];
        for (int t = scaled_tensors(net, l, off, cnt) - 1; t >= 0; t--)
            for (size_t i = 0; i < cnt[t]; i++) {
                size_t j = off[t] + i, o = i % (size_t)co;
                grads[j] += g_eff[j] * cn->scale[l][o];
                g_scale[o] += (double)g_eff[j] * P[j];
            }
        if (ly->image.planes)   /* K is not rescaled */
            for (size_t i = 0; i < DWS_TCONV_TAPS * (size_t)co; i++) grads[ly->K + i] += g_eff[ly->K + i];
        for (size_t i = 0; i < (size_t)ly->slots.n_global * (size_t)co; i++) g_shift[i % (size_t)co] += g_eff[ly->bias + i];
        float gs[256], gt[256];
        for (int o = 0; o < co; o++) {
            gs[o] = (float)g_scale[o];
            gt[o] = (float)g_shift[o];
        }
        embed_times_backward(cn->e, P + net->cond_scale[l], k, co, gs, grads + net->cond_scale[l], g_e);
        embed_times_backward(cn->e, P + net->cond_shift[l], k, co, gt, grads + net->cond_shift[l], g_e);
    }
    embed_times_backward(cn->e, P + net->cond_alpha, k, 2 * a->depth, g_eff + net->alpha, grads + net->cond_alpha,
                         g_e);
    for (int j = 0; j < 2 * a->depth; j++) grads[net->alpha + (size_t)j] += g_eff[net->alpha + (size_t)j];
    size_t base[2], cond[2], count[2];
    for (int t = inmap_tensors(net, base, cond, count) - 1; t >= 0; t--) {
        embed_times_backward(cn->e, P + cond[t], k, count[t], g_eff + base[t], grads + cond[t], g_e);
        for (size_t j = 0; j < count[t]; j++) grads[base[t] + j] += g_eff[base[t] + j];
    }
    if (a->cond_acts)
        for (int i = 0; i < k; i++) grads[net->cond_act + (size_t)c->act * (size_t)k + (size_t)i] += g_e[i];
    if (c->frame)
        for (int i = 0; i < k; i++) grads[net->cond_frame + (size_t)(c->frame - 1) * (size_t)k + (size_t)i] += g_e[i];
    if (c->any)
        for (int i = 0; i < k; i++) grads[net->cond_any + (size_t)i] += g_e[i];
    else
        for (int s = 0; s < c->n_steps; s++)
            for (int i = 0; i < k; i++) grads[net->cond_table + step_row(a, c, s) * (size_t)k + (size_t)i] += g_e[i];
}

void dws_cond_net_free(dws_cond_net *cn)
{
    free(cn->net.params);
    cn->net.params = NULL;
}

static const dws_activation cond_activations[DWS_COND_MAX_ACTS] = {DWS_ACT_RELU, DWS_ACT_LEAKY_RELU, DWS_ACT_GELU,
                                                                   DWS_ACT_TANH};

const dws_activation *dws_cond_activations(int *n)
{
    *n = DWS_COND_MAX_ACTS;
    return cond_activations;
}

int dws_cond_activation_row(const dws_mlp *m, int n_rows, dws_error *err)
{
    const dws_activation a = m->act[0];
    for (int l = 1; l + 1 < m->n_layers; l++) {
        if (m->act[l] != a) {
            dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "hidden layers mix activations (%s in layer 1, %s in layer %d)",
                          dws_activation_name(a), dws_activation_name(m->act[l]), l + 1);
            return -1;
        }
        if (a == DWS_ACT_LEAKY_RELU && m->leaky_alpha[l] != m->leaky_alpha[0]) {
            dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "hidden layers mix LeakyReLU slopes");
            return -1;
        }
    }
    if (a == DWS_ACT_LEAKY_RELU && m->leaky_alpha[0] != DWS_COND_LEAKY_SLOPE) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "LeakyReLU slope %g (the adapter reads slope %g)",
                      (double)m->leaky_alpha[0], (double)DWS_COND_LEAKY_SLOPE);
        return -1;
    }
    for (int r = 0; r < n_rows && r < DWS_COND_MAX_ACTS; r++)
        if (cond_activations[r] == a) return r;
    char list[96] = "";
    for (int r = 0; r < n_rows && r < DWS_COND_MAX_ACTS; r++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", r ? ", " : "",
                 dws_activation_name(cond_activations[r]));
    dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "hidden activation %s (the adapter reads %s)", dws_activation_name(a),
                  n_rows ? list : "relu");
    return -1;
}
