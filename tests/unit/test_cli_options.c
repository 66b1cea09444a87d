/* The dwsnet option parser (tools/options.c) and every command's table
 * (tools/options_table.c): --flag VALUE and --flag=VALUE, short aliases,
 * positionals, strict range-checked numbers, unknown options and missing values
 * (exit status 2 with the invalid_argument line), required options, defaults that
 * parse, and a generated --help that names every option of every command. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "options_table.h"
#include "zoo/zoo.h"

static const cli_command *const ALL[] = {
#define DWS_COMMAND(name, handler, options, summary) &options,
#include "commands.def"
#undef DWS_COMMAND
};
#define N_ALL ((int)(sizeof ALL / sizeof *ALL))

/* Runs cli_parse on the arguments (argv[0] is the command's name) with stderr and
 * stdout captured into err and out; returns its result. */
static int parse(const cli_command *c, void *opts, char *out, size_t out_size, char *err, size_t err_size, ...)
{
    static char *argv[32];   /* positionals point into it after the call */
    argv[0] = (char *)c->name;
    int argc = 1;
    va_list ap;
    va_start(ap, err_size);
    for (char *a; argc < 31 && (a = va_arg(ap, char *));) argv[argc++] = a;
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    FILE *fo = tmpfile(), *fe = tmpfile();
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = cli_parse(c, argc, argv, opts);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    FILE *fs[2] = {fo, fe};
    char *bufs[2] = {out, err};
    size_t sizes[2] = {out_size, err_size};
    for (int k = 0; k < 2; k++) {
        rewind(fs[k]);
        size_t n = fread(bufs[k], 1, sizes[k] - 1, fs[k]);
        bufs[k][n] = '\0';
        fclose(fs[k]);
    }
    return rc;
}

#define PARSE(c, o, ...) parse(&(c), (o), out, sizeof out, err, sizeof err, __VA_ARGS__, (char *)NULL)

START_TEST(values_both_ways)
{
    char out[4096], err[4096];
    train_adapter_opts o;
    ck_assert_int_eq(PARSE(cli_train_adapter, &o, "--zoo", "z", "--out=a.dws", "--steps=12", "--lr", "2e-3", "--seed",
                           "18446744073709551615", "--resume", "--wd=0"),
                     -1);
    ck_assert_str_eq(o.zoo, "z");
    ck_assert_str_eq(o.out, "a.dws");
    ck_assert_int_eq(o.steps, 12);
    ck_assert(o.lr == 2e-3f);
    ck_assert(o.wd == 0.f);
    ck_assert(o.seed == UINT64_MAX);
    ck_assert_int_eq(o.resume, 1);
    /* Defaults went through the parser: */
    ck_assert_int_eq(o.channels, 8);
    ck_assert_int_eq(o.threads, 2);
    ck_assert(o.clip == 1.f);
    ck_assert(fabs(o.warmup_frac - 0.05) < 1e-15);
    ck_assert_str_eq(o.id, "cifar10c-adapter");
    ck_assert_ptr_null(o.data);
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(aliases_positionals_and_dashdash)
{
    char out[4096], err[4096];
    model_run_opts a;
    ck_assert_int_eq(PARSE(cli_adapt, &a, "-o", "out.onnx", "in.onnx", "--threads", "3"), -1);
    ck_assert_str_eq(a.in, "in.onnx");
    ck_assert_str_eq(a.out, "out.onnx");
    ck_assert_int_eq(a.threads, 3);
    ck_assert_int_eq(PARSE(cli_adapt, &a, "in.onnx", "--out", "-"), -1);
    ck_assert_str_eq(a.out, "-");
    inspect_opts i;
    ck_assert_int_eq(PARSE(cli_inspect, &i, "a.onnx", "--json", "b.onnx", "--", "--c.onnx", "-"), -1);
    ck_assert_int_eq(i.json, 1);
    ck_assert_int_eq(i.files.n, 4);
    ck_assert_str_eq(i.files.v[0], "a.onnx");
    ck_assert_str_eq(i.files.v[1], "b.onnx");
    ck_assert_str_eq(i.files.v[2], "--c.onnx");
    ck_assert_str_eq(i.files.v[3], "-");
    ck_assert_int_eq(PARSE(cli_adapt, &a, "in.onnx", "-o", "x", "extra.onnx"), 2);
    ck_assert_str_eq(err, "dwsnet adapt: invalid_argument: unexpected argument 'extra.onnx' (see dwsnet adapt --help)\n");
}
END_TEST

START_TEST(custom_values)
{
    char out[4096], err[4096];
    zoo_opts z;
    ck_assert_int_eq(PARSE(cli_zoo, &z, "--out", "zoo", "--shard=2/5", "--epochs", "1,2,30", "--subsets", "0",
                           "--recipes", "reference"),
                     -1);
    ck_assert_int_eq(z.shard.index, 2);
    ck_assert_int_eq(z.shard.count, 5);
    ck_assert_int_eq(z.epochs.n, 3);
    ck_assert_int_eq(z.epochs.v[2], 30);
    ck_assert_int_eq(z.subsets.n, 1);
    ck_assert_int_eq(z.subsets.v[0], 0);
    ck_assert_int_eq(z.recipes, 1);
    ck_assert_int_eq(z.recipes_seen, 1);
    ck_assert_int_eq(z.seed_seen, 0);
    ck_assert_int_eq(PARSE(cli_zoo, &z, "--out", "zoo"), -1);
    ck_assert_int_eq(z.shard.index, 0);
    ck_assert_int_eq(z.shard.count, 1);
    ck_assert_int_eq(z.recipes_seen, 0);
    ck_assert_int_eq(PARSE(cli_zoo, &z, "--out", "zoo", "--shard", "5/5"), 2);
    ck_assert_str_eq(err, "dwsnet zoo: invalid_argument: --shard must be i/n with 0 <= i < n, got '5/5' (see dwsnet zoo "
                          "--help)\n");
    ck_assert_int_eq(PARSE(cli_zoo, &z, "--out", "zoo", "--epochs", "1,,2"), 2);
    init_model_opts m;
    ck_assert_int_eq(PARSE(cli_init_model, &m, "--kind", "encoder", "-o", "m.dws", "--image", "1x4x5"), -1);
    ck_assert_int_eq(m.kind, DWS_MODEL_ENCODER);
    ck_assert_int_eq(m.image.planes, 1);
    ck_assert_int_eq(m.image.w, 5);
    ck_assert_int_eq(m.image_seen, 1);
    train_embedder_opts t;
    ck_assert_int_eq(PARSE(cli_train_embedder, &t, "--zoo", "z", "--out", "e.dws", "--probe-range", "-3.5,2"), -1);
    ck_assert(t.probe_range.lo == -3.5f && t.probe_range.hi == 2.f);
    ck_assert_int_eq(PARSE(cli_train_embedder, &t, "--zoo", "z", "--out", "e.dws", "--probe-range", "1,0"), 2);
}
END_TEST

START_TEST(numbers_are_strict_and_ranged)
{
    char out[4096], err[4096];
    train_adapter_opts o;
    const char *bad_ints[] = {"0", "65", "", "3x", " 3", "+3", "0x10", "1e1", "99999999999999999999999"};
    for (size_t k = 0; k < sizeof bad_ints / sizeof *bad_ints; k++) {
        ck_assert_int_eq(PARSE(cli_train_adapter, &o, "--zoo", "z", "--out", "a", "--threads", bad_ints[k]), 2);
        char want[256];
        snprintf(want, sizeof want,
                 "dwsnet train-adapter: invalid_argument: --threads must be an integer from 1 to 64, got '%s' (see "
                 "dwsnet train-adapter --help)\n",
                 bad_ints[k]);
        ck_assert_str_eq(err, want);
    }
    const char *bad_reals[] = {"nan", "inf", "-1", "1.5", "", "0.5.1", "1e400"};
    for (size_t k = 0; k < sizeof bad_reals / sizeof *bad_reals; k++) {
        ck_assert_int_eq(PARSE(cli_train_adapter, &o, "--zoo", "z", "--out", "a", "--warmup-frac", bad_reals[k]), 2);
        ck_assert_ptr_nonnull(strstr(err, "--warmup-frac must be a number from 0 to 1, got '"));
    }
    const char *bad_seeds[] = {"-1", "18446744073709551616", "1.0", "x"};
    for (size_t k = 0; k < sizeof bad_seeds / sizeof *bad_seeds; k++) {
        ck_assert_int_eq(PARSE(cli_train_adapter, &o, "--zoo", "z", "--out", "a", "--seed", bad_seeds[k]), 2);
        ck_assert_ptr_nonnull(strstr(err, "--seed must be a non-negative integer"));
    }
    zoo_opts z;
    ck_assert_int_eq(PARSE(cli_zoo, &z, "--out", "z", "--seed", "9007199254740993"), 2);
    ck_assert_ptr_nonnull(strstr(err, "--seed must be an integer from 0 to 9007199254740992"));
    ck_assert_int_eq(PARSE(cli_zoo, &z, "--out", "z", "--seed", "9007199254740992"), -1);
    ck_assert(z.seed == 1ULL << 53);

    /* The number parser on its own. */
    long l;
    double d;
    float f;
    uint64_t u;
    char why[128];
    ck_assert_int_eq(cli_number("-7", CLI_INT, -10, 10, &l, why, sizeof why), 0);
    ck_assert_int_eq(l, -7);
    ck_assert_int_eq(cli_number("-11", CLI_INT, -10, 10, &l, why, sizeof why), -1);
    ck_assert_str_eq(why, "must be an integer from -10 to 10");
    ck_assert_int_eq(cli_number("2.5e-1", CLI_DOUBLE, 0, 1, &d, why, sizeof why), 0);
    ck_assert(d == 0.25);
    ck_assert_int_eq(cli_number("0.01", CLI_FLOAT, 0, 1, &f, why, sizeof why), 0);
    ck_assert(f == 0.01f);
    ck_assert_int_eq(cli_number("1e9", CLI_DOUBLE, 0, INFINITY, &d, why, sizeof why), 0);
    ck_assert_int_eq(cli_number("-1", CLI_DOUBLE, 0, INFINITY, &d, why, sizeof why), -1);
    ck_assert_str_eq(why, "must be a number from 0 up");
    ck_assert_int_eq(cli_number("5", CLI_U64, 6, INFINITY, &u, why, sizeof why), -1);
}
END_TEST

START_TEST(unknown_missing_and_required)
{
    char out[4096], err[4096];
    eval_opts e;
    ck_assert_int_eq(PARSE(cli_eval, &e, "--zoo", "z", "--no-such-option"), 2);
    ck_assert_str_eq(err, "dwsnet eval: invalid_argument: unknown option '--no-such-option' (see dwsnet eval --help)\n");
    ck_assert_int_eq(PARSE(cli_eval, &e, "--zoo=z", "--bogus=1"), 2);
    ck_assert_str_eq(err, "dwsnet eval: invalid_argument: unknown option '--bogus' (see dwsnet eval --help)\n");
    ck_assert_int_eq(PARSE(cli_eval, &e, "-x"), 2);
    ck_assert_int_eq(PARSE(cli_eval, &e, "--zoo"), 2);
    ck_assert_str_eq(err, "dwsnet eval: invalid_argument: --zoo needs a value (see dwsnet eval --help)\n");
    ck_assert_int_eq(PARSE(cli_eval, &e, "--common=yes"), 2);
    ck_assert_str_eq(err, "dwsnet eval: invalid_argument: --common takes no value (see dwsnet eval --help)\n");
    ck_assert_int_eq(PARSE(cli_eval, &e, "--limit", "0"), 2);
    /* Repeatable options keep every value, up to their limit. */
    ck_assert_int_eq(PARSE(cli_eval, &e, "--extra", "a", "--extra=b", "--baselines", "x.json"), -1);
    ck_assert_int_eq(e.extras.n, 2);
    ck_assert_str_eq(e.extras.v[1], "b");
    ck_assert_int_eq(e.baselines.n, 1);
    ck_assert_str_eq(e.out, "eval-out");
    ck_assert_int_eq(e.domain_seed_seen, 0);

    roundtrip_opts r;
    ck_assert_int_eq(PARSE(cli_roundtrip, &r, "in.onnx"), 2);
    ck_assert_str_eq(err, "dwsnet roundtrip: invalid_argument: -o/--out is required (see dwsnet roundtrip --help)\n");
    ck_assert_int_eq(PARSE(cli_roundtrip, &r, "-o", "x"), 2);
    ck_assert_str_eq(err, "dwsnet roundtrip: invalid_argument: IN.onnx is required (see dwsnet roundtrip --help)\n");
    baseline_opts b;
    ck_assert_int_eq(PARSE(cli_baseline, &b, "--zoo", "z", "--method", "bogus"), 2);
    ck_assert_str_eq(err, "dwsnet baseline: invalid_argument: --method must be none, rescale, flat-mlp, flat-mlp-perm or "
                          "oracle, got 'bogus' (see dwsnet baseline --help)\n");
    ck_assert_int_eq(PARSE(cli_baseline, &b, "--zoo", "z", "--method", "flat-mlp-perm"), -1);
    ck_assert_int_eq(b.method, BASELINE_FLAT_PERM);
    ck_assert_int_eq(b.splits.on[DWS_ZOO_TEST], 1);
    ck_assert_int_eq(b.splits.on[DWS_ZOO_TRAIN], 0);
    ck_assert_str_eq(out, "");
}
END_TEST

/* Every default of every table goes through its own option's parser. */
START_TEST(every_default_parses)
{
    char why[256];
    for (int c = 0; c < N_ALL; c++) {
        void *opts = calloc(1, ALL[c]->size);
        for (int i = 0; i < ALL[c]->n_options; i++) {
            const cli_option *o = &ALL[c]->options[i];
            ck_assert_msg(o->at < ALL[c]->size && o->seen <= ALL[c]->size, "%s %s: field outside the struct",
                          ALL[c]->name, o->name);
            ck_assert_msg(!(o->def && o->shown), "%s %s: both a default and a shown default", ALL[c]->name, o->name);
            ck_assert_msg(o->help && *o->help, "%s %s: no help", ALL[c]->name, o->name);
            if (!o->def) continue;
            int ok;
            switch (o->kind) {
            case CLI_INT:
            case CLI_U64:
            case CLI_DOUBLE:
            case CLI_FLOAT: ok = cli_number(o->def, o->kind, o->lo, o->hi, (char *)opts + o->at, why, sizeof why) == 0; break;
            case CLI_CUSTOM: ok = o->parse(o->def, (char *)opts + o->at, why, sizeof why) == 0; break;
            case CLI_CHOICE:
                ok = 0;
                for (int k = 0; o->choices[k]; k++) ok |= !strcmp(o->choices[k], o->def);
                break;
            default: ok = 1;
            }
            ck_assert_msg(ok, "%s %s: default '%s' does not parse", ALL[c]->name, o->name, o->def);
        }
        free(opts);
    }
}
END_TEST

START_TEST(help_names_every_option)
{
    for (int c = 0; c < N_ALL; c++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        cli_help(ALL[c], f);
        fclose(f);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: dwsnet %s", ALL[c]->name);
        ck_assert_msg(!strncmp(text, usage, strlen(usage)), "%s: no usage line", ALL[c]->name);
        ck_assert_ptr_nonnull(strstr(text, "-h, --help"));
        for (int i = 0; i < ALL[c]->n_options; i++) {
            const cli_option *o = &ALL[c]->options[i];
            char line[128];
            snprintf(line, sizeof line, "\n  %s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name);
            ck_assert_msg(strstr(text, line) != NULL, "%s --help lacks %s", ALL[c]->name, o->name);
            if (o->def) ck_assert_msg(strstr(text, o->def) != NULL, "%s --help lacks %s's default", ALL[c]->name, o->name);
        }
        for (char *p = text; *p;) {   /* no line wider than 100 columns unless one word is */
            size_t n = strcspn(p, "\n");
            ck_assert_msg(n <= 100 || !memchr(p + 24, ' ', n - 24), "%s --help: long line '%.*s'", ALL[c]->name,
                          (int)n, p);
            p += n + (p[n] == '\n');
        }
        free(text);
    }
}
END_TEST

START_TEST(help_flag_prints_to_stdout)
{
    char out[8192], err[4096];
    zoo_opts z;
    ck_assert_int_eq(PARSE(cli_zoo, &z, "--count", "bogus-is-not-read", "--help"), 2);   /* errors come first */
    ck_assert_int_eq(PARSE(cli_zoo, &z, "-h"), 0);
    ck_assert_msg(!strncmp(out, "usage: dwsnet zoo -o ZOO [options]\n", 35), "%s", out);
    ck_assert_str_eq(err, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_options");
    TCase *tc = tcase_create("parser");
    tcase_add_test(tc, values_both_ways);
    tcase_add_test(tc, aliases_positionals_and_dashdash);
    tcase_add_test(tc, custom_values);
    tcase_add_test(tc, numbers_are_strict_and_ranged);
    tcase_add_test(tc, unknown_missing_and_required);
    tcase_add_test(tc, every_default_parses);
    tcase_add_test(tc, help_names_every_option);
    tcase_add_test(tc, help_flag_prints_to_stdout);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
