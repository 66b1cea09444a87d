/* dwsnet roundtrip: decode an ONNX MLP to the weight space and encode it back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"
#include "onnx/onnx_codec.h"
#include "base/base.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet roundtrip IN.onnx -o OUT.onnx [--perturb SIGMA [--seed N]] [--rebuild]\n"
            "                        [--no-provenance]\n\n"
            "Decodes IN.onnx to the weight space and encodes it back into the same tensors,\n"
            "leaving every other part of the model as it was. Unchanged weights keep their exact\n"
            "stored bits (whatever the type: FLOAT, DOUBLE, FLOAT16, BFLOAT16). OUT.onnx records\n"
            "dwsnet.version and dwsnet.operation in metadata_props (unless --no-provenance).\n\n"
            "  --perturb SIGMA  add Gaussian noise N(0, SIGMA^2) to every weight and bias before\n"
            "                   encoding (deterministic for a --seed; default seed 1). A check that\n"
            "                   new weights really reach the file: compare with `dwsnet forward`.\n"
            "  --rebuild        write a fresh model instead, as torch.onnx.export writes\n"
            "                   nn.Sequential(Flatten, Linear, ReLU, ..., Linear): Gemm layers, FLOAT\n"
            "                   raw_data, opset 13, input 'input' [N, d0], output 'logits', no head\n"
            "  -o -             write the model to stdout\n");
}

/* splitmix64: a deterministic stream for --perturb. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_gaussian(uint64_t *s)
{
    double u1 = ((double)(next_u64(s) >> 11) + 1.0) / 9007199254740993.0;   /* (0, 1] */
    double u2 = (double)(next_u64(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int parse_seed(const char *s, unsigned long long *out)
{
    char *end;
    *out = strtoull(s, &end, 10);
    return *s >= '0' && *s <= '9' && !*end;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *s && !*end && isfinite(*out);
}

int cmd_roundtrip(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    double sigma = 0;
    unsigned long long seed = 1;
    int provenance = 1, rebuild = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") && has_value) {
            out = argv[++i];
        } else if (!strcmp(a, "--perturb") && has_value && parse_double(argv[i + 1], &sigma) && sigma >= 0) {
            i++;
        } else if (!strcmp(a, "--seed") && has_value && parse_seed(argv[i + 1], &seed)) {
            i++;
        } else if (!strcmp(a, "--rebuild")) {
            rebuild = 1;
        } else if (!strcmp(a, "--no-provenance")) {
            provenance = 0;
        } else if ((a[0] != '-' || !a[1]) && !in) {
            in = a;
        } else {
            fprintf(stderr, "dwsnet roundtrip: invalid_argument: unexpected argument %s (see --help)\n", a);
            return 2;
        }
    }
    if (!in || !out) {
        usage(stderr);
        return 2;
    }
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode_file(in, NULL, &err);
    if (!m) return cli_fail("roundtrip", &err);
    dws_mlp w;
    int rc = 1;
    if (dws_mlp_clone(&w, dws_onnx_weights(m), &err) != 0) {
        cli_fail("roundtrip", &err);
        goto out;
    }
    uint64_t state = seed;
    if (sigma > 0)
        for (size_t i = 0; i < w.n_params; i++) w.params[i] += (float)(sigma * next_gaussian(&state));
    char operation[96];
    snprintf(operation, sizeof operation, "roundtrip%s", rebuild ? " --rebuild" : "");
    if (sigma > 0)
        snprintf(operation + strlen(operation), sizeof operation - strlen(operation), " --perturb %g --seed %llu",
                 sigma, seed);
    dws_kv meta[] = {{"dwsnet.version", DWS_VERSION}, {"dwsnet.operation", operation}};
    size_t n_meta = provenance ? 2 : 0;
    uint8_t *bytes;
    size_t len;
    int encoded = rebuild ? dws_onnx_build(&w, "dwsnet", meta, n_meta, &bytes, &len, &err)
                          : dws_onnx_encode(m, &w, meta, n_meta, &bytes, &len, &err);
    if (encoded != 0) {
        cli_fail("roundtrip", &err);
    } else {
        rc = cli_write_file(out, bytes, len, &err) == 0 ? 0 : cli_fail("roundtrip", &err);
        free(bytes);
    }
    dws_mlp_free(&w);
out:
    dws_onnx_free(m);
    return rc;
}
