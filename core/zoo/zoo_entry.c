/* One zoo entry: train it, evaluate it on clean and target-domain test images, write
 * its ONNX file and then its record. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "data/data.h"
#include "base/base.h"
#include "train/train.h"
#include "onnx/onnx_codec.h"
#include "zoo.h"

static void entry_path(char *buf, size_t size, const char *dir, const char *sub, int index, const char *ext)
{
    snprintf(buf, size, "%s/%s/%06d.%s", dir, sub, index, ext);
}

int dws_zoo_entry_done(const char *dir, int index)
{
    char path[4096];
    entry_path(path, sizeof path, dir, "entries", index, "json");
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *o = cJSON_Parse(buf);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    int done = cJSON_IsNumber(id) && id->valueint == index;
    cJSON_Delete(o);
    return done;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *number_text(double v)
{
    char *s = malloc(32);
    if (s) snprintf(s, 32, "%.4f", v);
    return s;
}

int dws_zoo_build_entry(const char *dir, const dws_zoo_spec *spec, int index, const dws_zoo_data *data,
                        dws_zoo_entry_result *res, dws_error *err)
{
    dws_recipe r;
    dws_zoo_split split;
    dws_zoo_entry_recipe(spec, index, &r, &split);
    dws_samples train = dws_samples_of_image_set(data->train);
    dws_samples clean = dws_samples_of_image_set(data->test);
    dws_samples target = dws_samples_of_floats(data->target_test, data->test->labels, data->test->n, data->test->dim);
    if (spec->frame == DWS_FRAME_STANDARDIZED)
        train.norm = clean.norm = target.norm = &DWS_CIFAR10_STANDARDIZATION;

    dws_mlp m;
    dws_train_progress tr;
    double t0 = seconds_now();
    if (dws_recipe_train(&r, &train, data->train->n_classes, &m, &tr, err)) return -1;
    double train_seconds = seconds_now() - t0;
    dws_zoo_entry_result out = {.train_seconds = train_seconds};
    uint8_t *onnx = NULL;
    size_t onnx_len = 0;
    char *recipe_text = NULL, *clean_text = NULL, *target_text = NULL, *record_text = NULL;
    cJSON *record = NULL;
    int rc = -1;
    if (dws_mlp_accuracy(&m, &clean, &out.clean_acc, err) || dws_mlp_accuracy(&m, &target, &out.target_acc, err))
        goto done;

    char domain[256], id[16], path[4096], rel[64];
    dws_domain_format(&spec->domain, domain, sizeof domain);
    snprintf(id, sizeof id, "%d", index);
    snprintf(rel, sizeof rel, "models/%06d.onnx", index);
    cJSON *recipe = dws_recipe_to_json(&r);
    recipe_text = cJSON_PrintUnformatted(recipe);
    cJSON_Delete(recipe);
    clean_text = number_text(out.clean_acc);
    target_text = number_text(out.target_acc);
    if (!recipe_text || !clean_text || !target_text) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory describing entry %d", index);
        goto done;
    }
    const dws_kv meta[] = {
        {"dwsnet.zoo_entry", id},
        {"dwsnet.zoo_split", dws_zoo_split_name(split)},
        {"dwsnet.recipe", recipe_text},
        {"dwsnet.input", spec->frame == DWS_FRAME_STANDARDIZED ? DWS_CIFAR10_STANDARDIZED_CONVENTION
                                                              : DWS_CIFAR10_INPUT_CONVENTION},
        {"dwsnet.clean_test_acc", clean_text},
        {"dwsnet.target_domain", domain},
        {"dwsnet.target_test_acc", target_text},
    };
    if (dws_onnx_build(&m, "dwsnet zoo", meta, sizeof meta / sizeof *meta, &onnx, &onnx_len, err)) goto done;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (dws_write_file_atomic(path, onnx, onnx_len, err)) goto done;

    record = cJSON_CreateObject();
    cJSON_AddNumberToObject(record, "id", index);
    cJSON_AddStringToObject(record, "file", rel);
    cJSON_AddStringToObject(record, "split", dws_zoo_split_name(split));
    cJSON *w = cJSON_AddArrayToObject(record, "widths");
    for (int l = 0; l <= m.n_layers; l++) cJSON_AddItemToArray(w, cJSON_CreateNumber((double)m.widths[l]));
    if (!dws_zoo_spec_is_default_family(spec)) {   /* absent: 3 weight layers, ReLU (the default family) */
        cJSON_AddNumberToObject(record, "depth", m.n_layers);
        cJSON_AddStringToObject(record, "activation", dws_activation_name(dws_recipe_activation(&r)));
    }
    if (spec->frame != DWS_FRAME_PIXEL) cJSON_AddStringToObject(record, "frame", dws_frame_name(spec->frame));
    cJSON_AddItemToObject(record, "recipe", dws_recipe_to_json(&r));
    char seed_text[24];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)r.seed);
    cJSON_AddRawToObject(record, "seed", seed_text);
    cJSON_AddNumberToObject(record, "clean_test_acc", out.clean_acc);
    cJSON_AddStringToObject(record, "domain", domain);
    cJSON_AddNumberToObject(record, "target_test_acc", out.target_acc);
    cJSON_AddNumberToObject(record, "train_loss", tr.loss);
    cJSON_AddNumberToObject(record, "train_seconds", train_seconds);
    cJSON_AddNumberToObject(record, "onnx_bytes", (double)onnx_len);
    char crc[16];
    snprintf(crc, sizeof crc, "%08lx", crc32(0L, onnx, (uInt)onnx_len));
    cJSON_AddStringToObject(record, "onnx_crc32", crc);
    record_text = cJSON_PrintUnformatted(record);
    if (!record_text) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory describing entry %d", index);
        goto done;
    }
    entry_path(path, sizeof path, dir, "entries", index, "json");
    if (dws_write_file_atomic(path, record_text, strlen(record_text), err)) goto done;
    if (res) *res = out;
    rc = 0;
done:
    cJSON_Delete(record);
    free(record_text);
    free(recipe_text);
    free(clean_text);
    free(target_text);
    free(onnx);
    dws_mlp_free(&m);
    return rc;
}
