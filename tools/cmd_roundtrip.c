/* dwsnet roundtrip: decode an ONNX MLP to the weight space and encode it back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "onnx/onnx_codec.h"
#include "base/base.h"

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

int cmd_roundtrip(int argc, char **argv)
{
    roundtrip_opts o;
    int status = cli_parse(&cli_roundtrip, argc, argv, &o);
    if (status >= 0) return status;
    const char *in = o.in, *out = o.out;
    double sigma = o.perturb;
    unsigned long long seed = o.seed;
    int provenance = !o.no_provenance, rebuild = o.rebuild;
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
        rc = dws_write_file_atomic(out, bytes, len, &err) == 0 ? 0 : cli_fail("roundtrip", &err);
        free(bytes);
    }
    dws_mlp_free(&w);
out:
    dws_onnx_free(m);
    return rc;
}
