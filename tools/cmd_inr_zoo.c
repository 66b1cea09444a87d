/* dwsnet inr-zoo: the paper's sine-wave INR zoo (Navon et al., experiment 2):
 * 1-32-32-1 MLPs fitted to a sin(b x), a, b ~ U[0, 10], in the zoo layout. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_io.h"
#include "embedder_cli.h"
#include "inr_sine.h"
#include "model_cli.h"
#include "onnx_codec.h"
#include "rng.h"

#define CMD "inr-zoo"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet inr-zoo --count N --out DIR [options]\n\n"
            "Fits N MLPs 1-H-H-1 (ReLU) to y = a sin(b x) on a grid of x in [-pi, pi], with a and b\n"
            "drawn from U[0, 10] per network, and writes them as a zoo: DIR/models/NNNNNN.onnx\n"
            "(a and b also in the ONNX metadata) and DIR/index.jsonl, one record per network\n"
            "with id, file, split (train 70%%, val 15%%, test 15%%), widths, a, b, fit_mse.\n\n"
            "  --seed S     draws of a, b, split and initialisation (0)\n"
            "  --hidden H   hidden width (32)\n"
            "  --points P   grid points (256)\n"
            "  --steps N    full-batch Adam steps per network (2000)\n"
            "  --lr X       Adam learning rate, cosine-decayed to X/10 (0.01)\n"
            "Prints {\"count\", \"dir\", \"mean_fit_mse\"} as JSON.\n");
}

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
    int rc = cli_write_file(path, buf, len, err);
    free(buf);
    return rc;
}

static const char *split_of(double u)
{
    return u < 0.7 ? "train" : u < 0.85 ? "val" : "test";
}

int cmd_inr_zoo(int argc, char **argv)
{
    const char *out = NULL;
    long count = 0, seed = 0, v;
    dws_inr_config cfg = dws_inr_defaults();
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *val;
        int status = cli_flag_value(CMD, argc, argv, usage, &i, &val);
        if (status >= 0) return status;
        int rc = 0;
        if (!strcmp(f, "--out")) out = val;
        else if (!strcmp(f, "--count")) rc = model_cli_int(CMD, f, val, 1, 1000000, &count);
        else if (!strcmp(f, "--seed")) rc = model_cli_int(CMD, f, val, 0, 0x7fffffffL, &seed);
        else if (!strcmp(f, "--hidden")) rc = model_cli_int(CMD, f, val, 1, 4096, &v), cfg.hidden = (int)v;
        else if (!strcmp(f, "--points")) rc = model_cli_int(CMD, f, val, 2, 1 << 20, &v), cfg.points = (int)v;
        else if (!strcmp(f, "--steps")) rc = model_cli_int(CMD, f, val, 0, 10000000, &v), cfg.steps = (int)v;
        else if (!strcmp(f, "--lr")) rc = embedder_cli_float(CMD, f, val, 1e-8, 10, &cfg.lr);
        else return cli_unknown_option(CMD, f);
        if (rc != 0) return 2;
    }
    if (!out || count < 1) return cli_missing_option(CMD, usage, "--count and --out are required");
    dws_error err;
    char path[4096];
    snprintf(path, sizeof path, "%s/models", out);
    if ((mkdir(out, 0777) != 0 && errno != EEXIST) || (mkdir(path, 0777) != 0 && errno != EEXIST)) {
        dws_error_set(&err, DWS_E_IO, "cannot create %s: %s", path, strerror(errno));
        return cli_fail(CMD, &err);
    }
    char *index = NULL;
    size_t index_len = 0;
    FILE *idx = open_memstream(&index, &index_len);
    double total_mse = 0;
    int rc = idx ? 0 : -1;
    if (!idx) dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot buffer the index");
    for (long i = 0; i < count && rc == 0; i++) {
        dws_rng rng;
        dws_rng_seed_stream(&rng, (uint64_t)seed, (uint64_t)i);
        double u = dws_rng_uniform(&rng), a = 10 * dws_rng_uniform(&rng), b = 10 * dws_rng_uniform(&rng), mse;
        dws_mlp m;
        if (dws_inr_fit_sine(&cfg, a, b, dws_rng_u64(&rng), &m, &mse, &err) != 0) {
            rc = -1;
            break;
        }
        rc = write_entry(out, (int)i, &m, a, b, &err);
        dws_mlp_free(&m);
        total_mse += mse;
        fprintf(idx,
                "{\"id\":%ld,\"file\":\"models/%06ld.onnx\",\"split\":\"%s\",\"widths\":[1,%d,%d,1],\"a\":%.17g,"
                "\"b\":%.17g,\"fit_mse\":%.9g}\n",
                i, i, split_of(u), cfg.hidden, cfg.hidden, a, b, mse);
        if ((i + 1) % 100 == 0 || i + 1 == count)
            fprintf(stderr, "inr-zoo: %ld/%ld fitted, mean mse %.4g\n", i + 1, count, total_mse / (double)(i + 1));
    }
    if (idx) fclose(idx);
    snprintf(path, sizeof path, "%s/index.jsonl", out);
    if (rc == 0) rc = cli_write_file(path, index, index_len, &err);
    free(index);
    if (rc != 0) return cli_fail(CMD, &err);
    printf("{\"count\":%ld,\"dir\":\"%s\",\"mean_fit_mse\":%.6g}\n", count, out, total_mse / (double)count);
    return 0;
}
