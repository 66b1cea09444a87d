/* Every dwsnet command's options in one place: for each command of commands.def,
 * its description and a table of what it accepts (options.h), read by cli_parse and
 * printed by cli_help. The fields are those of the command's struct in
 * options_table.h; the numbers' ranges are checked by the parser, defaults go
 * through it like given values. */
#include "options_table.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/data.h"
#include "eval/eval.h"
#include "mlp/mlp.h"
#include "zoo/zoo.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define N(table) ((int)(sizeof table / sizeof *table))
#define NO_MAX INFINITY   /* a number with no upper bound */

/* Entries by kind, each with the field's type checked (CLI_AT); further
 * designated initializers (.def, .help, ...) follow. S is the table's struct. */
#define FLAG(name, f, ...) {name, CLI_FLAG, CLI_AT(S, int, f), __VA_ARGS__}
#define TEXT(name, f, meta_, ...) {name, CLI_STRING, CLI_AT(S, const char *, f), .meta = meta_, __VA_ARGS__}
#define INT(name, f, meta_, lo_, hi_, ...) \
    {name, CLI_INT, CLI_AT(S, long, f), .meta = meta_, .lo = lo_, .hi = hi_, __VA_ARGS__}
#define U64(name, f, meta_, hi_, ...) {name, CLI_U64, CLI_AT(S, uint64_t, f), .meta = meta_, .hi = hi_, __VA_ARGS__}
#define SEED(name, f, ...) U64(name, f, "N", NO_MAX, __VA_ARGS__)
#define DOUBLE(name, f, meta_, lo_, hi_, ...) \
    {name, CLI_DOUBLE, CLI_AT(S, double, f), .meta = meta_, .lo = lo_, .hi = hi_, __VA_ARGS__}
#define FLOAT(name, f, meta_, lo_, hi_, ...) \
    {name, CLI_FLOAT, CLI_AT(S, float, f), .meta = meta_, .lo = lo_, .hi = hi_, __VA_ARGS__}
#define CHOICE(name, f, list, ...) {name, CLI_CHOICE, CLI_AT(S, int, f), .choices = list, __VA_ARGS__}
#define REPEAT(name, f, meta_, most, ...) \
    {name, CLI_REPEAT, CLI_AT(S, cli_strings, f), .meta = meta_, .hi = most, __VA_ARGS__}
#define CUSTOM(name, T, f, meta_, parser, ...) \
    {name, CLI_CUSTOM, CLI_AT(S, T, f), .meta = meta_, .parse = parser, __VA_ARGS__}
#define ARG(name, f, ...) {name, CLI_ARG, CLI_AT(S, const char *, f), __VA_ARGS__}
#define SEEN(f) .seen = CLI_SEEN(S, f)
/* The epilog of the commands whose --model has a shipped default (base/base.h, "model path"). */
#define MODELS_DIR_HELP                                                                      \
    "The models directory: $DWSNET_MODELS, else PREFIX/share/dwsnet/models when it exists\n" \
    "(PREFIX as built: make install PREFIX=...), else ./models; `dwsnet --help` names the\n"  \
    "one in use."

#define COMMAND(var, name_, table, ...) \
    const cli_command var = {name_, .options = table, .n_options = N(table), .size = sizeof(S), __VA_ARGS__}

/* ---- values of their own syntax ---- */

/* "128,64": up to max_n comma-separated integers in [lo, hi]. */
static int parse_list(const char *s, cli_int_list *l, int max_n, long lo, long hi, char *why, size_t why_size)
{
    char item[32];
    l->n = 0;
    for (const char *p = s;; p++) {
        size_t k = strcspn(p, ",");
        long v;
        int ok = k > 0 && k < sizeof item && l->n < max_n;
        if (ok) {
            memcpy(item, p, k);
            item[k] = '\0';
            ok = cli_number(item, CLI_INT, (double)lo, (double)hi, &v, why, why_size) == 0;
        }
        if (!ok) {
            snprintf(why, why_size, "must be up to %d comma-separated integers from %ld to %ld", max_n, lo, hi);
            return -1;
        }
        l->v[l->n++] = v;
        p += k;
        if (!*p) return 0;
    }
}

static int parse_hidden(const char *s, void *field, char *why, size_t why_size)
{
    return parse_list(s, field, DWS_MAX_LAYERS - 1, 1, 1 << 16, why, why_size);
}

static int parse_epochs(const char *s, void *field, char *why, size_t why_size)
{
    return parse_list(s, field, DWS_ZOO_MAX_CHOICES, 1, 10000, why, why_size);
}

/* Training-image counts; a lone 0 is "all images". */
static int parse_subsets(const char *s, void *field, char *why, size_t why_size)
{
    if (!strcmp(s, "0")) {
        *(cli_int_list *)field = (cli_int_list){1, {0}};
        return 0;
    }
    return parse_list(s, field, DWS_ZOO_MAX_CHOICES, 1, 1L << 31, why, why_size);
}

/* Hidden layer counts of zoo entries. */
static int parse_hidden_layers(const char *s, void *field, char *why, size_t why_size)
{
    return parse_list(s, field, DWS_ZOO_MAX_CHOICES, 1, DWS_MAX_LAYERS - 1, why, why_size);
}

/* "relu,gelu": hidden activations by name (dws_activation_name), identity excluded. */
static int parse_activations(const char *s, void *field, char *why, size_t why_size)
{
    cli_int_list *l = field;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    l->n = 0;
    int ok = strlen(s) < sizeof buf && s[0] && s[strlen(s) - 1] != ',' && !strstr(s, ",,");
    for (char *save, *tok = strtok_r(buf, ",", &save); ok && tok; tok = strtok_r(NULL, ",", &save)) {
        dws_activation a;
        ok = l->n < DWS_ZOO_MAX_CHOICES && dws_activation_parse(tok, &a) == 0 && a != DWS_ACT_IDENTITY;
        if (ok) l->v[l->n++] = a;
    }
    if (!ok || !l->n) {
        snprintf(why, why_size, "must be up to %d comma-separated names from relu, leaky_relu, tanh, sigmoid, "
                 "gelu, gelu_tanh, silu", DWS_ZOO_MAX_CHOICES);
        return -1;
    }
    return 0;
}

static int parse_shard(const char *s, void *field, char *why, size_t why_size)
{
    int i, n, used = 0;
    if (sscanf(s, "%d/%d%n", &i, &n, &used) != 2 || s[used] || n < 1 || i < 0 || i >= n) {
        snprintf(why, why_size, "must be i/n with 0 <= i < n");
        return -1;
    }
    *(cli_shard *)field = (cli_shard){i, n};
    return 0;
}

static int parse_image(const char *s, void *field, char *why, size_t why_size)
{
    int c, h, w, n = 0;
    if (!strcmp(s, "none")) {
        *(dws_image_shape *)field = (dws_image_shape){0, 0, 0};
        return 0;
    }
    if (sscanf(s, "%dx%dx%d%n", &c, &h, &w, &n) != 3 || s[n] || c < 1 || h < 1 || w < 1) {
        snprintf(why, why_size, "must be CxHxW or none");
        return -1;
    }
    *(dws_image_shape *)field = (dws_image_shape){c, h, w};
    return 0;
}

/* "LO,HI" with LO < HI, both in [-1e6, 1e6]. */
static int parse_range(const char *s, void *field, char *why, size_t why_size)
{
    char first[64];
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : 0;
    float lo, hi;
    int ok = n > 0 && n < sizeof first;
    if (ok) {
        memcpy(first, s, n);
        first[n] = '\0';
        ok = cli_number(first, CLI_FLOAT, -1e6, 1e6, &lo, why, why_size) == 0 &&
             cli_number(comma + 1, CLI_FLOAT, -1e6, 1e6, &hi, why, why_size) == 0 && lo < hi;
    }
    if (!ok) {
        snprintf(why, why_size, "must be LO,HI with LO < HI");
        return -1;
    }
    *(cli_range *)field = (cli_range){lo, hi};
    return 0;
}

static int parse_splits(const char *s, void *field, char *why, size_t why_size)
{
    cli_splits *sp = field;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    memset(sp, 0, sizeof *sp);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        dws_zoo_split k;
        if (dws_zoo_split_parse(tok, &k)) {
            snprintf(why, why_size, "takes train,val,test,test_unseen_widths");
            return -1;
        }
        sp->on[k] = 1;
    }
    return 0;
}

/* "spatter,frost": corruption names, a bit per dws_corruption. */
static int parse_corruptions(const char *s, void *field, char *why, size_t why_size)
{
    unsigned bits = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < DWS_CORRUPT_COUNT && strcmp(tok, dws_corruption_name((dws_corruption)k))) k++;
        if (k == DWS_CORRUPT_COUNT) {
            snprintf(why, why_size, "takes corruption names (dwsnet corrupt --list)");
            return -1;
        }
        bits |= 1u << k;
    }
    *(unsigned *)field = bits;
    return 0;
}

/* "SPEC;SPEC": chains of two corruption steps (dws_domain_parse), distinct; "none": no chain. */
static int parse_chains(const char *s, void *field, char *why, size_t why_size)
{
    cli_chains *c = field;
    char buf[1024];
    c->n = 0;
    if (!strcmp(s, "none")) return 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        dws_domain d;
        dws_error e;
        dws_error_clear(&e);
        if (c->n == CLI_MAX_CHAINS || dws_domain_parse(tok, &d, &e) || d.n_steps != DWS_ESTIMATOR_MAX_STEPS) {
            snprintf(why, why_size, "takes up to %d chains of %d steps separated by ';' (such as %s), or none%s%s",
                     CLI_MAX_CHAINS, DWS_ESTIMATOR_MAX_STEPS, DWS_DEFAULT_DOMAIN, e.code ? ": " : "",
                     e.code ? e.message : "");
            return -1;
        }
        for (int k = 0; k < c->n; k++)
            if (dws_domain_same(&c->d[k], &d)) {
                snprintf(why, why_size, "names the chain '%s' twice", tok);
                return -1;
            }
        c->d[c->n++] = d;
    }
    if (c->n == 0) {
        snprintf(why, why_size, "takes chains separated by ';', or none");
        return -1;
    }
    return 0;
}

/* ---- the commands, in commands.def order ---- */

#define S inspect_opts
static const cli_option inspect_table[] = {
    FLAG("--json", json, .help = "print one JSON object per file (one per line for several files)"),
    {"FILE.onnx", CLI_ARGS, CLI_AT(S, cli_args, files), .help = "the classifiers to decode", .required = 1},
};
COMMAND(cli_inspect, "inspect", inspect_table,
        .about = "Decodes ONNX MLP classifiers and prints, for each: producer, IR and opset versions,\n"
                 "input and output, layer widths [d0, ..., dL], activations, parameter count and how\n"
                 "the weights are stored. A file that is not an MLP the codec accepts is reported on\n"
                 "stderr as\n"
                 "  dwsnet inspect: CODE: FILE: reason\n"
                 "and makes the exit status 1.");
#undef S

#define S roundtrip_opts
static const cli_option roundtrip_table[] = {
    ARG("IN.onnx", in, .help = "the classifier", .required = 1),
    TEXT("--out", out, "OUT.onnx", .alias = "-o", .required = 1, .help = "where to write the model; - is stdout"),
    DOUBLE("--perturb", perturb, "SIGMA", 0, NO_MAX, .def = "0",
           .help = "add Gaussian noise N(0, SIGMA^2) to every weight and bias before encoding (deterministic "
                   "for a --seed). A check that new weights really reach the file: compare with `dwsnet forward`"),
    SEED("--seed", seed, .def = "1", .help = "noise seed of --perturb"),
    FLAG("--rebuild", rebuild,
         .help = "write a fresh model instead, as torch.onnx.export writes nn.Sequential(Flatten, Linear, ReLU, "
                 "..., Linear): Gemm layers, FLOAT raw_data, opset 13, input 'input' [N, d0], output 'logits', "
                 "no head"),
    FLAG("--no-provenance", no_provenance, .help = "do not record dwsnet.version and dwsnet.operation"),
};
COMMAND(cli_roundtrip, "roundtrip", roundtrip_table,
        .about = "Decodes IN.onnx to the weight space and encodes it back into the same tensors,\n"
                 "leaving every other part of the model as it was. Unchanged weights keep their exact\n"
                 "stored bits (whatever the type: FLOAT, DOUBLE, FLOAT16, BFLOAT16). OUT.onnx records\n"
                 "dwsnet.version and dwsnet.operation in metadata_props (unless --no-provenance).");
#undef S

#define S forward_opts
static const cli_option forward_table[] = {
    ARG("MODEL.onnx", model, .help = "the classifier", .required = 1),
    TEXT("--input", input, "X.f32", .required = 1, .help = "raw little-endian float32 inputs, N rows of d0 values"),
    TEXT("--out", out, "OUT.f32", .alias = "-o", .help = "write the outputs as raw float32 (N x dL) instead of "
                                                        "printing them"),
    FLAG("--logits", logits, .help = "skip the Softmax / LogSoftmax head"),
};
COMMAND(cli_forward, "forward", forward_table,
        .about = "Decodes MODEL.onnx to the weight space and evaluates it on the inputs in X.f32:\n"
                 "raw little-endian float32, N rows of d0 values (an image in CHW order is one row).\n"
                 "Prints one line of outputs per row, or with -o writes them as raw float32 (N x dL).\n"
                 "The outputs are what the model outputs: logits, or with a Softmax / LogSoftmax\n"
                 "head the (log-)probabilities; --logits skips the head.");
#undef S

static const char *const SPLIT_NAMES[] = {"train", "test", NULL};   /* dws_split order */

static const char *corruption_names(void)
{
    static char text[512];
    snprintf(text, sizeof text, "Corruptions (--domain NAME:SEVERITY,...): %s.", dws_corruption_names());
    return text;
}

const char *const CORRUPT_FORMAT_NAMES[] = {"records", "png", "jpeg", NULL};   /* corrupt_format order */

#define S corrupt_opts
static const cli_option corrupt_table[] = {
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 binary folder"),
    CHOICE("--split", split, SPLIT_NAMES, .def = "test", .help = "the split to corrupt"),
    TEXT("--domain", domain, "SPEC", .def = DWS_DEFAULT_DOMAIN,
         .help = "corruptions applied in order, name:severity (1-5), comma-separated"),
    SEED("--seed", seed, .def = "0", .help = "noise seed; image i of the split always gets the same noise"),
    TEXT("--out", out, "FILE", .alias = "-o",
         .help = "required unless --list; ending in .gz: gzip-compressed; - is stdout; a folder for png and jpeg"),
    CHOICE("--format", format, CORRUPT_FORMAT_NAMES, .def = "records",
           .help = "records: one CIFAR-10 binary file; png, jpeg: one file per image, OUT/IIIII.png or .jpg (I: "
                   "its index in the split)"),
    INT("--first", first, "N", 0, 1L << 31, .def = "0", .help = "the first image of the split written"),
    INT("--count", count, "N", 0, 1L << 31, .def = "0", .help = "images written (0: to the end of the split)"),
    INT("--quality", quality, "Q", 1, 100, .def = "95", .help = "JPEG quality of --format jpeg"),
    FLAG("--list", list, .help = "print the corruption types and their severities (docs/corruptions.md)"),
};
COMMAND(cli_corrupt, "corrupt", corrupt_table,
        .about = "Corrupts every image of a CIFAR-10 split (or --count of them from --first) and writes the\n"
                 "result in the CIFAR-10 binary layout (1 label byte + 3072 pixel bytes per record, labels in\n"
                 "the original order, pixels round(255 x)), or each image as a PNG or JPEG file. Image i of the\n"
                 "split gets the same noise whatever range is written. Prints a JSON summary on stdout when\n"
                 "writing to a file.",
        .extra_help = corruption_names);
#undef S

static const char *const OPTIMIZER_NAMES[] = {"sgd", "adam", "adamw", NULL};   /* dws_optimizer order */
/* dws_activation order, from DWS_ACT_RELU on (the index is the value - 1). */
static const char *const ACTIVATION_NAMES[] = {"relu", "leaky_relu", "tanh", "sigmoid", "gelu", "gelu_tanh", "silu",
                                               NULL};

#define S train_classifier_opts
static const cli_option train_classifier_table[] = {
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 binary folder"),
    CUSTOM("--hidden", cli_int_list, hidden, "W,W,...", parse_hidden, .def = "128,128", .help = "hidden widths"),
    CHOICE("--activation", activation, ACTIVATION_NAMES, .def = "relu",
           .help = "hidden activation (leaky_relu: slope " DWS_RECIPE_LEAKY_SLOPE_TEXT ", torch's default; gelu: the "
                   "erf form)"),
    CHOICE("--optimizer", optimizer, OPTIMIZER_NAMES, .def = "adam", .help = "the optimiser (PyTorch's rules)"),
    DOUBLE("--lr", lr, "X", 0, 100, SEEN(lr_seen), .shown = "1e-3", .help = "learning rate"),
    DOUBLE("--momentum", momentum, "X", 0, 1, SEEN(momentum_seen), .shown = "the optimizer's (0.9 for sgd)",
           .help = "SGD momentum"),
    DOUBLE("--weight-decay", weight_decay, "X", 0, 10, SEEN(weight_decay_seen),
           .shown = "the optimizer's (0.01 for adamw, else 0)", .help = "weight decay"),
    INT("--epochs", epochs, "N", 0, 10000, .def = "10", .help = "passes over the training images"),
    INT("--batch", batch, "N", 1, 65536, .def = "128", .help = "minibatch size"),
    INT("--subset", subset, "N", 0, 1L << 31, .def = "0", .help = "training images used (0: all 50,000)"),
    SEED("--seed", seed, .def = "0", .help = "initialisation, subset and shuffling"),
    TEXT("--domain", domain, "SPEC", .def = DWS_DEFAULT_DOMAIN, .help = "target domain of the second accuracy"),
    SEED("--domain-seed", domain_seed, .def = "0", .help = "its noise seed"),
    TEXT("--out", out, "FILE.onnx", .help = "also save the classifier as ONNX (Flatten + Gemm/Relu, opset 13)"),
};
COMMAND(cli_train_classifier, "train-classifier", train_classifier_table,
        .about = "Trains a 3072 -> hidden... -> 10 MLP on the CIFAR-10 training images (x = pixel/255,\n"
                 "CHW) with PyTorch's default initialisation, and prints JSON with its clean test accuracy,\n"
                 "its accuracy on the test images corrupted by --domain, the training wall time and the\n"
                 "process CPU time. Defaults are the reference recipe: hidden 128,128, Adam lr 1e-3,\n"
                 "batch 128, 10 epochs, all 50,000 images.");
#undef S

static const char *const RECIPES_NAMES[] = {"mixed", "reference", NULL};   /* dws_zoo_recipes order */
static const char *const FAMILY_NAMES[] = {"default", "any-mlp", NULL};    /* dws_zoo_family order */
static const char *const FRAME_NAMES[] = {"pixel", "standardized", NULL};  /* dws_frame order */

#define S zoo_opts
static const cli_option zoo_table[] = {
    TEXT("--out", out, "ZOO", .alias = "-o", .required = 1,
         .help = "zoo folder (settings are kept in ZOO/zoo.json and must match on reruns)"),
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 binary folder"),
    INT("--count", count, "N", 1, DWS_ZOO_MAX_COUNT, SEEN(count_seen), .shown = "500", .help = "entries"),
    U64("--seed", seed, "S", 1ULL << 53, SEEN(seed_seen), .shown = "0", .help = "zoo seed"),
    CUSTOM("--shard", cli_shard, shard, "i/n", parse_shard, .def = "0/1",
           .help = "build only entries with id % n == i"),
    INT("--jobs", jobs, "J", 1, 64, .shown = "online CPUs", .help = "classifiers trained at once"),
    CHOICE("--recipes", recipes, RECIPES_NAMES, SEEN(recipes_seen), .shown = "mixed",
           .help = "mixed, or reference: every entry 3072-128-128-10, Adam 1e-3, batch 128, 10 epochs on all "
                   "images, each with its own seed"),
    CUSTOM("--epochs", cli_int_list, epochs, "LIST", parse_epochs, .shown = "1,2,3,4,6,8,12,16,20",
           .help = "epoch choices, sampled per entry"),
    CUSTOM("--subsets", cli_int_list, subsets, "LIST", parse_subsets, .shown = "5000,10000,25000,50000",
           .help = "training-image counts, sampled per entry (0: all)"),
    CHOICE("--family", family, FAMILY_NAMES, SEEN(family_seen), .shown = "default",
           .help = "architectures drawn per entry: default (2 hidden layers, ReLU: the zoo as before families) or "
                   "any-mlp (1-4 hidden layers; relu, leaky_relu with slope " DWS_ZOO_LEAKY_SLOPE_TEXT ", gelu, "
                   "tanh)"),
    CUSTOM("--hidden-layers", cli_int_list, hidden_layers, "LIST", parse_hidden_layers, .shown = "the family's (2)",
           .help = "hidden-layer counts, sampled per entry (weight layers = hidden layers + 1)"),
    CUSTOM("--activations", cli_int_list, activations, "LIST", parse_activations, .shown = "the family's (relu)",
           .help = "hidden activations, sampled per entry (one for all hidden layers of an entry)"),
    CHOICE("--frame", frame, FRAME_NAMES, SEEN(frame_seen), .shown = "pixel",
           .help = "the input every entry trains on: pixel (pixel/255) or standardized ((pixel/255 - mean) / std "
                   "with CIFAR-10's channel mean 0.4914,0.4822,0.4465 and std 0.2470,0.2435,0.2616, as "
                   "torchvision's Normalize; the ONNX files then read standardized inputs)"),
    TEXT("--domain", domain, "SPEC", .shown = DWS_DEFAULT_DOMAIN, .help = "target domain of the reported accuracy"),
    U64("--domain-seed", domain_seed, "N", 1ULL << 53, SEEN(domain_seed_seen), .shown = "0",
        .help = "its noise seed"),
    FLAG("--reindex", reindex, .help = "only rebuild ZOO/index.jsonl from ZOO/entries/"),
};
COMMAND(cli_zoo, "zoo", zoo_table, .more_usage = "dwsnet zoo --out ZOO --reindex",
        .about = "Trains N MLP classifiers 3072 -> h1 -> h2 -> 10 (ReLU; other depths and activations with\n"
                 "--family any-mlp or --hidden-layers/--activations) on clean CIFAR-10 with varied recipes (hidden\n"
                 "widths 32-256, Adam / SGD+momentum / AdamW, learning rates, weight decay, batch sizes, epochs,\n"
                 "training subsets, seeds) and writes ZOO/models/ID.onnx, ZOO/entries/ID.json and ZOO/index.jsonl\n"
                 "(one record per classifier: id, file, split, widths, recipe, seed, clean and target-domain test\n"
                 "accuracy; depth and activation too in a zoo of another family). Entry i depends only on the\n"
                 "settings and i: a rerun skips finished entries, and shards (entries with i % n == k) can run\n"
                 "on other machines into the same folder (e.g. one per pod of a Kubernetes indexed Job:\n"
                 "--shard $JOB_COMPLETION_INDEX/N). Settings not given are the zoo's own (ZOO/zoo.json) when\n"
                 "it exists.");
#undef S

static const char *const KIND_NAMES[] = {"adapter", "encoder", NULL};   /* dws_model_kind order */

#define S init_model_opts
static const cli_option init_model_table[] = {
    CHOICE("--kind", kind, KIND_NAMES, .required = 1, .help = "what the model is"),
    TEXT("--out", out, "FILE.dws", .alias = "-o", .required = 1, .help = "the model file"),
    INT("--channels", channels, "C", 1, 256, .def = "16", .help = "channels of the hidden DWS layers"),
    INT("--layers", layers, "N", 1, DWS_MAX_DWS_LAYERS, .def = "4", .help = "DWS layers"),
    INT("--d0", d0, "N", 1, 1L << 24, .def = "3072", .help = "inputs of the MLPs read"),
    INT("--dL", dL, "N", 1, 64, .def = "10", .help = "classes of the MLPs read"),
    INT("--depth", depth, "L", 1, DWS_MAX_LAYERS, .def = "3", .help = "layers of the MLPs read"),
    CUSTOM("--image", dws_image_shape, image, "CxHxW", parse_image, SEEN(image_seen),
           .shown = "3x32x32 when d0 is 3072, else none", .help = "d0 is an image of C planes, or 'none'"),
    INT("--embed-dim", embed_dim, "D", 1, 4096, .def = "32", .help = "encoder embedding size"),
    INT("--mlp-hidden", mlp_hidden, "H", 1, 4096, .def = "128", .help = "encoder MLP hidden width"),
    INT("--seed", seed, "S", 0, 0x7fffffffL, .def = "0", .help = "initialisation seed"),
    FLOAT("--alpha", alpha, "A", -100, 100, SEEN(alpha_seen), .shown = "0",
          .help = "adapter residual scale of every tensor (0: the identity; nonzero gives an untrained but "
                  "non-trivial adapter, for tests)"),
    INT("--cond-dim", cond_dim, "K", 0, DWS_COND_MAX_DIM, .def = "0",
        .help = "adapter conditioned on every corruption domain, K-float embedding (0: one fixed domain); with "
                "--alpha its FiLM maps are random too"),
    INT("--input-map", input_map, "K", 0, DWS_INMAP_MAX_KERNEL, .def = "0",
        .help = "adapter of image inputs: a KxK plane-mixing input map after the residual (odd; 0: none); with "
                "--alpha it is random too"),
    TEXT("--id", id, "NAME", .shown = "untrained-KIND", .help = "model id, [A-Za-z0-9._-]"),
};
COMMAND(cli_init_model, "init-model", init_model_table,
        .about = "Writes a DWSNet model with random (seeded) parameters. An adapter starts as the exact\n"
                 "identity (its residual scales are 0); an encoder starts with random embeddings.\n"
                 "Defaults are the shipped CIFAR-10 models'. Prints {\"id\", \"kind\", \"parameters\", \"path\"}\n"
                 "as JSON.");
#undef S

#define S model_run_opts
/* What adapt and embed share: threads, and a normalisation done outside the model. */
#define RUN_OPTIONS                                                                                            \
    INT("--threads", threads, "N", 1, 64, .shown = "one per CPU", .help = "worker threads"),                  \
    TEXT("--input-mean", input_mean, "M[,M,M]",                                                                \
         .help = "the classifier reads (pixel/255 - mean) / std, normalised outside the model: mean per channel"), \
    TEXT("--input-std", input_std, "S[,S,S]", .help = "with --input-mean: std per channel"),                  \
    TEXT("--input-range", input_range, "LO,HI", .help = "the classifier reads pixel/255 mapped onto [LO, HI]")

static const cli_option adapt_table[] = {
    ARG("IN.onnx", in, .help = "the classifier", .required = 1),
    TEXT("--out", out, "OUT.onnx", .alias = "-o", .required = 1, .help = "the adapted classifier; - is stdout"),
    TEXT("--model", model, "FILE.dws", .shown = DWS_DEFAULT_ADAPTER " in the models directory",
         .help = "adapter model"),
    TEXT("--domain", domain, "SPEC", .shown = "the adapter's default",
         .help = "target domain: type:severity[,type:severity] (see `dwsnet corrupt --list`), any, none, or auto "
                 "(estimated from --images)"),
    {"--images", CLI_LIST, CLI_AT(S, cli_args, images), .meta = "FILE...",
     .help = "with --domain auto: unlabeled images from the target domain (PNG or JPEG 32 x 32 RGB, or CIFAR-10 "
             "records files; at most 1024 images)"},
    TEXT("--estimator", estimator, "FILE.dws", .shown = DWS_DEFAULT_ESTIMATOR " in the models directory",
         .help = "with --domain auto: the domain estimator"),
    RUN_OPTIONS,
};
COMMAND(cli_adapt, "adapt", adapt_table,
        .about = "Adapts an MLP classifier to a target domain (zero-shot: no data is needed) and\n"
                 "writes it back into the same ONNX graph: same tensors, names, types and storage;\n"
                 "metadata_props records the adapter (dwsnet.adapter), the domain (dwsnet.domain)\n"
                 "and the version. `none` returns the weights unchanged; `any` adapts to a\n"
                 "corruption the caller cannot name; `auto` estimates the domain from a few unlabeled\n"
                 "images (--images; `dwsnet estimate-domain`) and adapts to it.\n"
                 "The classifier must match the adapter's signature (input size, classes, depth,\n"
                 "activation; see `dwsnet inspect`). Its input convention stays what it was.\n"
                 "With -o FILE, prints {\"model\", \"output\", \"max_abs_change\"} as JSON.",
        .epilog = MODELS_DIR_HELP);

static const cli_option embed_table[] = {
    ARG("IN.onnx", in, .help = "the classifier", .required = 1),
    TEXT("--model", model, "FILE.dws", .shown = DWS_DEFAULT_ENCODER " in the models directory",
         .help = "encoder model"),
    RUN_OPTIONS,
};
COMMAND(cli_embed, "embed", embed_table,
        .about = "Prints {\"model\": ID, \"embedding\": [...]}: a vector that does not change when the\n"
                 "classifier's hidden neurons are permuted, for comparing, searching and probing\n"
                 "classifiers. The classifier must match the encoder's signature (input size,\n"
                 "classes, depth, activation; see `dwsnet inspect`).",
        .epilog = MODELS_DIR_HELP);
#undef S

#define S train_adapter_opts
static const cli_option train_adapter_table[] = {
    TEXT("--zoo", zoo, "DIR", .required = 1, .help = "the zoo of classifiers (train and val splits)"),
    TEXT("--extra-zoo", extra_zoo, "DIR[,DIR]", .help = "more zoos whose train and val splits join the first's "
                                                        "(e.g. an any-mlp zoo; a zoo built with --frame standardized "
                                                        "makes the adapter read such classifiers in that frame)"),
    FLAG("--any-mlp", any_mlp, .help = "with --domain all: one adapter for 1 to 4 hidden layers and the hidden "
                                       "activations relu, leaky_relu (0.01), gelu, tanh (docs/design.md section 16)"),
    TEXT("--out", out, "FILE.dws", .required = 1, .help = "the best model by validation score"),
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 folder"),
    TEXT("--domain", domain, "SPEC", .def = DWS_DEFAULT_DOMAIN,
         .help = "target domain; all: one adapter conditioned on every domain (the domain mix)"),
    TEXT("--hidden-layer-weights", hidden_layer_weights, "W1,W2,...",
         .help = "classifiers with 1, 2, ... hidden layers drawn with these relative weights (default: all alike)"),
    INT("--cond-dim", cond_dim, "K", 1, DWS_COND_MAX_DIM, .def = "16", .help = "with --domain all: condition embedding size"),
    TEXT("--init-from", init_from, "FILE.dws", .help = "start from this adapter's same-named tensors (warm start)"),
    INT("--input-map", input_map, "K", 0, DWS_INMAP_MAX_KERNEL, .def = "0",
        .help = "a KxK convolution mixing the colour planes of W_1's rows, and an input shift, after the residual "
                "(odd; 0: none; docs/design.md section 18); from --init-from it starts as the identity"),
    TEXT("--emphasise", emphasise, "TYPES", .help = "with --domain all: these corruption types (comma-separated) are "
                                                    "drawn 4x as often"),
    DOUBLE("--p-default", p_default, "P", 0, 0.75, .def = "0.10",
           .help = "with --domain all: share of steps on the default domain"),
    TEXT("--id", id, "NAME", .def = "cifar10c-adapter", .help = "model id"),
    INT("--channels", channels, "C", 1, 256, .def = "8", .help = "hidden DWS channels"),
    INT("--layers", layers, "N", 1, DWS_MAX_DWS_LAYERS, .def = "3", .help = "DWS layers"),
    INT("--steps", steps, "N", 1, 100000000, .help = "optimisation steps (give this or --epochs)"),
    DOUBLE("--epochs", epochs, "E", 0.001, 100000, .help = "epochs over the training zoo (or --steps)"),
    INT("--batch-nets", batch_nets, "B", 1, 64, .def = "4", .help = "classifiers per step"),
    INT("--batch-images", batch_images, "N", 1, 65536, .def = "128", .help = "images per step"),
    FLOAT("--lr", lr, "X", 1e-8, 10, .def = "1e-3", .help = "peak learning rate"),
    FLOAT("--wd", wd, "X", 0, 10, .def = "1e-4", .help = "AdamW weight decay"),
    FLOAT("--clip", clip, "X", 0, 1e6, .def = "1", .help = "gradient norm clipping"),
    DOUBLE("--warmup-frac", warmup_frac, "X", 0, 1, .def = "0.05", .help = "fraction of the steps warming up"),
    INT("--val-every", val_every, "N", 1, 100000000, .shown = "one epoch", .help = "steps between validations"),
    INT("--val-images", val_images, "N", 1, 1000000, .def = "2000", .help = "held-out images for validation"),
    INT("--limit-train", limit_train, "N", 1, DWS_ZOO_MAX_COUNT, .shown = "all",
        .help = "use only the first N training classifiers"),
    INT("--limit-val", limit_val, "N", 1, DWS_ZOO_MAX_COUNT, .shown = "all",
        .help = "use only the first N validation classifiers"),
    SEED("--seed", seed, .def = "0", .help = "initialisation, batches and noise"),
    INT("--threads", threads, "N", 1, 64, .def = "2", .help = "worker threads"),
    FLAG("--resume", resume, .help = "continue from FILE.dws.ckpt when it exists"),
    FLAG("--no-template-conv", no_template_conv, .help = "ablation: hold the template convolution at zero"),
    FLAG("--no-position-embedding", no_position_embedding, .help = "ablation: hold the position embedding at zero"),
};
COMMAND(cli_train_adapter, "train-adapter", train_adapter_table,
        .about = "Trains a DWSNet adapter: batches of same-width training classifiers of the zoo are\n"
                 "adapted, scored on batches of corrupted training images (fresh noise every step)\n"
                 "and the cross-entropy is back-propagated into the adapter (AdamW, warm-up + cosine).\n"
                 "The zoo's val classifiers are scored on the last --val-images training images\n"
                 "(never in a training batch); the best model by that score is written to FILE.dws.",
        .epilog = "Writes FILE.dws, FILE.dws.ckpt (checkpoint) and FILE.csv (curves); progress on\n"
                  "stderr; prints a JSON summary on stdout.");
#undef S

#define S eval_opts
static const cli_option eval_table[] = {
    TEXT("--model", model, "FILE.dws", .shown = DWS_DEFAULT_ADAPTER " in the models directory", .help = "adapter"),
    TEXT("--zoo", zoo, "DIR", .help = "zoo whose test and test_unseen_widths classifiers are evaluated"),
    REPEAT("--extra", extras, "DIR", CLI_MAX_REPEAT, .help = "ONNX classifiers from outside the zoo"),
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 folder"),
    TEXT("--out", out, "DIR", .def = "eval-out", .help = "output folder"),
    TEXT("--domain", domain, "SPEC", .shown = "the card's target_domain",
         .help = "the domain to corrupt the test images with and to adapt to (a conditioned adapter)"),
    REPEAT("--baselines", baselines, "FILE", CLI_MAX_REPEAT - 3, .help = "another method's per-classifier results"),
    TEXT("--curves", curves, "FILE.csv", .shown = "the model's .csv when present", .help = "training curves to plot"),
    INT("--limit-images", limit_images, "N", 1, 10000000, .help = "score on the first N test images only"),
    INT("--limit", limit, "N", 1, DWS_ZOO_MAX_COUNT, .help = "at most N classifiers per zoo split"),
    SEED("--domain-seed", domain_seed, SEEN(domain_seed_seen), .shown = "the zoo's, else 0",
         .help = "noise seed of the corrupted test set"),
    TEXT("--card-entry", card_entry, "KEY", .help = "also store the summary in the model file's card under KEY"),
    FLAG("--common", common, .help = "add tables over the zoo classifiers that every --baselines file covers"),
    FLAG("--extra-oracle", extra_oracle,
         .help = "also fine-tune every --extra classifier (the oracle of docs/task.md: 1 epoch of Adam 5e-4, batch 128, "
                 "corrupted training images)"),
    FLAG("--zoo-oracle", zoo_oracle,
         .help = "also fine-tune every held-out --zoo classifier (the same oracle; for a zoo no --baselines file covers)"),
    INT("--threads", threads, "N", 0, 64, .def = "0", .help = "adapter threads (0: one per CPU)"),
};
COMMAND(cli_eval, "eval", eval_table,
        .about = "Adapts every test and test_unseen_widths classifier of the zoo, and every ONNX file\n"
                 "in --extra folders, and scores each before and after on the model's target domain\n"
                 "applied to test_batch (fixed seed) and on the clean test images. Writes into --out:\n"
                 "eval.md (the table; also printed), eval.json, dwsnet.json (per-classifier results,\n"
                 "the format --baselines reads) and SVG plots. Give --zoo, --extra or both.",
        .epilog = "With an encoder as --model, runs the linear probes of `dwsnet eval-embedder` instead\n"
                  "(its options apply).\n\n" MODELS_DIR_HELP);
#undef S

/* Image counts auto estimates from; a lone 0 turns auto off. */
static int parse_auto_images(const char *s, void *field, char *why, size_t why_size)
{
    if (!strcmp(s, "0")) {
        *(cli_int_list *)field = (cli_int_list){0};
        return 0;
    }
    if (parse_list(s, field, DWS_GRID_AUTO_MAX_SIZES, 1, DWS_AUTO_MAX_IMAGES, why, why_size) == 0) return 0;
    size_t used = strlen(why);
    snprintf(why + used, why_size - used, ", or 0 for none");
    return -1;
}

#define S eval_domains_opts
static const cli_option eval_domains_table[] = {
    TEXT("--model", model, "FILE.dws", .shown = DWS_DEFAULT_ADAPTER " in the models directory", .help = "adapter"),
    TEXT("--zoo", zoo, "DIR", .required = 1, .help = "zoo whose test classifiers are evaluated"),
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 folder"),
    TEXT("--out", out, "DIR", .def = "eval-domains", .help = "output folder"),
    TEXT("--oracle-dir", oracle_dir, "DIR", .shown = "OUT/oracle",
         .help = "cached oracle results, one file per domain, and the clean fine-tune's (computed when missing)"),
    FLAG("--no-oracle", no_oracle, .help = "leave the oracle column out (nothing is fine-tuned)"),
    FLAG("--oracle-cached", oracle_cached, .help = "read the cached oracle results only (nothing is fine-tuned)"),
    DOUBLE("--oracle-seconds", oracle_seconds, "S", 0, 1e9, .def = "0",
           .help = "stop fine-tuning new domains after S seconds (0: all); the cache keeps what is done"),
    INT("--limit", limit, "N", 1, DWS_ZOO_MAX_COUNT, .def = "20", .help = "the first N test classifiers"),
    INT("--images", images, "N", 1, 10000, .def = "5000", .help = "the first N test images of each domain"),
    CUSTOM("--auto-images", cli_int_list, auto_images, "LIST", parse_auto_images, .def = "8,64", SEEN(auto_images_seen),
           .help = "auto columns: the domain estimated from this many unlabeled held-apart images (up to "
                   STR(DWS_GRID_AUTO_MAX_SIZES) " sizes of 1-" STR(DWS_AUTO_MAX_IMAGES) "; 0: none)"),
    FLAG("--no-auto", no_auto, .help = "leave the auto columns out (as --auto-images 0)"),
    INT("--auto-draws", auto_draws, "N", 1, DWS_GRID_AUTO_MAX_DRAWS, .def = "8",
        .help = "disjoint image sets per domain and size, averaged"),
    TEXT("--estimator", estimator, "FILE.dws", .shown = DWS_DEFAULT_ESTIMATOR " in the models directory",
         .help = "the domain estimator of the auto columns (without it and without --auto-images, a missing "
                 "default leaves them out)"),
    INT("--threads", threads, "N", 0, 64, .def = "0", .help = "adapter threads (0: one per CPU)"),
};
COMMAND(cli_eval_domains, "eval-domains", eval_domains_table,
        .about = "The domain grid of an adapter: for clean images, every corruption type at severities\n"
                 "1, 3 and 5, and the default chain, the zoo's first test classifiers on the test\n"
                 "images through that domain unadapted, adapted with the domain named, with `any`,\n"
                 "with `auto` (the domain the estimator names from --auto-images unlabeled training\n"
                 "images of that domain, held apart from the scored ones; mean over --auto-draws draws),\n"
                 "fine-tuned by the oracle of docs/task.md (1 epoch of Adam on labelled corrupted\n"
                 "training images; cached per domain, slow the first time: 16-30 s per domain for 18\n"
                 "classifiers on 2 cores), and by the same epoch on clean training images (the clean\n"
                 "fine-tune: what the oracle's training gives without the domain; cached too). Writes\n"
                 "grid.md (the table and the targets; also printed), grid.json and heatmaps.",
        .epilog = MODELS_DIR_HELP);
#undef S

const char *const baseline_method_names[] = {"none", "rescale", "flat-mlp", "flat-mlp-perm", "oracle", NULL};

#define S baseline_opts
static const cli_option baseline_table[] = {
    CHOICE("--method", method, baseline_method_names, .required = 1, .help = "the baseline (above)"),
    TEXT("--zoo", zoo, "ZOO", .required = 1, .help = "the zoo: its train and val splits train, others are measured"),
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 folder"),
    TEXT("--domain", domain, "SPEC", .shown = "the zoo's, from ZOO/zoo.json", .help = "target domain"),
    TEXT("--out", out, "FILE", .shown = "stdout", .help = "where to write the JSON"),
    CUSTOM("--splits", cli_splits, splits, "LIST", parse_splits, .def = "test,test_unseen_widths",
           .help = "zoo splits to measure"),
    INT("--limit", limit, "N", 1, 1000000, .shown = "all", .help = "at most N classifiers per split"),
    INT("--steps", steps, "N", 0, 10000000, .def = "500", .help = "adapter updates"),
    INT("--classifiers-per-step", classifiers_per_step, "B", 1, 4096, .def = "8",
        .help = "training classifiers per update"),
    INT("--images-per-step", images_per_step, "M", 1, 65536, .def = "128", .help = "corrupted images per update"),
    FLOAT("--lr", lr, "X", 0, 10, SEEN(lr_seen), .shown = "0.01 rescale, 1e-4 flat-mlp", .help = "Adam learning rate"),
    INT("--hidden", hidden, "H", 1, 4096, .def = "64", .help = "flat-MLP hidden width (two hidden layers)"),
    INT("--val-every", val_every, "N", 1, 10000000, .def = "50", .help = "steps between validations"),
    INT("--val-images", val_images, "N", 1, DWS_EVAL_VAL_IMAGES, .def = "2000",
        .help = "held-out images of each validation"),
    INT("--max-train", max_train, "N", 1, 1000000, .shown = "all", .help = "use at most N training classifiers"),
    SEED("--seed", seed, .def = "0", .help = "training draws, initialisation and oracle batches"),
    TEXT("--model-out", model_out, "FILE", .help = "save the trained adapter (rescale, flat-mlp*)"),
    TEXT("--model-in", model_in, "FILE",
         .help = "measure a saved adapter instead of training one (its settings are not in the file: pass the "
                 "same training flags to record them)"),
    TEXT("--resume", resume, "FILE", .help = "keep the rows of an earlier results file of this method, measure "
                                            "the rest"),
};
COMMAND(cli_baseline, "baseline", baseline_table,
        .about = "Measures a baseline on every classifier of the given zoo splits: accuracy on the corrupted\n"
                 "test images (test_batch through the domain, noise seed " STR(DWS_EVAL_TEST_SEED)
                 ", as `dwsnet eval`) and on the\n"
                 "clean test images, before and after adaptation, as JSON {method, settings, per_classifier,\n"
                 "summary}. Methods:\n"
                 "  none           no adaptation (the reference row)\n"
                 "  rescale        W_1 <- a W_1, b_1 <- b_1 + c rowsum(W_1), (a, c) learned on the zoo's train split\n"
                 "  flat-mlp       MLP on the zero-padded, per-tensor normalised weight vector -> residual weights\n"
                 "  flat-mlp-perm  the same, every training classifier randomly hidden-permuted at every step\n"
                 "  oracle         fine-tune every weight: 1 epoch Adam 5e-4, batch 128, labeled corrupted images\n"
                 "Learned baselines train on corrupted training images 0..44999 (noise seed "
                 STR(DWS_EVAL_TRAIN_SEED) ")\n"
                 "with the adapted classifiers' cross-entropy (Adam), and keep the step with the best mean\n"
                 "accuracy of the zoo's val classifiers on the last " STR(DWS_EVAL_VAL_IMAGES)
                 " corrupted training images.\n"
                 "Progress goes to stderr.");
#undef S

#define S inr_zoo_opts
static const cli_option inr_zoo_table[] = {
    INT("--count", count, "N", 1, 1000000, .required = 1, .help = "networks"),
    TEXT("--out", out, "DIR", .required = 1, .help = "the zoo folder"),
    INT("--seed", seed, "S", 0, 0x7fffffffL, .def = "0", .help = "draws of a, b, split and initialisation"),
    INT("--hidden", hidden, "H", 1, 4096, .def = "32", .help = "hidden width"),
    INT("--points", points, "P", 2, 1 << 20, .def = "256", .help = "grid points"),
    INT("--steps", steps, "N", 0, 10000000, .def = "2000", .help = "full-batch Adam steps per network"),
    FLOAT("--lr", lr, "X", 1e-8, 10, .def = "0.01", .help = "Adam learning rate, cosine-decayed to X/10"),
    INT("--jobs", jobs, "J", 1, DWS_MAX_THREADS, .shown = "online CPUs",
        .help = "networks fitted at once; the zoo is the same bits for any J"),
};
COMMAND(cli_inr_zoo, "inr-zoo", inr_zoo_table,
        .about = "Fits N MLPs 1-H-H-1 (ReLU) to y = a sin(b x) on a grid of x in [-pi, pi], with a and b\n"
                 "drawn from U[0, 10] per network, and writes them as a zoo: DIR/models/NNNNNN.onnx\n"
                 "(a and b also in the ONNX metadata) and DIR/index.jsonl, one record per network\n"
                 "with id, file, split (train 70%, val 15%, test 15%), widths, a, b, fit_mse.\n"
                 "Prints {\"count\", \"dir\", \"mean_fit_mse\"} as JSON.");
#undef S

#define S train_embedder_opts
static const cli_option train_embedder_table[] = {
    TEXT("--zoo", zoo, "DIR", .required = 1, .help = "the zoo (its train split)"),
    TEXT("--out", out, "FILE.dws", .required = 1, .help = "the encoder"),
    INT("--dim", dim, "D", 1, 4096, .def = "32", .help = "embedding size"),
    INT("--channels", channels, "C", 1, 256, .def = "16", .help = "channels of the DWS layers"),
    INT("--layers", layers, "N", 1, DWS_MAX_DWS_LAYERS, .def = "4", .help = "DWS layers"),
    INT("--mlp-hidden", mlp_hidden, "H", 1, 4096, .def = "128", .help = "hidden width of the encoder's MLP head"),
    FLOAT("--rescale", rescale, "R", 0, 5, .def = "0",
          .help = "views rescale hidden neuron i by s_i, log s_i ~ U[-R, R], a function-preserving change for "
                  "ReLU networks (0: off)"),
    FLAG("--no-width-features", no_width_features, .help = "the head does not read log hidden widths (ablation)"),
    /* --projection 128 and --probes 32: the shipped CIFAR-10 encoder's recipe (docs/embeddings.md section 3). */
    INT("--projection", projection, "P", 0, 4096, .def = "128",
        .help = "contrast a projection of the embedding (SimCLR's head, D -> P -> D, used in training only; 0: the "
                "embedding itself)"),
    FLAG("--no-head-skip", no_head_skip,
         .help = "the embedding reads the width and probe features only through the head's hidden layer, not also "
                 "through a linear skip"),
    INT("--probes", probes, "K", 0, 4096, .def = "32",
        .help = "the head also reads each network's outputs on K learned inputs (0: off)"),
    CUSTOM("--probe-range", cli_range, probe_range, "LO,HI", parse_range, .def = "0,1",
           .help = "probes start spread over [LO, HI] (a Latin hypercube: one probe in each of K strata of every "
                   "input; 0,1: CIFAR-10 pixels)"),
    TEXT("--probe-data", probe_data, "DIR", .help = "probes start as K CIFAR-10 training images from DIR instead"),
    INT("--steps", steps, "N", 1, 1L << 30, .def = "10000", .help = "optimiser steps"),
    INT("--groups", groups, "G", 1, 64, .def = "4", .help = "same-width groups per step"),
    INT("--group-size", group_size, "B", 1, 64, .def = "8", .help = "networks per group"),
    FLOAT("--lr", lr, "X", 1e-8, 1, .def = "1e-3", .help = "peak AdamW learning rate; warm-up, then cosine to X/20"),
    INT("--warmup", warmup, "N", 1, 1L << 30, .def = "100", .help = "warm-up steps"),
    FLOAT("--weight-decay", weight_decay, "X", 0, 10, .def = "0.01", .help = "AdamW weight decay"),
    FLOAT("--temperature", temperature, "T", 1e-3, 100, .def = "0.1", .help = "NT-Xent temperature"),
    FLOAT("--noise", noise, "X", 0, 10, .def = "0.2", .help = "view noise std, relative to each tensor's RMS"),
    FLOAT("--mask", mask, "P", 0, 0.99, .def = "0.3", .help = "view masking probability"),
    INT("--seed", seed, "S", 0, 0x7fffffffL, .def = "0", .help = "initialisation, batches and views"),
    INT("--threads", threads, "N", 1, 64, .shown = "one per CPU", .help = "worker threads"),
    TEXT("--id", id, "NAME", .shown = "the --out file name without .dws", .help = "model id"),
    TEXT("--curves", curves, "FILE", .shown = "FILE.dws -> FILE.curves.csv", .help = "per-step CSV"),
    TEXT("--checkpoint", checkpoint, "FILE", .shown = "FILE.dws -> FILE.ckpt", .help = "checkpoint"),
    INT("--checkpoint-every", checkpoint_every, "N", 1, 1L << 30, .def = "100", .help = "steps between checkpoints"),
    FLAG("--resume", resume, .help = "continue from the checkpoint"),
    INT("--stop-after", stop_after, "N", 1, 1L << 30, .help = "stop (with a checkpoint) after N steps of this run"),
    TEXT("--input-convention", input_convention, "TEXT", .shown = "the CIFAR-10 convention",
         .help = "how inputs of the networks read are encoded (card)"),
};
COMMAND(cli_train_embedder, "train-embedder", train_embedder_table,
        .about = "Trains a DWSNet encoder with NT-Xent between two random views of every network\n"
                 "(hidden permutation, masked entries, Gaussian noise) on the zoo's train split.\n"
                 "A step embeds --groups same-width groups of --group-size networks and forms the\n"
                 "loss over all of them. Progress goes to stderr every 10 steps, one CSV row per\n"
                 "step to the curves file; a checkpoint is written every --checkpoint-every steps and\n"
                 "at the end, and --resume continues from it (same settings required).",
        .epilog = "Prints a JSON summary (id, path, steps, loss, top1, seconds).");
#undef S

#define S eval_embedder_opts
static const cli_option eval_embedder_table[] = {
    TEXT("--zoo", zoo, "DIR", .required = 1, .help = "the zoo"),
    TEXT("--model", model, "FILE.dws", .shown = DWS_DEFAULT_ENCODER " in the models directory", .help = "encoder"),
    TEXT("--out", out, "DIR", .help = "write DIR/probe.json, DIR/probe.md and DIR/embedding-PROPERTY.svg"),
    TEXT("--properties", properties, "LIST", .shown = "a,b for INR zoos, else " EVAL_EMBEDDER_CIFAR_PROPS,
         .help = "comma-separated record fields"),
    INT("--pca-dim", pca_dim, "K", 1, 4096, .shown = "the embedding size", .help = "flat_pca components"),
    INT("--threads", threads, "N", 1, 64, .shown = "one per CPU", .help = "worker threads"),
    FLAG("--write-card", write_card, .help = "store the probe results in the model's card (rewrites FILE)"),
};
COMMAND(cli_eval_embedder, "eval-embedder", eval_embedder_table,
        .about = "Embeds every network of the zoo and fits ridge linear probes (penalty chosen on the\n"
                 "val split) from the train split's features to recorded properties; reports R^2 on\n"
                 "the test split (and test_unseen_widths when the zoo has one) for three feature sets:\n"
                 "  embedding     the encoder's output\n"
                 "  weight_stats  per-tensor mean, std and 0/25/50/75/100% quantiles (Unterthiner et al.)\n"
                 "  flat_pca      PCA of the flattened weights, zero-padded to common widths\n"
                 "Also checks that embeddings do not change under random hidden permutations, and with\n"
                 "--out writes DIR/probe.json, DIR/probe.md and DIR/embedding-PROPERTY.svg (2-D PCA of\n"
                 "the test embeddings coloured by each property).",
        .epilog = "Prints the results (JSON) with the targets of issue 6.\n\n" MODELS_DIR_HELP);
#undef S

#define S train_estimator_opts
static const cli_option train_estimator_table[] = {
    TEXT("--out", out, "FILE.dws", .alias = "-o", .required = 1, .help = "the estimator (best by validation)"),
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 folder (its training split)"),
    TEXT("--id", id, "NAME", .def = "cifar10c-domain-estimator", .help = "estimator id"),
    CUSTOM("--exclude", unsigned, exclude, "LIST", parse_corruptions,
           .help = "corruptions left out of the classes (comma-separated), e.g. to measure corruptions never seen "
                   "in training; chains that use one are left out too"),
    CUSTOM("--chains", cli_chains, chains, "SPEC;SPEC", parse_chains, .def = DWS_DEFAULT_DOMAIN,
           .help = "chain classes, each of two steps, separated by ';' (quote them), or none"),
    INT("--hidden", hidden, "H", 0, 4096, .def = "256", .help = "hidden width of the MLP (0: softmax regression)"),
    INT("--pool-images", pool_images, "N", 1, 45000, .def = "1000", .help = "training images per class"),
    INT("--val-images", val_images, "N", 256, DWS_EVAL_VAL_IMAGES, .def = "400",
        .help = "held-out training images per class"),
    INT("--val-sets", val_sets, "N", 1, 10000, .def = "16", .help = "validation sets per class and size"),
    INT("--min-set", min_set, "N", 1, 4096, .def = "8", .help = "smallest training set"),
    INT("--max-set", max_set, "N", 1, 4096, .def = "256", .help = "largest training set"),
    INT("--steps", steps, "N", 1, 10000000, .def = "6000", .help = "optimisation steps"),
    INT("--batch-sets", batch_sets, "B", 1, 65536, .def = "256", .help = "sets per step"),
    INT("--val-every", val_every, "N", 1, 10000000, .def = "250", .help = "steps between validations"),
    FLOAT("--lr", lr, "X", 1e-8, 10, .def = "3e-3", .help = "peak AdamW learning rate (5% warm-up, cosine decay)"),
    FLOAT("--wd", wd, "X", 0, 10, .def = "1e-4", .help = "AdamW weight decay"),
    SEED("--seed", seed, .def = "0", .help = "pools, sets, initialisation"),
    INT("--threads", threads, "N", 1, 64, .def = "2", .help = "worker threads for the pools"),
};
COMMAND(cli_train_estimator, "train-estimator", train_estimator_table,
        .about = "Trains the domain estimator (docs/estimator.md): for clean, every corruption at severities\n"
                 "1-5 and each --chains chain, a pool of CIFAR-10 training images through that domain (rounded\n"
                 "to bytes) gives image statistics; every step draws sets of 8-256 images of random classes from\n"
                 "the pools and trains a small MLP on the sets' features to name the domain. Sets from held-out\n"
                 "training images validate it every --val-every steps; the best is written to FILE.dws with its\n"
                 "card. Takes about 1.5 CPU-minutes with the defaults; progress on stderr, a JSON summary on\n"
                 "stdout (validation type accuracy over every class, over clean and the single corruptions, and\n"
                 "over the chains).",
        .extra_help = corruption_names);
#undef S

static int parse_sets(const char *s, void *field, char *why, size_t why_size)
{
    return parse_list(s, field, 3, 0, 100000, why, why_size);
}

#define S eval_estimator_opts
static const cli_option eval_estimator_table[] = {
    TEXT("--estimator", estimator, "FILE.dws", .shown = DWS_DEFAULT_ESTIMATOR " in the models directory",
         .help = "the domain estimator"),
    TEXT("--data", data, "DIR", .shown = "$DWSNET_DATA", .help = "CIFAR-10 folder (its test split)"),
    TEXT("--out", out, "DIR", .help = "also write DIR/estimator-eval.md and DIR/estimator-eval.json"),
    INT("--pool-images", pool_images, "N", 1, 10000, .def = "1000", .help = "test images per domain"),
    CUSTOM("--sets", cli_int_list, sets, "A,B,C", parse_sets, .def = "100,40,20",
           .help = "sets per domain of 8, 64 and 256 images"),
    INT("--timing-runs", timing_runs, "N", 0, 100000, .def = "200",
        .help = "estimates of 64 images timed (the median is reported; 0: none)"),
    TEXT("--card-entry", card_entry, "KEY", .help = "also store the summary in the estimator's card under KEY "
                                                   "(rewrites the file)"),
    INT("--threads", threads, "N", 1, 64, .def = "2", .help = "worker threads for the pools"),
};
COMMAND(cli_eval_estimator, "eval-estimator", eval_estimator_table,
        .about = "Measures the domain estimator on CIFAR-10's test images: for clean, each of the 19\n"
                 "corruptions at severities 1-5 and each chain class of the estimator, --pool-images test images\n"
                 "through that domain (rounded to bytes, as image files hold them), and sets of 8, 64 and 256 of\n"
                 "them drawn at random. Prints the share of sets whose corruption type is named right (and type\n"
                 "and severity, clean named clean, and a chain named exactly), accuracy by type and severity\n"
                 "and by chain, the confusion matrix of the estimated type for each set size (a chain class\n"
                 "estimated for a single corruption is wrong), and the time one estimate of 64 decoded images\n"
                 "takes on one core.",
        .epilog = MODELS_DIR_HELP);
#undef S

#define S estimate_domain_opts
static const cli_option estimate_domain_table[] = {
    {"--images", CLI_LIST, CLI_AT(S, cli_args, images), .meta = "FILE...", .required = 1,
     .help = "the images: PNG or JPEG files of 32 x 32 RGB pixels, or CIFAR-10 binary records files (.bin, or "
             ".gz; labels ignored)"},
    TEXT("--estimator", estimator, "FILE.dws", .shown = DWS_DEFAULT_ESTIMATOR " in the models directory",
         .help = "the domain estimator"),
    INT("--max-images", max_images, "N", 0, 1L << 30, .def = "0", .help = "refuse more images than this (0: no "
                                                                         "limit but 1 GiB of decoded images)"),
};
COMMAND(cli_estimate_domain, "estimate-domain", estimate_domain_table,
        .about = "Estimates the domain unlabeled images come from: clean, one of the 19 corruptions of\n"
                 "`dwsnet corrupt` at a severity 1-5, or a chain the estimator knows (the shipped one:\n"
                 "contrast:4,gaussian_noise:2; docs/estimator.md). Pools image statistics over all the images\n"
                 "(more images, surer answers: 64 name the corruption type right about 99% of the time on\n"
                 "CIFAR-10 test images) and prints one JSON line: {\"estimate\": the domain as --domain takes it\n"
                 "(\"clean\" for none), \"p\": its probability, \"type\", \"type_p\": the corruption (a chain's:\n"
                 "its corruptions, \"contrast,gaussian_noise\") and its probability over all severities,\n"
                 "\"images\", \"estimator\", \"probabilities\": every domain's}. A JPEG file is itself\n"
                 "JPEG-compressed: at quality 80 or lower it is told apart from clean. An image that is not\n"
                 "32 x 32 RGB is an error (bad_image) naming the file.",
        .epilog = MODELS_DIR_HELP);
#undef S
