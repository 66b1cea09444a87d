/* dwsnet train-classifier: trains one MLP classifier on CIFAR-10 from a recipe given
 * by flags (default: the PyTorch reference recipe) and reports its clean and
 * target-domain test accuracy and the time it took, as one JSON object. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "base/base.h"
#include "train/train.h"
#include "onnx/onnx_codec.h"

#define CMD "train-classifier"

static int save_onnx(const char *path, const dws_mlp *m, const cJSON *recipe, const char *domain, double clean_acc,
                     double target_acc, dws_error *err)
{
    char *recipe_text = cJSON_PrintUnformatted(recipe), clean[32], target[32];
    snprintf(clean, sizeof clean, "%.4f", clean_acc);
    snprintf(target, sizeof target, "%.4f", target_acc);
    const dws_kv meta[] = {
        {"dwsnet.recipe", recipe_text ? recipe_text : "{}"},
        {"dwsnet.input", DWS_CIFAR10_INPUT_CONVENTION},
        {"dwsnet.clean_test_acc", clean},
        {"dwsnet.target_domain", domain},
        {"dwsnet.target_test_acc", target},
    };
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = dws_onnx_build(m, "dwsnet train-classifier", meta, sizeof meta / sizeof *meta, &bytes, &len, err);
    if (rc == 0) rc = dws_write_file_atomic(path, bytes, len, err);
    free(bytes);
    free(recipe_text);
    return rc;
}

int cmd_train_classifier(int argc, char **argv)
{
    train_classifier_opts o;
    int status = cli_parse(&cli_train_classifier, argc, argv, &o);
    if (status >= 0) return status;
    const char *data_dir = o.data ? o.data : dws_data_dir_from_env(), *domain_spec = o.domain, *out = o.out;
    uint64_t domain_seed = o.domain_seed;
    dws_recipe r = dws_recipe_reference();
    r.n_hidden = o.hidden.n;
    memcpy(r.hidden, o.hidden.v, sizeof(int64_t) * (size_t)o.hidden.n);
    r.epochs = (int)o.epochs;
    r.batch_size = (int)o.batch;
    r.subset = (uint32_t)o.subset;
    r.seed = o.seed;
    r.activation = (dws_activation)(o.activation + DWS_ACT_RELU);
    r.leaky_slope = DWS_RECIPE_LEAKY_SLOPE;
    /* Optimiser defaults follow the chosen kind; explicit flags override them. */
    dws_optim_config cfg = dws_optim_defaults((dws_optimizer)o.optimizer, r.optim.lr);
    if (o.lr_seen) cfg.lr = (float)o.lr;
    if (o.momentum_seen) cfg.momentum = (float)o.momentum;
    if (o.weight_decay_seen) cfg.weight_decay = (float)o.weight_decay;
    r.optim = cfg;

    dws_error err = {0};
    dws_domain domain;
    if (dws_domain_parse(domain_spec, &domain, &err)) return cli_fail(CMD, &err);
    dws_image_set train, test;
    float *target;
    dws_mlp m = {0};
    int rc = 1;
    if (dws_cifar10_load_with_target(data_dir, &domain, domain_seed, &train, &test, &target, &err)) goto done;

    dws_samples train_view = dws_samples_of_image_set(&train);
    double t0 = cli_now(), cpu0 = cli_cpu_seconds();
    dws_train_progress res;
    if (dws_recipe_train(&r, &train_view, DWS_CIFAR10_CLASSES, &m, &res, &err)) goto done;
    double seconds = cli_now() - t0, cpu = cli_cpu_seconds() - cpu0;

    double clean_acc, target_acc;
    dws_samples test_view = dws_samples_of_image_set(&test);
    dws_samples target_view = dws_samples_of_floats(target, test.labels, test.n, test.dim);
    if (dws_mlp_accuracy(&m, &test_view, &clean_acc, &err) || dws_mlp_accuracy(&m, &target_view, &target_acc, &err))
        goto done;

    char domain_name[256];
    dws_domain_format(&domain, domain_name, sizeof domain_name);
    cJSON *recipe = dws_recipe_to_json(&r);
    if (out && save_onnx(out, &m, recipe, domain_name, clean_acc, target_acc, &err)) {
        cJSON_Delete(recipe);
        goto done;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "recipe", recipe);
    cJSON_AddNumberToObject(j, "clean_test_acc", clean_acc);
    cJSON_AddStringToObject(j, "domain", domain_name);
    cJSON_AddNumberToObject(j, "target_test_acc", target_acc);
    cJSON_AddNumberToObject(j, "train_loss", res.loss);
    cJSON_AddNumberToObject(j, "train_seconds", seconds);
    cJSON_AddNumberToObject(j, "train_cpu_seconds", cpu);
    cli_print_json(j);
    rc = 0;
done:
    if (rc) cli_fail(CMD, &err);
    dws_mlp_free(&m);
    free(target);
    dws_image_set_free(&train);
    dws_image_set_free(&test);
    return rc;
}
