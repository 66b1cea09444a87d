/* dwsnet inr-zoo: the paper's sine-wave INR zoo (Navon et al., experiment 2):
 * 1-32-32-1 MLPs fitted to a sin(b x), a, b ~ U[0, 10], in the zoo layout. */
#include <cblas.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "zoo/zoo.h"
#include "onnx/onnx_codec.h"
#include "base/base.h"

#define CMD "inr-zoo"

static int write_entry(const char *dir, int id, const dws_mlp *m, double a, double b, dws_error *err)
{
    char path[4096], av[32], bv[32];
    snprintf(av, sizeof av, "%.17g", a);
    snprintf(bv, sizeof bv, "%.17g", b);
    dws_kv meta[2] = {{"a", av}, {"b", bv}};
    uint8_t *buf = NULL;
    size_t len = 0;
    if (dws_onnx_build(m, "dwsnet inr-zoo", meta, 2, &buf, &len, err) != 0) return -1;
    snprintf(path, sizeof path, "%s/models/%06d.onnx", dir, id);
    int rc = dws_write_file_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

static const char *split_of(double u)
{
    return u < 0.7 ? "train" : u < 0.85 ? "val" : "test";
}

/* One network's draws and fit. Everything about network i comes from the stream
 * (seed, i), so the zoo is the same bits whatever --jobs is. */
typedef struct {
    double u, a, b, mse;
} inr_entry;

typedef struct {
    const char *out;
    const dws_inr_config *cfg;
    uint64_t seed;
    long count;
    inr_entry *entries;
    atomic_long fitted;
    atomic_int failed;   /* set by the first failure, which alone writes err; no fit starts after it */
    dws_error err;
} inr_job;

static void fit_one(void *ctx, int part, int thread)
{
    (void)thread;
    inr_job *job = ctx;
    inr_entry *e = &job->entries[part];
    if (atomic_load(&job->failed)) return;
    dws_rng rng;
    dws_rng_seed_stream(&rng, job->seed, (uint64_t)part);
    e->u = dws_rng_uniform(&rng);
    e->a = 10 * dws_rng_uniform(&rng);
    e->b = 10 * dws_rng_uniform(&rng);
    dws_mlp m;
    dws_error err;
    int rc = dws_inr_fit_sine(job->cfg, e->a, e->b, dws_rng_u64(&rng), &m, &e->mse, &err);
    if (rc == 0) {
        rc = write_entry(job->out, part, &m, e->a, e->b, &err);
        dws_mlp_free(&m);
    }
    if (rc != 0) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&job->failed, &expected, 1)) job->err = err;
        return;
    }
    long done = atomic_fetch_add(&job->fitted, 1) + 1;
    if (done % 100 == 0 || done == job->count) fprintf(stderr, "inr-zoo: %ld/%ld fitted\n", done, job->count);
}

/* index.jsonl in id order, written once every network is on disk. */
static int write_index(const char *out, const inr_job *job, double *mean_mse, dws_error *err)
{
    char *index = NULL, path[4096];
    size_t index_len = 0;
    FILE *idx = open_memstream(&index, &index_len);
    if (!idx) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot buffer the index");
        return -1;
    }
    double total = 0;
    for (long i = 0; i < job->count; i++) {
        const inr_entry *e = &job->entries[i];
        total += e->mse;
        fprintf(idx,
                "{\"id\":%ld,\"file\":\"models/%06ld.onnx\",\"split\":\"%s\",\"widths\":[1,%d,%d,1],\"a\":%.17g,"
                "\"b\":%.17g,\"fit_mse\":%.9g}\n",
                i, i, split_of(e->u), job->cfg->hidden, job->cfg->hidden, e->a, e->b, e->mse);
    }
    fclose(idx);
    *mean_mse = total / (double)job->count;
    snprintf(path, sizeof path, "%s/index.jsonl", out);
    int rc = dws_write_file_atomic(path, index, index_len, err);
    free(index);
    return rc;
}

int cmd_inr_zoo(int argc, char **argv)
{
    inr_zoo_opts o;
    int status = cli_parse(&cli_inr_zoo, argc, argv, &o);
    if (status >= 0) return status;
    const char *out = o.out;
    long count = o.count;
    dws_inr_config cfg = dws_inr_defaults();
    cfg.hidden = (int)o.hidden;
    cfg.points = (int)o.points;
    cfg.steps = (int)o.steps;
    cfg.lr = o.lr;
    dws_error err;
    char path[4096];
    snprintf(path, sizeof path, "%s/models", out);
    if ((mkdir(out, 0777) != 0 && errno != EEXIST) || (mkdir(path, 0777) != 0 && errno != EEXIST)) {
        dws_error_set(&err, DWS_E_IO, "cannot create %s: %s", path, strerror(errno));
        return cli_fail(CMD, &err);
    }
    inr_job job = {.out = out, .cfg = &cfg, .seed = (uint64_t)o.seed, .count = count,
                   .entries = calloc((size_t)count, sizeof(inr_entry))};
    if (!job.entries) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot hold %ld index records", count);
        return cli_fail(CMD, &err);
    }
    int threads = dws_threads_for_call((int)o.jobs, DWS_MAX_THREADS);
    /* Parallelism comes from fitting several networks at once; each product is tiny. */
    if (threads > 1) openblas_set_num_threads(1);
    dws_parallel_parts((int)count, threads, fit_one, &job);
    int rc = atomic_load(&job.failed) ? -1 : 0;
    if (rc != 0) err = job.err;   /* the workers have joined: no one writes it any more */
    double mean_mse = 0;
    if (rc == 0) rc = write_index(out, &job, &mean_mse, &err);
    free(job.entries);
    if (rc != 0) return cli_fail(CMD, &err);
    printf("{\"count\":%ld,\"dir\":\"%s\",\"mean_fit_mse\":%.6g}\n", count, out, mean_mse);
    return 0;
}
