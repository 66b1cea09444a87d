/* dwsnet corrupt: writes a corrupted copy of a CIFAR-10 split in the binary layout
 * (labels in the original order, pixels rounded to bytes), so an adapted model can
 * be evaluated with any other tool. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data_cli.h"

#define CMD "corrupt"
/* Images corrupted per pass: bounds the float buffer at 12 MB. */
#define CHUNK 1000

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet " CMD " [--data DIR] [--split test|train] [--domain SPEC] [--seed N] --out FILE\n\n"
            "Corrupts every image of a CIFAR-10 split and writes the result in the CIFAR-10 binary\n"
            "layout (1 label byte + 3072 pixel bytes per record, labels in the original order,\n"
            "pixels round(255 x)); FILE ending in .gz is gzip-compressed, '-' is stdout.\n"
            "Prints a JSON summary on stdout when writing to a file.\n"
            "  --data DIR     CIFAR-10 binary folder (default $DWSNET_DATA)\n"
            "  --split S      test (default) or train\n"
            "  --domain SPEC  corruptions applied in order, name:severity (1-5), comma-separated;\n"
            "                 default %s. Names: %s\n"
            "  --seed N       noise seed (default 0); image i of the split always gets the same noise\n",
            DWS_DEFAULT_DOMAIN, dws_corruption_names());
}

int cmd_corrupt(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},   {"split", required_argument, 0, 'p'},
        {"domain", required_argument, 0, 'D'}, {"seed", required_argument, 0, 's'},
        {"out", required_argument, 0, 'o'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *data_dir = dws_data_dir_from_env(), *spec = DWS_DEFAULT_DOMAIN, *out = NULL;
    dws_split split = DWS_SPLIT_TEST;
    uint64_t seed = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1;) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'p':
            if (dws_split_parse(optarg, &split)) return data_cli_usage(CMD, "--split must be test or train, got '%s'", optarg);
            break;
        case 'D': spec = optarg; break;
        case 's': if (data_cli_u64(CMD, "--seed", optarg, &seed)) return 2; break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) return data_cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!out) return data_cli_usage(CMD, "--out FILE is required");

    dws_error err = {0};
    dws_domain domain;
    if (dws_domain_parse(spec, &domain, &err)) return cli_fail(CMD, &err);
    dws_image_set set;
    if (dws_cifar10_load_split(data_dir, split, &set, &err)) return cli_fail(CMD, &err);
    float *x = malloc((size_t)CHUNK * set.dim * sizeof(float));
    if (!x) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot allocate a %d-image buffer", CHUNK);
        goto fail;
    }
    /* Corrupted bytes replace the clean ones in place, chunk by chunk. */
    for (size_t first = 0; first < set.n; first += CHUNK) {
        size_t n = set.n - first < CHUNK ? set.n - first : CHUNK;
        dws_image_set_to_float(&set, first, n, x);
        if (dws_domain_apply(&domain, set.channels, set.height, set.width, x, n, seed, first, &err)) goto fail;
        dws_float_to_pixels(x, n * set.dim, set.pixels + first * set.dim);
    }
    if (dws_cifar10_write(out, set.labels, set.pixels, set.n, &err)) goto fail;
    if (strcmp(out, "-")) {
        char name[256];
        dws_domain_format(&domain, name, sizeof name);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "out", out);
        cJSON_AddStringToObject(o, "split", dws_split_name(split));
        cJSON_AddNumberToObject(o, "images", (double)set.n);
        cJSON_AddStringToObject(o, "domain", name);
        char seed_text[24];
        snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
        cJSON_AddRawToObject(o, "seed", seed_text);   /* exact: a double would round 64-bit seeds */
        cli_print_json(o);
    }
    free(x);
    dws_image_set_free(&set);
    return 0;
fail:
    free(x);
    dws_image_set_free(&set);
    return cli_fail(CMD, &err);
}
