#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define HELP_WIDTH 100
#define HELP_COLUMN 24
#define U64_LIMIT 18446744073709551616.0   /* 2^64: a hi at or above it is no bound */

int cli_number(const char *s, cli_kind kind, double lo, double hi, void *out, char *why, size_t why_size)
{
    char *end = NULL;
    errno = 0;
    if (kind == CLI_INT) {
        long long v = strtoll(s, &end, 10);
        int ok = (*s == '-' || (*s >= '0' && *s <= '9')) && !errno && *end == '\0' && v >= (long long)lo &&
                 v <= (long long)hi;
        if (ok) *(long *)out = (long)v;
        else snprintf(why, why_size, "must be an integer from %lld to %lld", (long long)lo, (long long)hi);
        return ok ? 0 : -1;
    }
    if (kind == CLI_U64) {
        unsigned long long v = strtoull(s, &end, 10);
        int bounded = hi < U64_LIMIT;
        int ok = *s >= '0' && *s <= '9' && !errno && *end == '\0' && v >= (unsigned long long)lo &&
                 (!bounded || v <= (unsigned long long)hi);
        if (ok) *(uint64_t *)out = v;
        else if (bounded)
            snprintf(why, why_size, "must be an integer from %llu to %llu", (unsigned long long)lo,
                     (unsigned long long)hi);
        else snprintf(why, why_size, "must be a non-negative integer");
        return ok ? 0 : -1;
    }
    double v = strtod(s, &end);
    int ok = end != s && *end == '\0' && isfinite(v) && v >= lo && v <= hi;   /* v >= lo also refuses NaN */
    if (!ok) {
        if (isinf(hi)) snprintf(why, why_size, "must be a number from %g up", lo);
        else snprintf(why, why_size, "must be a number from %g to %g", lo, hi);
        return -1;
    }
    if (kind == CLI_FLOAT) *(float *)out = (float)v;
    else *(double *)out = v;
    return 0;
}

static void error_line(const cli_command *c, const char *fmt, va_list ap)
{
    fprintf(stderr, "dwsnet %s: %s: ", c->name, DWS_E_INVALID_ARGUMENT);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see dwsnet %s --help)\n", c->name);
}

int cli_usage_error(const cli_command *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_line(c, fmt, ap);
    va_end(ap);
    return 2;
}

static int takes_value(const cli_option *o)
{
    return o->kind != CLI_FLAG && o->kind != CLI_ARG && o->kind != CLI_ARGS;
}

static int positional(const cli_option *o)
{
    return o->kind == CLI_ARG || o->kind == CLI_ARGS;
}

/* "-o, --out" or "--out": how errors and help name an option. */
static const char *display_name(const cli_option *o, char *buf, size_t size)
{
    if (!o->alias) return o->name;
    snprintf(buf, size, "%s/%s", o->alias, o->name);
    return buf;
}

/* Stores text as o's value in opts; 0, else -1 with why. */
static int store(const cli_option *o, const char *text, void *opts, char *why, size_t why_size)
{
    void *field = (char *)opts + o->at;
    switch (o->kind) {
    case CLI_FLAG: *(int *)field = 1; return 0;
    case CLI_STRING:
    case CLI_ARG: *(const char **)field = text; return 0;
    case CLI_INT:
    case CLI_U64:
    case CLI_DOUBLE:
    case CLI_FLOAT: return cli_number(text, o->kind, o->lo, o->hi, field, why, why_size);
    case CLI_CHOICE: {
        size_t used = 0;
        for (int k = 0; o->choices[k]; k++) {
            if (!strcmp(text, o->choices[k])) {
                *(int *)field = k;
                return 0;
            }
        }
        used += (size_t)snprintf(why, why_size, "must be ");
        for (int k = 0; o->choices[k] && used < why_size; k++) {
            const char *sep = k == 0 ? "" : o->choices[k + 1] ? ", " : " or ";
            used += (size_t)snprintf(why + used, why_size - used, "%s%s", sep, o->choices[k]);
        }
        return -1;
    }
    case CLI_REPEAT: {
        cli_strings *l = field;
        if (l->n >= (int)o->hi || l->n >= CLI_MAX_REPEAT) {
            snprintf(why, why_size, "can be given at most %d times", (int)o->hi);
            return -1;
        }
        l->v[l->n++] = text;
        return 0;
    }
    case CLI_CUSTOM: return o->parse(text, field, why, why_size);
    case CLI_ARGS:
    case CLI_LIST: break;
    }
    snprintf(why, why_size, "has no value");
    return -1;
}

static int bad_value(const cli_command *c, const cli_option *o, const char *text, const char *why)
{
    char name[64];
    return cli_usage_error(c, "%s %s, got '%s'", display_name(o, name, sizeof name), why, text);
}

static const cli_option *find(const cli_command *c, const char *arg, size_t len)
{
    for (int i = 0; i < c->n_options; i++) {
        const cli_option *o = &c->options[i];
        if (positional(o)) continue;
        if ((strlen(o->name) == len && !strncmp(arg, o->name, len)) ||
            (o->alias && strlen(o->alias) == len && !strncmp(arg, o->alias, len)))
            return o;
    }
    return NULL;
}

/* The next positional option to fill, counting the ones filled; NULL: none left. */
static const cli_option *next_positional(const cli_command *c, int filled)
{
    for (int i = 0; i < c->n_options; i++) {
        const cli_option *o = &c->options[i];
        if (!positional(o)) continue;
        if (o->kind == CLI_ARGS || filled-- == 0) return o;
    }
    return NULL;
}

int cli_parse(const cli_command *c, int argc, char **argv, void *opts)
{
    char why[256];
    unsigned char given[CLI_MAX_OPTIONS] = {0};   /* by table index: set from argv */
    if (c->n_options > CLI_MAX_OPTIONS) {
        fprintf(stderr, "dwsnet %s: internal: more than %d options\n", c->name, CLI_MAX_OPTIONS);
        return 2;
    }
    memset(opts, 0, c->size);
    for (int i = 0; i < c->n_options; i++) {
        const cli_option *o = &c->options[i];
        if (o->def && store(o, o->def, opts, why, sizeof why) != 0) {
            /* A table mistake, caught by tests/unit/test_cli_options.c. */
            fprintf(stderr, "dwsnet %s: internal: default '%s' of %s %s\n", c->name, o->def, o->name, why);
            return 2;
        }
    }
    int filled = 0, options_done = 0, n_rest = 0;
    char **rest = argv + 1;   /* positionals of a CLI_ARGS are moved to the front of argv + 1 */
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            const cli_option *o = next_positional(c, filled);
            if (!o) return cli_usage_error(c, "unexpected argument '%s'", a);
            given[o - c->options] = 1;
            if (o->kind == CLI_ARGS) {
                rest[n_rest++] = a;
                cli_args *l = (cli_args *)((char *)opts + o->at);
                l->v = rest;
                l->n = n_rest;
            } else {
                store(o, a, opts, why, sizeof why);
                filled++;
            }
            continue;
        }
        if (!strcmp(a, "--")) {
            options_done = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_help(c, stdout);
            return 0;
        }
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const cli_option *o = find(c, a, len);
        if (!o) return cli_usage_error(c, "unknown option '%.*s'", (int)len, a);
        const char *value = NULL;
        if (o->kind == CLI_LIST) {
            cli_args *l = (cli_args *)((char *)opts + o->at);
            if (given[o - c->options]) return cli_usage_error(c, "%s is given once, followed by all its values", a);
            int first = i;
            if (eq) argv[i] = (char *)eq + 1;   /* --images=a.png b.png: the list starts in this argument */
            else first = i + 1;
            while (i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0')) i++;
            if (i + 1 == first) return cli_usage_error(c, "%s needs a value", a);
            l->v = argv + first;
            l->n = i + 1 - first;
            given[o - c->options] = 1;
            continue;
        }
        if (takes_value(o)) {
            if (eq) value = eq + 1;
            else if (i + 1 < argc) value = argv[++i];
            else return cli_usage_error(c, "%s needs a value", a);
        } else if (eq) {
            return cli_usage_error(c, "%.*s takes no value", (int)len, a);
        }
        if (store(o, value, opts, why, sizeof why) != 0) return bad_value(c, o, value, why);
        if (o->seen) *(int *)((char *)opts + o->seen - 1) = 1;
        given[o - c->options] = 1;
    }
    for (int i = 0; i < c->n_options; i++) {
        const cli_option *o = &c->options[i];
        char name[64];
        if (o->required && !given[i] && !o->def)
            return cli_usage_error(c, "%s is required", display_name(o, name, sizeof name));
    }
    return -1;
}

const char *cli_peek(int argc, char **argv, const char *name)
{
    size_t len = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], name) && i + 1 < argc) return argv[i + 1];
        if (!strncmp(argv[i], name, len) && argv[i][len] == '=') return argv[i] + len + 1;
    }
    return NULL;
}

/* ---- help ---- */

static void metavar(const cli_option *o, char *buf, size_t size)
{
    if (o->meta || o->kind != CLI_CHOICE) {
        snprintf(buf, size, "%s", o->meta ? o->meta : "VALUE");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; o->choices[k] && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? "|" : "", o->choices[k]);
}

/* What an option takes, as the help's bracket says it: "integer 1..64; default 2". */
static void facts(const cli_option *o, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
#define ADD(...) (used += used < size ? (size_t)snprintf(buf + used, size - used, __VA_ARGS__) : 0)
    switch (o->kind) {
    case CLI_INT: ADD("integer %lld..%lld", (long long)o->lo, (long long)o->hi); break;
    case CLI_U64:
        if (o->hi < U64_LIMIT) ADD("integer %llu..%llu", (unsigned long long)o->lo, (unsigned long long)o->hi);
        else ADD("integer >= %llu", (unsigned long long)o->lo);
        break;
    case CLI_DOUBLE:
    case CLI_FLOAT:
        if (isinf(o->hi)) ADD("number >= %g", o->lo);
        else ADD("number %g..%g", o->lo, o->hi);
        break;
    case CLI_REPEAT: ADD("repeatable, up to %d times", (int)o->hi); break;
    case CLI_LIST: ADD("one or more, up to the next option"); break;
    default: break;
    }
    const char *def = o->def ? o->def : o->shown;
    if (o->required && !positional(o)) ADD("%srequired", used ? "; " : "");
    else if (def) ADD("%sdefault: %s", used ? "; " : "", def);
#undef ADD
}

/* text wrapped to HELP_WIDTH, every line after the first indented by indent;
 * the first starts at column col. */
static void wrap(FILE *f, const char *text, int col, int indent)
{
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " \n");
        if (col > indent && col + 1 + (int)word > HELP_WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, word, f);
        col += (int)word;
        p += word;
        if (*p == '\n') {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            p++;
        }
        while (*p == ' ') p++;
    }
}

static void option_help(FILE *f, const cli_option *o)
{
    char lhs[160], meta[96], bracket[160], text[1024];
    metavar(o, meta, sizeof meta);
    if (positional(o)) snprintf(lhs, sizeof lhs, "%s%s", o->name, o->kind == CLI_ARGS ? " ..." : "");
    else
        snprintf(lhs, sizeof lhs, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
                 takes_value(o) ? " " : "", takes_value(o) ? meta : "");
    facts(o, bracket, sizeof bracket);
    snprintf(text, sizeof text, "%s%s%s%s", o->help ? o->help : "", *bracket && o->help ? " " : "", *bracket ? "[" : "",
             bracket);
    if (*bracket) strncat(text, "]", sizeof text - strlen(text) - 1);
    fprintf(f, "  %s", lhs);
    int col = 2 + (int)strlen(lhs);
    if (col + 2 > HELP_COLUMN) {   /* at least two spaces between the two columns */
        fprintf(f, "\n%*s", HELP_COLUMN, "");
    } else {
        fprintf(f, "%*s", HELP_COLUMN - col, "");
    }
    wrap(f, text, HELP_COLUMN, HELP_COLUMN);
    fputc('\n', f);
}

void cli_help(const cli_command *c, FILE *f)
{
    char meta[96];
    int optional = 0, have_args = 0;
    fprintf(f, "usage: dwsnet %s", c->name);
    for (int i = 0; i < c->n_options; i++) {
        const cli_option *o = &c->options[i];
        metavar(o, meta, sizeof meta);
        if (positional(o)) {
            have_args = 1;
            fprintf(f, o->required ? " %s%s" : " [%s%s]", o->name, o->kind == CLI_ARGS ? " ..." : "");
        } else if (o->required) {
            fprintf(f, " %s %s", o->alias ? o->alias : o->name, meta);
        } else {
            optional = 1;
        }
    }
    fprintf(f, "%s\n", optional ? " [options]" : "");
    for (const char *p = c->more_usage; p && *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "       %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
    fprintf(f, "\n%s\n", c->about);
    if (have_args) {
        fprintf(f, "\narguments:\n");
        for (int i = 0; i < c->n_options; i++)
            if (positional(&c->options[i])) option_help(f, &c->options[i]);
    }
    fprintf(f, "\noptions:\n");
    for (int i = 0; i < c->n_options; i++)
        if (!positional(&c->options[i])) option_help(f, &c->options[i]);
    static const cli_option help = {"--help", CLI_FLAG, 0, NULL, "print this help", .alias = "-h"};
    option_help(f, &help);
    if (c->epilog) fprintf(f, "\n%s\n", c->epilog);
    if (c->extra_help) {
        fputc('\n', f);
        wrap(f, c->extra_help(), 0, 2);
        fputc('\n', f);
    }
}
