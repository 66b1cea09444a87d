/* dwsnet corrupt: writes a corrupted copy of a CIFAR-10 split in the binary layout
 * (labels in the original order, pixels rounded to bytes), so an adapted model can
 * be evaluated with any other tool. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "cli_io.h"
#include "commands.h"
#include "options_table.h"

#define CMD "corrupt"
/* Images corrupted per pass: bounds the float buffer at 12 MB. */
#define CHUNK 1000

static int list_types(void)
{
    printf("%-18s %-10s %s\n", "type", "severities", "what");
    for (int k = 0; k < DWS_CORRUPT_COUNT; k++)
        printf("%-18s %-10s %s\n", dws_corruption_name((dws_corruption)k), "1-5", dws_corruption_about((dws_corruption)k));
    return 0;
}

int cmd_corrupt(int argc, char **argv)
{
    corrupt_opts o;
    int status = cli_parse(&cli_corrupt, argc, argv, &o);
    if (status >= 0) return status;
    if (o.list) return list_types();
    if (!o.out) return cli_usage_error(&cli_corrupt, "--out is required");
    const char *data_dir = o.data ? o.data : dws_data_dir_from_env(), *spec = o.domain, *out = o.out;
    dws_split split = (dws_split)o.split;
    uint64_t seed = o.seed;
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
