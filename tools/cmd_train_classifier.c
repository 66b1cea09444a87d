/* dwsnet train-classifier: trains one MLP classifier on CIFAR-10 from a recipe given
 * by flags (default: the PyTorch reference recipe) and reports its clean and
 * target-domain test accuracy and the time it took, as one JSON object. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data_cli.h"
#include "base/base.h"
#include "train/train.h"
#include "onnx/onnx_codec.h"

#define CMD "train-classifier"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet " CMD " [--data DIR] [--hidden 128,128] [--optimizer adam|adamw|sgd] [--lr X]\n"
            "         [--momentum X] [--weight-decay X] [--epochs N] [--batch N] [--subset N] [--seed N]\n"
            "         [--domain SPEC] [--domain-seed N] [--out FILE.onnx]\n\n"
            "Trains a 3072 -> hidden... -> 10 ReLU MLP on the CIFAR-10 training images (x = pixel/255,\n"
            "CHW) with PyTorch's default initialisation, and prints JSON with its clean test accuracy,\n"
            "its accuracy on the test images corrupted by --domain (default %s), the training\n"
            "wall time and the process CPU time. Defaults are the reference recipe: hidden 128,128,\n"
            "Adam lr 1e-3, batch 128, 10 epochs, all 50,000 images.\n"
            "  --data DIR   CIFAR-10 binary folder (default $DWSNET_DATA)\n"
            "  --out FILE   also save the classifier as ONNX (Flatten + Gemm/Relu, opset 13)\n",
            DWS_DEFAULT_DOMAIN);
}

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
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},        {"hidden", required_argument, 0, 'H'},
        {"optimizer", required_argument, 0, 'o'},   {"lr", required_argument, 0, 'l'},
        {"momentum", required_argument, 0, 'm'},    {"weight-decay", required_argument, 0, 'w'},
        {"epochs", required_argument, 0, 'e'},      {"batch", required_argument, 0, 'b'},
        {"subset", required_argument, 0, 'S'},      {"seed", required_argument, 0, 's'},
        {"domain", required_argument, 0, 'D'},      {"domain-seed", required_argument, 0, 'E'},
        {"out", required_argument, 0, 'O'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    dws_recipe r = dws_recipe_reference();
    const char *data_dir = dws_data_dir_from_env(), *domain_spec = DWS_DEFAULT_DOMAIN, *out = NULL;
    uint64_t domain_seed = 0;
    double lr = -1, momentum = -1, wd = -1;
    long v;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'H':
            if (data_cli_widths(CMD, optarg, r.hidden, DWS_MAX_LAYERS - 1, 1 << 16, &r.n_hidden)) return 2;
            break;
        case 'o':
            if (dws_optimizer_parse(optarg, &r.optim.kind))
                return data_cli_usage(CMD, "--optimizer must be adam, adamw or sgd, got '%s'", optarg);
            break;
        case 'l': if (data_cli_double(CMD, "--lr", optarg, 0, 100, &lr)) return 2; break;
        case 'm': if (data_cli_double(CMD, "--momentum", optarg, 0, 1, &momentum)) return 2; break;
        case 'w': if (data_cli_double(CMD, "--weight-decay", optarg, 0, 10, &wd)) return 2; break;
        case 'e': if (data_cli_long(CMD, "--epochs", optarg, 0, 10000, &v)) return 2; r.epochs = (int)v; break;
        case 'b': if (data_cli_long(CMD, "--batch", optarg, 1, 65536, &v)) return 2; r.batch_size = (int)v; break;
        case 'S': if (data_cli_long(CMD, "--subset", optarg, 0, 1L << 31, &v)) return 2; r.subset = (uint32_t)v; break;
        case 's': if (data_cli_u64(CMD, "--seed", optarg, &r.seed)) return 2; break;
        case 'D': domain_spec = optarg; break;
        case 'E': if (data_cli_u64(CMD, "--domain-seed", optarg, &domain_seed)) return 2; break;
        case 'O': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) return data_cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    /* Optimiser defaults follow the chosen kind; explicit flags override them. */
    dws_optim_config cfg = dws_optim_defaults(r.optim.kind, r.optim.lr);
    if (lr >= 0) cfg.lr = (float)lr;
    if (momentum >= 0) cfg.momentum = (float)momentum;
    if (wd >= 0) cfg.weight_decay = (float)wd;
    r.optim = cfg;

    dws_error err = {0};
    dws_domain domain;
    if (dws_domain_parse(domain_spec, &domain, &err)) return cli_fail(CMD, &err);
    dws_image_set train, test;
    float *target;
    dws_mlp m = {0};
    int rc = 1;
    if (data_cli_load_cifar(data_dir, &domain, domain_seed, &train, &test, &target, &err)) goto done;

    dws_samples train_view = dws_samples_of_image_set(&train);
    double t0 = data_cli_now(), cpu0 = data_cli_cpu_seconds();
    dws_train_progress res;
    if (dws_recipe_train(&r, &train_view, DWS_CIFAR10_CLASSES, &m, &res, &err)) goto done;
    double seconds = data_cli_now() - t0, cpu = data_cli_cpu_seconds() - cpu0;

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
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "recipe", recipe);
    cJSON_AddNumberToObject(o, "clean_test_acc", clean_acc);
    cJSON_AddStringToObject(o, "domain", domain_name);
    cJSON_AddNumberToObject(o, "target_test_acc", target_acc);
    cJSON_AddNumberToObject(o, "train_loss", res.loss);
    cJSON_AddNumberToObject(o, "train_seconds", seconds);
    cJSON_AddNumberToObject(o, "train_cpu_seconds", cpu);
    cli_print_json(o);
    rc = 0;
done:
    if (rc) cli_fail(CMD, &err);
    dws_mlp_free(&m);
    free(target);
    dws_image_set_free(&train);
    dws_image_set_free(&test);
    return rc;
}
