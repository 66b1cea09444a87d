/* dwsnet corrupt: writes a corrupted copy of a CIFAR-10 split (or of a range of its
 * images) in the binary layout (labels in the original order, pixels rounded to
 * bytes), so an adapted model can be evaluated with any other tool; or each image as a
 * PNG or JPEG file in a folder, e.g. to try `dwsnet estimate-domain`. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Images first..first+n-1 of the corrupted set as OUT/IIIII.png or .jpg (I: the index in the split). */
static int write_files(const dws_image_set *set, size_t first, size_t n, const char *dir, int format, int quality,
                       dws_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        dws_error_set(err, DWS_E_IO, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    float x[DWS_CIFAR10_DIM];
    for (size_t i = first; i < first + n; i++) {
        dws_image_set_to_float(set, i, 1, x);
        uint8_t *file;
        size_t len;
        int rc = format == CORRUPT_PNG ? dws_png_encode(x, &file, &len, err)
                                       : dws_jpeg_encode(x, quality, &file, &len, err);
        if (rc) return -1;
        char path[4096];
        snprintf(path, sizeof path, "%s/%05zu.%s", dir, i, format == CORRUPT_PNG ? "png" : "jpg");
        rc = dws_write_file_atomic(path, file, len, err);
        free(file);
        if (rc) return -1;
    }
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
    float *x = NULL;
    size_t begin = (size_t)o.first, end = o.count ? begin + (size_t)o.count : set.n;
    if (end > set.n) end = set.n;
    if (begin >= end) {
        dws_error_set(&err, DWS_E_INVALID_ARGUMENT, "--first %ld: the %s split has %zu images", o.first,
                      dws_split_name(split), set.n);
        goto fail;
    }
    x = malloc((size_t)CHUNK * set.dim * sizeof(float));
    if (!x) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot allocate a %d-image buffer", CHUNK);
        goto fail;
    }
    /* Corrupted bytes replace the clean ones in place, chunk by chunk. */
    for (size_t first = begin; first < end; first += CHUNK) {
        size_t n = end - first < CHUNK ? end - first : CHUNK;
        dws_image_set_to_float(&set, first, n, x);
        if (dws_domain_apply(&domain, set.channels, set.height, set.width, x, n, seed, first, &err)) goto fail;
        dws_float_to_pixels(x, n * set.dim, set.pixels + first * set.dim);
    }
    if (o.format == CORRUPT_RECORDS
            ? dws_cifar10_write(out, set.labels + begin, set.pixels + begin * set.dim, end - begin, &err)
            : write_files(&set, begin, end - begin, out, o.format, (int)o.quality, &err))
        goto fail;
    if (strcmp(out, "-")) {
        char name[256];
        dws_domain_format(&domain, name, sizeof name);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "out", out);
        cJSON_AddStringToObject(j, "format", CORRUPT_FORMAT_NAMES[o.format]);
        cJSON_AddStringToObject(j, "split", dws_split_name(split));
        cJSON_AddNumberToObject(j, "images", (double)(end - begin));
        cJSON_AddNumberToObject(j, "first", (double)begin);
        cJSON_AddStringToObject(j, "domain", name);
        char seed_text[24];
        snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
        cJSON_AddRawToObject(j, "seed", seed_text);   /* exact: a double would round 64-bit seeds */
        cli_print_json(j);
    }
    free(x);
    dws_image_set_free(&set);
    return 0;
fail:
    free(x);
    dws_image_set_free(&set);
    return cli_fail(CMD, &err);
}
