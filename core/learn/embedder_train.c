#include "learn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nt_xent.h"
#include "ws/ws.h"
#include "base/base.h"

dws_embedder_config dws_embedder_defaults(void)
{
    return (dws_embedder_config){
        .steps = 10000, .groups = 4, .group_size = 8, .lr = 1e-3f, .warmup = 100,
        .temperature = 0.1f, .view = dws_view_defaults(), .seed = 0, .threads = 0,
    };
}

void dws_embedder_fit_norm(dws_net *net, const dws_mlp *const *nets, int n)
{
    for (int t = 0; t < net->arch.depth; t++)
        for (int bias = 0; bias < 2; bias++) {
            double s = 0, ss = 0, count = 0;
            for (int i = 0; i < n; i++) {
                const dws_mlp *m = nets[i];
                size_t k = (size_t)m->widths[t + 1] * (bias ? 1 : (size_t)m->widths[t]);
                const float *v = bias ? m->b[t] : m->W[t];
                for (size_t j = 0; j < k; j++) s += v[j], ss += (double)v[j] * v[j];
                count += (double)k;
            }
            double mean = count > 0 ? s / count : 0, var = count > 0 ? ss / count - mean * mean : 1;
            net->norm_mean[2 * t + bias] = (float)mean;
            net->norm_std[2 * t + bias] = (float)(var > 1e-20 ? sqrt(var) : 1.0);
        }
}

/* x (K x d0): a Latin hypercube in [lo, hi]^d0: along every coordinate each of K
 * equal strata holds exactly one probe. Plain uniform draws leave gaps by chance
 * (32 draws on a line typically leave one a fifth of the range wide), and what a
 * network does in a gap no probe sees; the seed then decides what the encoder can
 * read (sine INRs: linear R^2 of a from the outputs, 0.91 or 0.84 by seed). */
static void latin_hypercube(float *x, int K, size_t d0, float lo, float hi, uint64_t seed)
{
    uint32_t stratum[4096];   /* K <= 4096: dws_net refuses more probes */
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    for (size_t j = 0; j < d0; j++) {
        for (int k = 0; k < K; k++) stratum[k] = (uint32_t)k;
        dws_rng_shuffle_u32(&rng, stratum, (uint32_t)K);
        for (int k = 0; k < K; k++)
            x[(size_t)k * d0 + j] = lo + (hi - lo) * (float)((stratum[k] + dws_rng_uniform(&rng)) / K);
    }
}

void dws_embedder_init_probes(dws_net *net, const float *rows, int n_rows, float lo, float hi, uint64_t seed,
                              const dws_mlp *const *nets, int n)
{
    const int K = net->arch.probes;
    const size_t d0 = (size_t)net->arch.d0, dL = (size_t)net->arch.dL;
    float *x = net->params + net->probe_x;
    if (rows && n_rows > 0) {
        for (int k = 0; k < K; k++)
            for (size_t j = 0; j < d0; j++) x[(size_t)k * d0 + j] = rows[(size_t)(k % n_rows) * d0 + j];
    } else {
        latin_hypercube(x, K, d0, lo, hi, seed);
    }
    /* The scale from at most 256 networks: enough for one number, cheap for big zoos. */
    double ss = 0, count = 0;
    float *out = malloc(sizeof(float) * (size_t)K * dL), *scratch = NULL;
    for (int i = 0; out && i < n && i < 256; i++) {
        const dws_mlp *m = nets[i];
        float *s2 = realloc(scratch, sizeof(float) * dws_mlp_scratch_floats(m, K));
        if (!s2) break;
        scratch = s2;
        dws_probe_outputs(m, x, K, 1.f, out, scratch);
        for (size_t j = 0; j < (size_t)K * dL; j++) ss += (double)out[j] * out[j], count++;
    }
    free(out);
    free(scratch);
    double rms = count > 0 ? sqrt(ss / count) : 0;
    net->arch.probe_scale = rms > 1e-12 && rms < 1e12 ? (float)(1.0 / rms) : 1.f;   /* of the features at scale 1 */
}

/* One step's networks: groups of indices into nets, each group of one width
 * class, no network twice (a repeat would be a false negative). */
typedef struct {
    int n_items, n_groups;
    int *item;                  /* n_items indices into nets */
    int start[65];              /* group g: item[start[g] .. start[g + 1]) */
} step_batch;

static void draw_batch(const dws_mlp *const *nets, int n, const dws_embedder_config *cfg, dws_rng *rng,
                       uint32_t *order, char *used, step_batch *sb)
{
    for (int i = 0; i < n; i++) order[i] = (uint32_t)i;
    dws_rng_shuffle_u32(rng, order, (uint32_t)n);
    memset(used, 0, (size_t)n);
    sb->n_items = sb->n_groups = 0;
    for (int i = 0; i < n && sb->n_groups < cfg->groups; i++) {
        if (used[order[i]]) continue;
        const dws_mlp *anchor = nets[order[i]];
        sb->start[sb->n_groups] = sb->n_items;
        for (int j = i, got = 0; j < n && got < cfg->group_size; j++)
            if (!used[order[j]] && dws_mlp_same_shape(anchor, nets[order[j]])) {
                used[order[j]] = 1;
                sb->item[sb->n_items++] = (int)order[j];
                got++;
            }
        sb->n_groups++;
    }
    sb->start[sb->n_groups] = sb->n_items;
}

/* Both views of every network of group g in one tensor: view 1 of each, then view 2. */
static int group_input(const step_batch *sb, int g, dws_mlp *views, dws_ws *in, dws_error *err)
{
    int b = sb->start[g + 1] - sb->start[g], total = sb->n_items;
    const dws_mlp *ptr[2 * 64];
    for (int k = 0; k < b; k++) {
        ptr[k] = &views[sb->start[g] + k];
        ptr[b + k] = &views[total + sb->start[g] + k];
    }
    return dws_ws_from_mlps(in, ptr, 2 * b, err);
}

/* Rows of group g in the step's 2n x D matrix <-> its own 2b x D block. */
static void group_rows(const step_batch *sb, int g, int D, float *step_rows, float *block, int to_block)
{
    int b = sb->start[g + 1] - sb->start[g], n = sb->n_items;
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < b; k++) {
            float *s = step_rows + ((size_t)v * n + sb->start[g] + k) * D, *o = block + ((size_t)v * b + k) * D;
            if (to_block) memcpy(o, s, sizeof(float) * D);
            else memcpy(s, o, sizeof(float) * D);
        }
}

typedef struct {
    dws_mlp *views;
    int n_views;
    dws_ws in[64];
    int n_in;
} step_mem;

static void step_mem_free(step_mem *m)
{
    for (int i = 0; i < m->n_views; i++) dws_mlp_free(&m->views[i]);
    for (int i = 0; i < m->n_in; i++) dws_ws_free(&m->in[i]);
    m->n_views = m->n_in = 0;
}

/* Buffers of one group: embeddings, and with a projection head its hidden layer,
 * its output and their gradients (2 x group_size rows each). */
typedef struct {
    float *emb, *hid, *z, *d_emb, *d_hid;
} group_bufs;

/* What NT-Xent reads of group g's forward: the embeddings, or their projection. */
static float *contrasted(const dws_net *net, int rows, group_bufs *gb)
{
    if (!net->arch.proj_hidden) return gb->emb;
    dws_projection_forward(net, gb->emb, rows, gb->hid, gb->z);
    return gb->z;
}

static int run_step(dws_net *net, dws_optim *opt, int64_t step, const dws_mlp *const *nets, const step_batch *sb,
                    const dws_embedder_config *cfg, dws_rng *rng, dws_net_state *st, step_mem *mem, float *grads,
                    float *Z, float *dZ, group_bufs *gb, float *ws, dws_train_progress *out, dws_error *err)
{
    const int n = sb->n_items, D = net->arch.embed_dim;
    for (int v = 0; v < 2 * n; v++) {
        const dws_mlp *src = nets[sb->item[v % n]];
        if (dws_mlp_init(&mem->views[v], src->n_layers, src->widths, err) != 0) return -1;
        mem->n_views = v + 1;
        memcpy(mem->views[v].act, src->act, sizeof src->act);
        memcpy(mem->views[v].leaky_alpha, src->leaky_alpha, sizeof src->leaky_alpha);
        if (dws_view_make(&cfg->view, src, &mem->views[v], rng, err) != 0) return -1;
    }
    for (int g = 0; g < sb->n_groups; g++) {
        if (group_input(sb, g, mem->views, &mem->in[g], err) != 0) return -1;
        mem->n_in = g + 1;
        if (dws_encoder_forward(net, &mem->in[g], gb->emb, st, err) != 0) return -1;
        group_rows(sb, g, D, Z, contrasted(net, mem->in[g].batch, gb), 0);
    }
    out->loss = dws_nt_xent(Z, n, D, cfg->temperature, dZ, &out->acc, ws);
    memset(grads, 0, sizeof(float) * net->n_params);
    for (int g = sb->n_groups - 1; g >= 0; g--) {   /* the last group's activations are still in st */
        const int rows = mem->in[g].batch;
        if (g + 1 < sb->n_groups && dws_encoder_forward(net, &mem->in[g], gb->emb, st, err) != 0) return -1;
        float *d_emb = gb->d_emb;
        if (net->arch.proj_hidden) {
            contrasted(net, rows, gb);   /* hid of this group again; z is then free for dLoss/dz */
            group_rows(sb, g, D, dZ, gb->z, 1);
            dws_projection_backward(net, gb->emb, gb->hid, rows, gb->z, grads, gb->d_emb, gb->d_hid);
        } else {
            group_rows(sb, g, D, dZ, d_emb, 1);
        }
        if (dws_encoder_backward(net, st, d_emb, grads, NULL, err) != 0) return -1;
    }
    /* warm-up, then cosine to lr / 20 */
    const dws_lr_schedule lr = {.kind = DWS_LR_WARMUP_COSINE, .lr = cfg->lr, .warmup = cfg->warmup,
                                .steps = cfg->steps, .floor = 0.05};
    out->lr = dws_lr_at(&lr, step);
    opt->cfg.lr = (float)out->lr;
    dws_optim_step(opt, net->params, grads, &out->grad_norm);
    out->step = step + 1;
    out->batch = n;
    return 0;
}

static int check_config(const dws_net *net, int n, const dws_embedder_config *c, dws_error *err)
{
    if (net->arch.kind != DWS_MODEL_ENCODER) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "embedder training needs an encoder");
        return -1;
    }
    if (c->groups < 1 || c->groups > 64 || c->group_size < 1 || c->group_size > 64 || c->steps < 0 ||
        c->warmup < 1 || !(c->lr > 0.f) || !(c->temperature > 0.f)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT,
                      "embedder training: groups 1..64, group size 1..64, warm-up >= 1, lr and temperature > 0");
        return -1;
    }
    if (n < 2) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "contrastive training needs at least 2 networks, got %d", n);
        return -1;
    }
    return 0;
}

int dws_embedder_train(dws_net *net, dws_optim *opt, int64_t start_step, const dws_mlp *const *nets, int n,
                       const dws_embedder_config *cfg, dws_train_progress_fn progress, void *ctx, dws_error *err)
{
    if (check_config(net, n, cfg, err) != 0) return -1;
    const int max_items = cfg->groups * cfg->group_size, D = net->arch.embed_dim;
    step_mem mem = {.views = calloc(2 * (size_t)max_items, sizeof(dws_mlp))};
    step_batch sb = {.item = malloc(sizeof(int) * (size_t)max_items)};
    uint32_t *order = malloc(sizeof(uint32_t) * (size_t)n);
    char *used = malloc((size_t)n);
    float *grads = malloc(sizeof(float) * net->n_params);
    float *Z = malloc(sizeof(float) * 2 * (size_t)max_items * D), *dZ = malloc(sizeof(float) * 2 * (size_t)max_items * D);
    const size_t rows = 2 * (size_t)cfg->group_size, P = (size_t)net->arch.proj_hidden;
    group_bufs gb = {.emb = malloc(sizeof(float) * rows * D), .d_emb = malloc(sizeof(float) * rows * D),
                     .z = malloc(sizeof(float) * rows * D), .hid = malloc(sizeof(float) * (rows * P + 1)),
                     .d_hid = malloc(sizeof(float) * (rows * P + 1))};
    float *ws = malloc(sizeof(float) * dws_nt_xent_ws_floats(max_items, D));
    dws_net_state *st = dws_net_state_new(cfg->threads, 1);
    int rc = -1;
    if (!mem.views || !sb.item || !order || !used || !grads || !Z || !dZ || !gb.emb || !gb.d_emb || !gb.z ||
        !gb.hid || !gb.d_hid || !ws || !st) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate embedder training buffers");
        goto done;
    }
    const double t0 = dws_train_seconds();
    for (int64_t step = start_step; step < cfg->steps; step++) {
        dws_rng rng;
        dws_rng_seed_stream(&rng, cfg->seed, (uint64_t)step);
        draw_batch(nets, n, cfg, &rng, order, used, &sb);
        if (sb.n_items < 2) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "a step drew %d networks; contrastive training needs 2",
                          sb.n_items);
            goto done;
        }
        dws_train_progress p = {.steps = cfg->steps};
        int step_rc = run_step(net, opt, step, nets, &sb, cfg, &rng, st, &mem, grads, Z, dZ, &gb, ws, &p, err);
        step_mem_free(&mem);
        if (step_rc != 0) goto done;
        dws_train_progress_time(&p, t0, start_step);
        int said = progress ? progress(ctx, &p, err) : 0;
        if (said < 0) goto done;
        if (said > 0) break;
    }
    rc = 0;
done:
    step_mem_free(&mem);
    dws_net_state_free(st);
    free(mem.views);
    free(sb.item);
    free(order);
    free(used);
    free(grads);
    free(Z);
    free(dZ);
    free(gb.emb);
    free(gb.d_emb);
    free(gb.z);
    free(gb.hid);
    free(gb.d_hid);
    free(ws);
    return rc;
}

int dws_embedder_embed_all(const dws_net *net, const dws_mlp *const *nets, int n, int batch, int threads, float *emb,
                           dws_error *err)
{
    const int D = net->arch.embed_dim;
    char *done = calloc((size_t)n + 1, 1);
    const dws_mlp **group = malloc(sizeof(*group) * (size_t)(batch > 0 ? batch : 1));
    int *rows = malloc(sizeof(int) * (size_t)(batch > 0 ? batch : 1));
    float *out = malloc(sizeof(float) * (size_t)(batch > 0 ? batch : 1) * D);
    dws_net_state *st = dws_net_state_new(threads, 0);
    int rc = -1;
    if (!done || !group || !rows || !out || !st || batch < 1) {
        dws_error_set(err, batch < 1 ? DWS_E_INVALID_ARGUMENT : DWS_E_OUT_OF_MEMORY, "cannot embed: batch %d", batch);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (done[i]) continue;
        int b = 0;
        for (int j = i; j < n && b < batch; j++)
            if (!done[j] && dws_mlp_same_shape(nets[i], nets[j])) {
                done[j] = 1;
                rows[b] = j;
                group[b++] = nets[j];
            }
        dws_ws in;
        if (dws_ws_from_mlps(&in, group, b, err) != 0) goto done;
        int frc = dws_encoder_forward(net, &in, out, st, err);
        dws_ws_free(&in);
        if (frc != 0) goto done;
        for (int k = 0; k < b; k++) memcpy(emb + (size_t)rows[k] * D, out + (size_t)k * D, sizeof(float) * D);
    }
    rc = 0;
done:
    dws_net_state_free(st);
    free(done);
    free(group);
    free(rows);
    free(out);
    return rc;
}
