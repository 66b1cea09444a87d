/* The zoo on a tiny synthetic data set: every entry built once, resumed runs skip
 * finished entries, shards add up to the whole zoo, the folder refuses other settings,
 * and recipes and splits follow the documented distribution. */
#include <cblas.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "zoo/zoo.h"

#define N_TRAIN 300
#define N_TEST 100

static dws_image_set train, test;
static float *target;
static dws_zoo_data data;
static char dir[64];

static void fill(dws_image_set *s, size_t n, uint64_t seed)
{
    *s = (dws_image_set){.n = n, .channels = 3, .height = 32, .width = 32, .dim = 3072, .n_classes = 10};
    s->pixels = malloc(n * 3072);
    s->labels = malloc(n);
    dws_rng r;
    dws_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        s->labels[i] = (uint8_t)(i % 10);
        for (size_t j = 0; j < 3072; j++) s->pixels[i * 3072 + j] = (uint8_t)(dws_rng_below(&r, 128) + 12 * s->labels[i]);
    }
}

static void setup(void)
{
    openblas_set_num_threads(1);   /* bit-identical training across runs */
    fill(&train, N_TRAIN, 1);
    fill(&test, N_TEST, 2);
    target = dws_image_set_float_copy(&test, NULL);
    dws_domain d;
    ck_assert_int_eq(dws_domain_parse(DWS_DEFAULT_DOMAIN, &d, NULL), 0);
    ck_assert_int_eq(dws_domain_apply(&d, 3, 32, 32, target, N_TEST, 0, 0, NULL), 0);
    data = (dws_zoo_data){.train = &train, .test = &test, .target_test = target};
    strcpy(dir, "/tmp/dws-zoo-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    dws_image_set_free(&train);
    dws_image_set_free(&test);
    free(target);
}

static void tiny_spec(dws_zoo_spec *s, int count)
{
    dws_zoo_spec_default(s);
    s->count = count;
    s->seed = 5;
    s->n_epochs = 1;
    s->epochs[0] = 1;
    s->n_subsets = 1;
    s->subsets[0] = 100;
}

static dws_zoo_progress run(const char *where, const dws_zoo_spec *s, int shard, int shards, int jobs)
{
    dws_error err = {0};
    ck_assert_msg(dws_zoo_open(where, s, train.n, test.n, &err) == 0, "%s", err.message);
    dws_zoo_run_options opt = {.shard_index = shard, .shard_count = shards, .jobs = jobs};
    dws_zoo_progress p;
    ck_assert_msg(dws_zoo_run(where, s, &data, &opt, &p, &err) == 0, "%s", err.message);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static char *entry_file(const char *where, int id, const char *sub, const char *ext)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s/%06d.%s", where, sub, id, ext);
    return path;
}

START_TEST(zoo_builds_every_entry_and_index)
{
    dws_zoo_spec s;
    tiny_spec(&s, 5);
    dws_zoo_progress p = run(dir, &s, 0, 1, 2);
    ck_assert_int_eq(p.total, 5);
    ck_assert_int_eq(p.built, 5);
    ck_assert_int_eq(p.skipped, 0);
    char path[128];
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    size_t len;
    char *index = slurp(path, &len), *line = index;
    for (int id = 0; id < 5; id++) {
        char want[32];
        snprintf(want, sizeof want, "{\"id\":%d,", id);
        ck_assert_msg(!strncmp(line, want, strlen(want)), "line %d: %.60s", id, line);
        ck_assert_ptr_nonnull(strstr(line, "\"clean_test_acc\":"));
        ck_assert_ptr_nonnull(strstr(line, "\"target_test_acc\":"));
        ck_assert_ptr_nonnull(strstr(line, "\"split\":"));
        line = strchr(line, '\n') + 1;
        struct stat st;
        ck_assert_int_eq(stat(entry_file(dir, id, "models", "onnx"), &st), 0);
        ck_assert_int_gt(st.st_size, 3072 * 32 * 4);
        ck_assert_int_eq(dws_zoo_entry_done(dir, id), 1);
    }
    ck_assert_int_eq(*line, '\0');
    free(index);
}
END_TEST

START_TEST(zoo_resume_skips_finished_entries)
{
    dws_zoo_spec s;
    tiny_spec(&s, 4);
    run(dir, &s, 0, 1, 1);
    size_t len0;
    char *before = slurp(entry_file(dir, 0, "entries", "json"), &len0);
    ck_assert_int_eq(unlink(entry_file(dir, 2, "entries", "json")), 0);
    ck_assert_int_eq(dws_zoo_entry_done(dir, 2), 0);
    dws_zoo_progress p = run(dir, &s, 0, 1, 2);
    ck_assert_int_eq(p.skipped, 3);
    ck_assert_int_eq(p.built, 1);
    ck_assert_int_eq(dws_zoo_entry_done(dir, 2), 1);
    /* entry 0 was not retrained: its record (with its training time) is byte-identical */
    size_t len1;
    char *after = slurp(entry_file(dir, 0, "entries", "json"), &len1);
    ck_assert_uint_eq(len0, len1);
    ck_assert_mem_eq(before, after, len0);
    /* a damaged record counts as unfinished and is rebuilt */
    FILE *f = fopen(entry_file(dir, 1, "entries", "json"), "w");
    fputs("{\"id\": 1, \"clean", f);
    fclose(f);
    ck_assert_int_eq(dws_zoo_entry_done(dir, 1), 0);
    p = run(dir, &s, 0, 1, 1);
    ck_assert_int_eq(p.built, 1);
    ck_assert_int_eq(dws_zoo_entry_done(dir, 1), 1);
    free(before);
    free(after);
}
END_TEST

/* The crc32 of each ONNX file, as its record states it. */
static void record_crc(const char *where, int id, char *crc)
{
    size_t len;
    char *rec = slurp(entry_file(where, id, "entries", "json"), &len);
    char *p = strstr(rec, "\"onnx_crc32\":\"");
    ck_assert_ptr_nonnull(p);
    memcpy(crc, p + 14, 8);
    crc[8] = '\0';
    free(rec);
}

START_TEST(zoo_shards_add_up_to_the_whole)
{
    dws_zoo_spec s;
    tiny_spec(&s, 5);
    char whole[96];
    snprintf(whole, sizeof whole, "%s/whole", dir);
    run(whole, &s, 0, 1, 1);
    char sharded[96];
    snprintf(sharded, sizeof sharded, "%s/sharded", dir);
    dws_zoo_progress p0 = run(sharded, &s, 0, 2, 1);
    ck_assert_int_eq(p0.total, 3);                /* ids 0, 2, 4 */
    ck_assert_int_eq(dws_zoo_entry_done(sharded, 1), 0);
    dws_zoo_progress p1 = run(sharded, &s, 1, 2, 2);
    ck_assert_int_eq(p1.total, 2);                /* ids 1, 3 */
    for (int id = 0; id < 5; id++) {
        char a[9], b[9];
        record_crc(whole, id, a);
        record_crc(sharded, id, b);
        ck_assert_str_eq(a, b);                   /* the same classifier, bit for bit */
    }
    size_t la, lb;
    char pa[128], pb[128];
    snprintf(pa, sizeof pa, "%s/index.jsonl", whole);
    snprintf(pb, sizeof pb, "%s/index.jsonl", sharded);
    char *ia = slurp(pa, &la), *ib = slurp(pb, &lb);
    int lines_a = 0, lines_b = 0;
    for (size_t i = 0; i < la; i++) lines_a += ia[i] == '\n';
    for (size_t i = 0; i < lb; i++) lines_b += ib[i] == '\n';
    ck_assert_int_eq(lines_a, 5);
    ck_assert_int_eq(lines_b, 5);
    free(ia);
    free(ib);
}
END_TEST

START_TEST(zoo_refuses_other_settings)
{
    dws_zoo_spec s, t;
    tiny_spec(&s, 3);
    dws_error err = {0};
    ck_assert_int_eq(dws_zoo_open(dir, &s, train.n, test.n, &err), 0);
    ck_assert_int_eq(dws_zoo_open(dir, &s, train.n, test.n, &err), 0);
    t = s;
    t.seed = 6;
    ck_assert_int_eq(dws_zoo_open(dir, &t, train.n, test.n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "'seed'"));
    t = s;
    t.epochs[0] = 2;
    ck_assert_int_eq(dws_zoo_open(dir, &t, train.n, test.n, &err), -1);
    ck_assert_int_eq(dws_zoo_open(dir, &s, train.n + 1, test.n, &err), -1);
    t = s;
    t.recipes = DWS_ZOO_REFERENCE;
    ck_assert_int_eq(dws_zoo_open(dir, &t, train.n, test.n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "'recipes'"));
    t = s;
    t.n_epochs = 0;
    ck_assert_int_eq(dws_zoo_open(dir, &t, train.n, test.n, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    ck_assert_int_eq(dws_zoo_read_spec(dir, &t, &err), 0);
    ck_assert_int_eq(t.count, 3);
    ck_assert_uint_eq(t.seed, 5);
    ck_assert_int_eq(t.n_subsets, 1);
    ck_assert_uint_eq(t.subsets[0], 100);
    ck_assert_int_eq(t.domain.n_steps, 2);
}
END_TEST

START_TEST(zoo_recipes_follow_the_documented_distribution)
{
    dws_zoo_spec s;
    dws_zoo_spec_default(&s);
    int splits[4] = {0}, optim[3] = {0};
    const int n = 4000;
    for (int i = 0; i < n; i++) {
        dws_recipe r, again;
        dws_zoo_split sp, sp2;
        dws_zoo_entry_recipe(&s, i, &r, &sp);
        dws_zoo_entry_recipe(&s, i, &again, &sp2);
        ck_assert_int_eq(sp, sp2);
        ck_assert_mem_eq(&r, &again, sizeof r);
        splits[sp]++;
        optim[r.optim.kind]++;
        ck_assert_int_eq(r.n_hidden, 2);
        for (int l = 0; l < 2; l++) {
            int64_t w = r.hidden[l];
            if (sp == DWS_ZOO_TEST_UNSEEN_WIDTHS) ck_assert(w == 48 || w == 96 || w == 192);
            else ck_assert(w == 32 || w == 64 || w == 128 || w == 256);
        }
        ck_assert(r.epochs >= 1 && r.epochs <= 20);
        ck_assert(r.subset == 5000 || r.subset == 10000 || r.subset == 25000 || r.subset == 50000);
        ck_assert(r.optim.kind != DWS_OPT_SGD || r.optim.momentum == 0.9f);
        ck_assert_uint_lt(r.seed, 1ULL << 53);
    }
    const double want[4] = {0.75, 0.10, 0.10, 0.05};
    for (int k = 0; k < 4; k++) ck_assert_double_lt(fabs((double)splits[k] / n - want[k]), 0.025);
    ck_assert_double_lt(fabs((double)optim[DWS_OPT_ADAM] / n - 0.5), 0.03);
    ck_assert_double_lt(fabs((double)optim[DWS_OPT_SGD] / n - 0.35), 0.03);
    /* a reference zoo: the PyTorch recipe everywhere, seeds differ, no unseen widths */
    dws_zoo_spec ref = s;
    ref.recipes = DWS_ZOO_REFERENCE;
    dws_recipe ref_recipe = dws_recipe_reference(), r0, r1;
    dws_zoo_split s0, s1;
    for (int i = 0; i < 200; i++) {
        dws_zoo_entry_recipe(&ref, i, &r0, &s0);
        ck_assert_int_ne(s0, DWS_ZOO_TEST_UNSEEN_WIDTHS);
        ref_recipe.seed = r0.seed;
        ck_assert_mem_eq(&r0, &ref_recipe, sizeof ref_recipe);
    }
    dws_zoo_entry_recipe(&ref, 1, &r1, &s1);
    dws_zoo_entry_recipe(&ref, 2, &r0, &s0);
    ck_assert_uint_ne(r0.seed, r1.seed);
    /* another zoo seed gives other recipes */
    dws_recipe a, b;
    dws_zoo_split sa, sb;
    dws_zoo_entry_recipe(&s, 7, &a, &sa);
    s.seed = 1;
    dws_zoo_entry_recipe(&s, 7, &b, &sb);
    ck_assert_uint_ne(a.seed, b.seed);
}
END_TEST

/* The default zoo as it was before families (the zoo being built with it relies on
 * that): zoo.json's text and the recipes and splits of a few entries of seed 0, as the
 * zoo of 2026-12-04 recorded them. */
static const char DEFAULT_ZOO_JSON[] =
    "{\n"
    "\t\"format\":\t1,\n"
    "\t\"seed\":\t0,\n"
    "\t\"count\":\t500,\n"
    "\t\"recipes\":\t\"mixed\",\n"
    "\t\"epochs\":\t[1, 2, 3, 4, 6, 8, 12, 16, 20],\n"
    "\t\"subsets\":\t[5000, 10000, 25000, 50000],\n"
    "\t\"domain\":\t\"contrast:4,gaussian_noise:2\",\n"
    "\t\"domain_seed\":\t0,\n"
    "\t\"train_images\":\t50000,\n"
    "\t\"test_images\":\t10000,\n"
    "\t\"input\":\t\"x = pixel / 255 as float32, channel-major (CHW), flattened to 3072 values\",\n"
    "\t\"classes\":\t10,\n"
    "\t\"hidden_widths\":\t[32, 64, 128, 256],\n"
    "\t\"unseen_hidden_widths\":\t[48, 96, 192],\n"
    "\t\"splits\":\t{\n"
    "\t\t\"train\":\t0.75,\n"
    "\t\t\"val\":\t0.1,\n"
    "\t\t\"test\":\t0.1,\n"
    "\t\t\"test_unseen_widths\":\t0.05\n"
    "\t},\n"
    "\t\"split_rule\":\t\"u = first uniform draw of entry i's stream (seed, i); train if u < 0.75, val if u < "
    "0.85, test if u < 0.95, else test_unseen_widths (hidden widths from unseen_hidden_widths)\",\n"
    "}\n";

static const struct {
    int id;
    const char *split, *recipe;
} DEFAULT_RECIPES[] = {
    {0, "train", "{\"hidden\":[32,32],\"optimizer\":\"adamw\",\"lr\":0.001,\"weight_decay\":0.01,\"epochs\":20,"
                 "\"batch_size\":128,\"subset\":50000,\"seed\":3920880769943158}"},
    {1, "test", "{\"hidden\":[64,256],\"optimizer\":\"adam\",\"lr\":0.001,\"weight_decay\":0.0001,\"epochs\":4,"
                "\"batch_size\":64,\"subset\":10000,\"seed\":77219513438723}"},
    {2, "train", "{\"hidden\":[32,256],\"optimizer\":\"adam\",\"lr\":0.002,\"weight_decay\":0.0001,\"epochs\":4,"
                 "\"batch_size\":64,\"subset\":25000,\"seed\":2591770585107790}"},
    {3, "val", "{\"hidden\":[128,32],\"optimizer\":\"adam\",\"lr\":0.002,\"weight_decay\":0.0001,\"epochs\":1,"
               "\"batch_size\":64,\"subset\":10000,\"seed\":6262092887916152}"},
    {17, "train", "{\"hidden\":[256,256],\"optimizer\":\"adam\",\"lr\":0.002,\"weight_decay\":0.0001,\"epochs\":2,"
                  "\"batch_size\":256,\"subset\":5000,\"seed\":8865260166541267}"},
};

START_TEST(default_zoo_is_unchanged)
{
    dws_zoo_spec s;
    dws_zoo_spec_default(&s);
    ck_assert(dws_zoo_spec_is_default_family(&s));
    for (size_t k = 0; k < sizeof DEFAULT_RECIPES / sizeof *DEFAULT_RECIPES; k++) {
        dws_recipe r;
        dws_zoo_split sp;
        dws_zoo_entry_recipe(&s, DEFAULT_RECIPES[k].id, &r, &sp);
        cJSON *j = dws_recipe_to_json(&r);
        char *text = cJSON_PrintUnformatted(j);
        ck_assert_str_eq(text, DEFAULT_RECIPES[k].recipe);
        ck_assert_str_eq(dws_zoo_split_name(sp), DEFAULT_RECIPES[k].split);
        ck_assert_int_eq(dws_recipe_activation(&r), DWS_ACT_RELU);
        free(text);
        cJSON_Delete(j);
    }
    /* the same lists given explicitly are the default family: nothing more is drawn */
    dws_zoo_spec explicit = s;
    dws_zoo_spec_family(&explicit, DWS_ZOO_FAMILY_ANY_MLP);
    explicit.n_hidden_layers = 1, explicit.hidden_layers[0] = 2;
    explicit.n_activations = 1, explicit.activations[0] = DWS_ACT_RELU;
    ck_assert(dws_zoo_spec_is_default_family(&explicit));
    dws_error err = {0};
    ck_assert_int_eq(dws_zoo_open(dir, &s, 50000, 10000, &err), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/zoo.json", dir);
    size_t len;
    char *text = slurp(path, &len), *created = strstr(text, "\t\"created_by\"");
    ck_assert_ptr_nonnull(created);
    char *line_end = strchr(created, '\n');
    memmove(created, line_end + 1, strlen(line_end + 1) + 1);
    /* everything but the last key, created_by, which names the version */
    ck_assert_str_eq(text, DEFAULT_ZOO_JSON);
    free(text);
}
END_TEST

static dws_zoo_split split_of(const dws_zoo_spec *s, int index)
{
    dws_recipe r;
    dws_zoo_split sp;
    dws_zoo_entry_recipe(s, index, &r, &sp);
    return sp;
}

/* The any-mlp family: 1-4 hidden layers and four activations drawn evenly, splits as
 * in the default family (the same first draw), and at the documented size (800 entries,
 * seed 0: docs/data-and-zoo.md) at least 15 test classifiers in every depth group and
 * every activation group. */
START_TEST(any_mlp_family_draws_depths_and_activations)
{
    dws_zoo_spec s, d;
    dws_zoo_spec_default(&s);
    dws_zoo_spec_default(&d);
    dws_zoo_spec_family(&s, DWS_ZOO_FAMILY_ANY_MLP);
    ck_assert(!dws_zoo_spec_is_default_family(&s));
    int depths[5] = {0}, acts[DWS_ACT_LAST + 1] = {0};
    int test_depths[5] = {0}, test_acts[DWS_ACT_LAST + 1] = {0};
    const int n = 4000, documented = 800;
    for (int i = 0; i < n; i++) {
        dws_recipe r;
        dws_zoo_split sp;
        dws_zoo_entry_recipe(&s, i, &r, &sp);
        ck_assert_int_eq(sp, split_of(&d, i));
        ck_assert(r.n_hidden >= 1 && r.n_hidden <= 4);
        dws_activation a = dws_recipe_activation(&r);
        ck_assert(a == DWS_ACT_RELU || a == DWS_ACT_LEAKY_RELU || a == DWS_ACT_GELU || a == DWS_ACT_TANH);
        ck_assert_float_eq(r.leaky_slope, 0.01f);
        for (int l = 0; l < r.n_hidden; l++) {
            int64_t w = r.hidden[l];
            if (sp == DWS_ZOO_TEST_UNSEEN_WIDTHS) ck_assert(w == 48 || w == 96 || w == 192);
            else ck_assert(w == 32 || w == 64 || w == 128 || w == 256);
        }
        depths[r.n_hidden]++;
        acts[a]++;
        if (i < documented && sp == DWS_ZOO_TEST) test_depths[r.n_hidden]++, test_acts[a]++;
    }
    for (int k = 1; k <= 4; k++) {
        ck_assert_double_lt(fabs((double)depths[k] / n - 0.25), 0.03);
        ck_assert_int_ge(test_depths[k], 15);
    }
    const dws_activation listed[] = {DWS_ACT_RELU, DWS_ACT_LEAKY_RELU, DWS_ACT_GELU, DWS_ACT_TANH};
    for (int k = 0; k < 4; k++) {
        ck_assert_double_lt(fabs((double)acts[listed[k]] / n - 0.25), 0.03);
        ck_assert_int_ge(test_acts[listed[k]], 15);
    }
    /* a recipe's text names a non-ReLU activation (and LeakyReLU's slope) */
    for (int i = 0; i < 50; i++) {
        dws_recipe r;
        dws_zoo_split sp;
        dws_zoo_entry_recipe(&s, i, &r, &sp);
        cJSON *j = dws_recipe_to_json(&r);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "activation");
        const cJSON *slope = cJSON_GetObjectItemCaseSensitive(j, "leaky_relu_slope");
        dws_activation a = dws_recipe_activation(&r);
        if (a == DWS_ACT_RELU) ck_assert_ptr_null(name);
        else ck_assert_str_eq(name->valuestring, dws_activation_name(a));
        ck_assert(a == DWS_ACT_LEAKY_RELU ? slope && slope->valuedouble == 0.01 : !slope);
        cJSON_Delete(j);
    }
    /* a reference zoo takes no family */
    dws_error err = {0};
    s.recipes = DWS_ZOO_REFERENCE;
    ck_assert_int_eq(dws_zoo_spec_check(&s, &err), -1);
    s.recipes = DWS_ZOO_MIXED;
    s.n_activations = 1, s.activations[0] = DWS_ACT_IDENTITY;
    ck_assert_int_eq(dws_zoo_spec_check(&s, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
}
END_TEST

/* A tiny any-mlp zoo: records carry depth and activation, its classifiers have them,
 * zoo.json keeps the lists (and LeakyReLU's slope) and reads back; a default zoo's
 * records and zoo.json have none of these keys, and neither folder takes the other's
 * settings. */
START_TEST(any_mlp_zoo_records_depth_and_activation)
{
    dws_zoo_spec s;
    tiny_spec(&s, 8);
    dws_zoo_spec_family(&s, DWS_ZOO_FAMILY_ANY_MLP);
    char any[96], plain[96], path[160];
    snprintf(any, sizeof any, "%s/any", dir);
    snprintf(plain, sizeof plain, "%s/plain", dir);
    run(any, &s, 0, 1, 2);
    dws_zoo_record *recs;
    int n;
    dws_error err = {0};
    ck_assert_msg(dws_zoo_catalog_read(any, &recs, &n, &err) == 0, "%s", err.message);
    ck_assert_int_eq(n, 8);
    int seen_depth[6] = {0};
    for (int i = 0; i < n; i++) {
        dws_recipe r;
        dws_zoo_split sp;
        dws_zoo_entry_recipe(&s, recs[i].id, &r, &sp);
        ck_assert_int_eq(recs[i].n_layers, r.n_hidden + 1);
        ck_assert_int_eq(recs[i].activation, dws_recipe_activation(&r));
        seen_depth[recs[i].n_layers] = 1;
        size_t len;
        char *text = slurp(entry_file(any, recs[i].id, "entries", "json"), &len), want[96];
        snprintf(want, sizeof want, "\"depth\":%d,\"activation\":\"%s\"", recs[i].n_layers,
                 dws_activation_name(recs[i].activation));
        ck_assert_msg(strstr(text, want) != NULL, "%s lacks %s", text, want);
        free(text);
    }
    ck_assert_int_ge(seen_depth[2] + seen_depth[3] + seen_depth[4] + seen_depth[5], 3);
    free(recs);
    dws_zoo_set set;
    ck_assert_msg(dws_zoo_set_load(any, 0xfu, 0, &set, &err) == 0, "%s", err.message);
    for (int i = 0; i < set.n; i++) {
        dws_recipe r;
        dws_zoo_split sp;
        dws_zoo_entry_recipe(&s, set.m[i].id, &r, &sp);
        for (int l = 0; l < r.n_hidden; l++) {
            ck_assert_int_eq(set.m[i].mlp.act[l], dws_recipe_activation(&r));
            if (r.activation == DWS_ACT_LEAKY_RELU) ck_assert_float_eq(set.m[i].mlp.leaky_alpha[l], 0.01f);
        }
    }
    dws_zoo_set_free(&set);
    dws_zoo_spec back;
    ck_assert_int_eq(dws_zoo_read_spec(any, &back, &err), 0);
    ck_assert_int_eq(back.n_hidden_layers, 4);
    ck_assert_int_eq(back.hidden_layers[3], 4);
    ck_assert_int_eq(back.n_activations, 4);
    ck_assert_int_eq(back.activations[2], DWS_ACT_GELU);
    snprintf(path, sizeof path, "%s/zoo.json", any);
    size_t len;
    char *manifest = slurp(path, &len);
    ck_assert_ptr_nonnull(strstr(manifest, "\"leaky_relu_slope\":\t0.01"));
    free(manifest);

    dws_zoo_spec d;
    tiny_spec(&d, 2);
    run(plain, &d, 0, 1, 1);
    char *rec = slurp(entry_file(plain, 1, "entries", "json"), &len);
    ck_assert_ptr_null(strstr(rec, "\"depth\""));
    ck_assert_ptr_null(strstr(rec, "\"activation\""));
    free(rec);
    snprintf(path, sizeof path, "%s/zoo.json", plain);
    manifest = slurp(path, &len);
    ck_assert_ptr_null(strstr(manifest, "hidden_layers"));
    ck_assert_ptr_null(strstr(manifest, "activations"));
    free(manifest);
    ck_assert_int_eq(dws_zoo_read_spec(plain, &back, &err), 0);
    ck_assert(dws_zoo_spec_is_default_family(&back));
    dws_zoo_spec other = d;
    dws_zoo_spec_family(&other, DWS_ZOO_FAMILY_ANY_MLP);
    ck_assert_int_eq(dws_zoo_open(plain, &other, train.n, test.n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "'hidden_layers'"));
    other = s;
    other.n_activations = 1;
    ck_assert_int_eq(dws_zoo_open(any, &other, train.n, test.n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "'activations'"));
}
END_TEST

/* A zoo trained on standardized inputs: its records and zoo.json say so, a zoo of
 * pixel inputs refuses to join it, and its members load as pixel-frame twins that
 * score on pixel/255 images what the zoo measured on standardized ones. */
START_TEST(standardized_zoo_loads_pixel_twins)
{
    dws_zoo_spec s;
    tiny_spec(&s, 3);
    s.frame = DWS_FRAME_STANDARDIZED;
    run(dir, &s, 0, 1, 1);
    size_t len;
    char *rec = slurp(entry_file(dir, 0, "entries", "json"), &len);
    ck_assert_ptr_nonnull(strstr(rec, "\"frame\":\"standardized\""));
    free(rec);
    dws_zoo_spec back;
    dws_error err = {0};
    ck_assert_int_eq(dws_zoo_read_spec(dir, &back, &err), 0);
    ck_assert_int_eq(back.frame, DWS_FRAME_STANDARDIZED);
    dws_zoo_spec pixel = s;
    pixel.frame = DWS_FRAME_PIXEL;
    ck_assert_int_eq(dws_zoo_open(dir, &pixel, train.n, test.n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "'frame'"));
    dws_zoo_set set;
    ck_assert_msg(dws_zoo_set_load(dir, 0xfu, 0, &set, &err) == 0, "%s", err.message);
    ck_assert_int_eq(set.n, 3);
    dws_samples clean = dws_samples_of_image_set(&test);
    for (int i = 0; i < set.n; i++) {
        ck_assert_int_eq(set.m[i].frame, DWS_FRAME_STANDARDIZED);
        ck_assert_int_eq(set.m[i].mlp.frame, DWS_FRAME_PIXEL);
        double acc;
        ck_assert_int_eq(dws_mlp_accuracy(&set.m[i].mlp, &clean, &acc, &err), 0);
        ck_assert_double_eq_tol(acc, set.m[i].clean_acc, 1.5 / (double)test.n);
    }
    dws_zoo_set_free(&set);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_zoo");
    TCase *tc = tcase_create("zoo");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, zoo_builds_every_entry_and_index);
    tcase_add_test(tc, zoo_resume_skips_finished_entries);
    tcase_add_test(tc, zoo_shards_add_up_to_the_whole);
    tcase_add_test(tc, zoo_refuses_other_settings);
    tcase_add_test(tc, zoo_recipes_follow_the_documented_distribution);
    tcase_add_test(tc, default_zoo_is_unchanged);
    tcase_add_test(tc, any_mlp_family_draws_depths_and_activations);
    tcase_add_test(tc, any_mlp_zoo_records_depth_and_activation);
    tcase_add_test(tc, standardized_zoo_loads_pixel_twins);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
