/* One parameter set for MLPs of several depths: the depth-L network of a
 * depth-range adapter, tied to the stored depth-3 parameters (ws.h, dws depth;
 * docs/design.md section 16). */
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dws_net_reads_depth(const dws_net *net, int L)
{
    const dws_arch *a = &net->arch;
    return a->depth_max ? L >= a->depth_min && L <= a->depth_max : L == a->depth;
}

/* The stored layer (0: input, 1: interior, 2: output) that layer t of a depth-L
 * MLP reads. */
static int stored_layer(int L, int t)
{
    return t == 0 ? 0 : t == L - 1 ? 2 : 1;
}

int dws_depth_tensor_kind(const dws_net *net, int L, int k)
{
    if (!net->arch.depth_max) return k;
    return 2 * stored_layer(L, k / 2) + k % 2;
}

/* Stored global slot of global slot s of a depth-L axes ax (stored axes ax3), and
 * how many depth-L slots read it. */
static int stored_slot(const dws_axes *ax, const dws_axes *ax3, int s, int *readers)
{
    const int L = ax->n_layers;
    for (int t = 0; t < L; t++) {
        const int u = stored_layer(L, t);
        const int nW = (int)(ax->s[t + 1] * ax->s[t]), nb = (int)ax->s[t + 1];
        *readers = u == 1 ? L - 2 : 1;
        if (s >= ax->gW[t] && s < ax->gW[t] + nW) return ax3->gW[u] + (s - ax->gW[t]);
        if (s >= ax->gb[t] && s < ax->gb[t] + nb) return ax3->gb[u] + (s - ax->gb[t]);
    }
    return -1;   /* not reached: every slot belongs to a tensor */
}

/* The stored tensor that depth-L tensor `name` reads whole (same shape), or NULL
 * when it is one of the tensors tied slot by slot (G, bias, alpha columns). */
static const char *stored_name(int L, const char *name, char *buf, size_t cap)
{
    int l, i;
    char rest[16];
    if (sscanf(name, "layer%d.%15s", &l, rest) == 2 && sscanf(rest, "E%d", &i) == 1) {
        snprintf(buf, cap, "layer%d.E%d", l, i == 0 ? 0 : 1);
        return buf;
    }
    if (sscanf(name, "layer%d.%15s", &l, rest) == 2 && sscanf(rest, "M%d", &i) == 1) {
        if (i == 0) snprintf(buf, cap, "layer%d.M0", l);
        else if (L == 2) snprintf(buf, cap, "layer%d.Mone", l);
        else if (i == 1 || i == L - 1) snprintf(buf, cap, "layer%d.M%d", l, i == 1 ? 1 : 2);
        else snprintf(buf, cap, "layer%d.Mint", l);
        return buf;
    }
    return name;
}

/* Ties every parameter of dn->net to the stored one it reads. */
static int build_map(dws_depth_net *dn, const dws_net *shared, int L, dws_error *err)
{
    const dws_net *net = &dn->net;
    const dws_axes *ax = &net->slots, *ax3 = &shared->slots;
    for (int i = 0; i < net->table.n; i++) {
        const dws_param_tensor *t = &net->table.t[i];
        char buf[64];
        const char *dot = strrchr(t->name, '.');
        const char *kind = dot ? dot + 1 : t->name;
        const dws_param_tensor *s = dws_param_table_find(&shared->table, stored_name(L, t->name, buf, sizeof buf));
        if (!s) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "depth %d: no stored tensor for '%s'", L, t->name);
            return -1;
        }
        uint32_t *src = dn->src + t->offset;
        float *f = dn->factor + t->offset;
        if (!strcmp(kind, "G") || !strcmp(kind, "bias")) {
            int l;
            sscanf(t->name, "layer%d.", &l);
            const int64_t ci = shared->layers[l].c_in, co = shared->layers[l].c_out, A = ax->n_global,
                          A3 = ax3->n_global;
            for (int64_t j = 0; j < A; j++) {   /* target slot */
                int unused, sj = stored_slot(ax, ax3, (int)j, &unused);
                for (int64_t o = 0; o < co; o++) {
                    if (kind[0] == 'b') {
                        src[j * co + o] = (uint32_t)(s->offset + (size_t)(sj * co + o));
                        f[j * co + o] = 1.f;
                        continue;
                    }
                    for (int64_t r = 0; r < A; r++) {   /* source slot: the mean over its readers */
                        int readers, sr = stored_slot(ax, ax3, (int)r, &readers);
                        for (int64_t c = 0; c < ci; c++) {
                            size_t at = (size_t)((r * ci + c) * A * co + j * co + o);
                            src[at] = (uint32_t)(s->offset + (size_t)((sr * ci + c) * A3 * co + sj * co + o));
                            f[at] = 1.f / (float)readers;
                        }
                    }
                }
            }
        } else if (!strcmp(t->name, "adapter.alpha") || !strcmp(t->name, "cond.alpha")) {
            const size_t cols = (size_t)(2 * L), rows = t->count / cols, cols3 = (size_t)(2 * shared->arch.depth);
            for (size_t r = 0; r < rows; r++)
                for (size_t c = 0; c < cols; c++) {
                    src[r * cols + c] = (uint32_t)(s->offset + r * cols3 + (size_t)dws_depth_tensor_kind(shared, L, (int)c));
                    f[r * cols + c] = 1.f;
                }
        } else if (s->count == t->count) {
            for (size_t j = 0; j < t->count; j++) {
                src[j] = (uint32_t)(s->offset + j);
                f[j] = 1.f;
            }
        } else {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "depth %d: '%s' has %zu values, its stored '%s' %zu", L, t->name,
                          t->count, s->name, s->count);
            return -1;
        }
    }
    return 0;
}

int dws_depth_net_make(dws_depth_net *dn, const dws_net *shared, int L, dws_error *err)
{
    memset(dn, 0, sizeof *dn);
    const dws_arch *a = &shared->arch;
    if (!a->depth_max || L == a->depth || !dws_net_reads_depth(shared, L)) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "depth %d is not one this adapter materialises", L);
        return -1;
    }
    dws_arch arch = *a;
    arch.depth = L;
    arch.depth_min = arch.depth_max = 0;
    if (dws_net_init(&dn->net, &arch, 0, err) != 0) return -1;
    dn->src = malloc(sizeof(uint32_t) * dn->net.n_params);
    dn->factor = malloc(sizeof(float) * dn->net.n_params);
    if (!dn->src || !dn->factor) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the depth-%d tie", L);
        dws_depth_net_free(dn);
        return -1;
    }
    if (build_map(dn, shared, L, err) != 0) {
        dws_depth_net_free(dn);
        return -1;
    }
    dws_depth_net_refresh(dn, shared);
    return 0;
}

void dws_depth_net_refresh(dws_depth_net *dn, const dws_net *shared)
{
    dws_net *net = &dn->net;
    for (size_t i = 0; i < net->n_params; i++) net->params[i] = dn->factor[i] * shared->params[dn->src[i]];
    for (int k = 0; k < 2 * net->arch.depth; k++) {
        int s = dws_depth_tensor_kind(shared, net->arch.depth, k);
        net->norm_mean[k] = shared->norm_mean[s];
        net->norm_std[k] = shared->norm_std[s];
    }
}

void dws_depth_net_backward(const dws_depth_net *dn, const float *g_depth, float *grads)
{
    for (size_t i = 0; i < dn->net.n_params; i++) grads[dn->src[i]] += dn->factor[i] * g_depth[i];
}

void dws_depth_net_free(dws_depth_net *dn)
{
    dws_net_free(&dn->net);
    free(dn->src);
    free(dn->factor);
    dn->src = NULL;
    dn->factor = NULL;
}

/* Stored slots of feature map `src` (0: M_1, 1: M_2) that feature slot a of a tied
 * map reads when it is seeded (up to 3: the input groups, averaged). */
typedef struct {
    int n, slot[DWS_MAX_IN_GROUPS];
} seed_slots;

/* T (f slots, ci x co per slot pair) = for every slot pair, the mean over M_1 and M_2
 * (f1, f2 slots) of what each holds for the slots the pair reads there (itself a
 * mean over the input groups); 0 where neither has them. */
static void seed_matrix(float *T, int f, const float *M1, int f1, const float *M2, int f2, const seed_slots *map1,
                        const seed_slots *map2, int ci, int co)
{
    const float *src[2] = {M1, M2};
    const int fs[2] = {f1, f2};
    const seed_slots *map[2] = {map1, map2};
    for (int a = 0; a < f; a++)
        for (int b = 0; b < f; b++)
            for (int i = 0; i < ci; i++)
                for (int o = 0; o < co; o++) {
                    double sum = 0;
                    int sources = 0;
                    for (int s = 0; s < 2; s++) {
                        double part = 0;
                        int n = 0;
                        for (int x = 0; x < map[s][a].n; x++)
                            for (int y = 0; y < map[s][b].n; y++, n++)
                                part += src[s][((size_t)map[s][a].slot[x] * ci + i) * (size_t)(fs[s] * co) +
                                               (size_t)map[s][b].slot[y] * co + o];
                        if (n) sum += part / n, sources++;
                    }
                    T[((size_t)a * ci + i) * (size_t)(f * co) + (size_t)b * co + o] =
                        sources ? (float)(sum / sources) : 0.f;
                }
}

void dws_depth_seed(dws_net *net)
{
    const dws_arch *a = &net->arch;
    if (!a->depth_max) return;
    const dws_axes *ax = &net->slots;   /* depth 3: axis 1 first, axis 2 last */
    const int g = (int)ax->s[0], k = (int)ax->s[3], f1 = ax->feat_slots[1], f2 = ax->feat_slots[2];
    seed_slots one1[DWS_MAX_SLOTS] = {{0}}, one2[DWS_MAX_SLOTS] = {{0}}, int1[3] = {{0}}, int2[3] = {{0}};
    /* M_one: input-group rows and the bias as M_1 reads them; the bias and the class
     * columns as M_2 does. */
    for (int s = 0; s <= g; s++) one1[s] = (seed_slots){1, {s}};
    one2[g] = (seed_slots){1, {1}};
    for (int c = 0; c < k; c++) one2[g + 1 + c] = (seed_slots){1, {2 + c}};
    /* M_int: the hidden row and the bias as M_2 reads them; the bias and the hidden
     * column as M_1 does, whose rows are the input groups (their mean). */
    int2[0] = (seed_slots){1, {0}};
    int2[1] = (seed_slots){1, {1}};
    int1[0].n = g;
    for (int s = 0; s < g; s++) int1[0].slot[s] = s;
    int1[1] = (seed_slots){1, {g}};
    int1[2] = (seed_slots){1, {g + 1}};
    for (int l = 0; l < a->n_dws_layers; l++) {
        const dws_layer *ly = &net->layers[l];
        const float *M1 = net->params + ly->M[1], *M2 = net->params + ly->M[2];
        if (a->depth_min == 2)
            seed_matrix(net->params + net->M_one[l], g + 1 + k, M1, f1, M2, f2, one1, one2, ly->c_in, ly->c_out);
        if (a->depth_max >= 4) seed_matrix(net->params + net->M_int[l], 3, M1, f1, M2, f2, int1, int2, ly->c_in, ly->c_out);
    }
}
