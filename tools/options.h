/* The dwsnet commands' options, declared rather than coded: every command has one
 * table (tools/options_table.c) of what it accepts, each entry naming a flag, the
 * kind of its value, the field of the command's options struct it goes to
 * (options_table.h), its range or choices, its default and its help. One parser
 * reads any command line against a table, one number parser checks every number,
 * and `--help` is generated from the same table.
 *
 * Command lines: `--flag VALUE` or `--flag=VALUE`, the short alias where an option
 * has one (`-o FILE`), value-less flags, positional arguments anywhere (`-` is one),
 * `--` ends the options, `-h` / `--help` prints the help. Errors print one line,
 *   dwsnet CMD: invalid_argument: WHAT (see dwsnet CMD --help)
 * and make the exit status 2. */
#ifndef DWS_OPTIONS_H
#define DWS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    CLI_FLAG,     /* no value; int field = 1 */
    CLI_STRING,   /* const char *: a path, a name, a spec */
    CLI_INT,      /* long in [lo, hi] */
    CLI_U64,      /* uint64_t in [lo, hi] (hi >= 2^64: no upper bound) */
    CLI_DOUBLE,   /* double in [lo, hi], finite */
    CLI_FLOAT,    /* float in [lo, hi], finite */
    CLI_CHOICE,   /* int: the index of the value in choices */
    CLI_REPEAT,   /* cli_strings: the values of every occurrence, at most hi */
    CLI_CUSTOM,   /* a value of its own syntax: parse() fills the field */
    CLI_ARG,      /* a positional argument: const char * */
    CLI_ARGS,     /* every remaining positional argument: cli_args */
    CLI_LIST,     /* cli_args: every argument after the option up to the next option (one starting with
                     '-', a lone '-' excepted), at least one; given once: `--images a.png b.png` */
} cli_kind;

#define CLI_MAX_REPEAT 16
#define CLI_MAX_OPTIONS 64   /* in one command's table */

typedef struct {
    const char *v[CLI_MAX_REPEAT];
    int n;
} cli_strings;

/* Positional arguments in command-line order; v points into the argv the parser read. */
typedef struct {
    char **v;
    int n;
} cli_args;

/* A custom value's parser: 0, else -1 with why completing "--flag WHY, got 'VALUE'". */
typedef int (*cli_value_parser)(const char *s, void *field, char *why, size_t why_size);

typedef struct {
    const char *name;            /* "--zoo"; a positional's placeholder ("IN.onnx") */
    cli_kind kind;
    size_t at;                   /* offset of the field in the options struct (CLI_AT) */
    const char *meta;            /* placeholder of the value in help ("DIR"); choices: a|b|c */
    const char *help;
    const char *def;             /* default: parsed like a given value before argv; NULL: none */
    const char *shown;           /* a default that is not a value (help only): "$DWSNET_DATA" */
    const char *alias;           /* short form ("-o"); NULL: none */
    double lo, hi;               /* numbers: the range; CLI_REPEAT: hi = most occurrences */
    const char *const *choices;  /* CLI_CHOICE: NULL-terminated */
    cli_value_parser parse;      /* CLI_CUSTOM */
    size_t seen;                 /* CLI_SEEN: offset + 1 of an int set when given in argv; 0: none */
    int required;
} cli_option;

typedef struct {
    const char *name;            /* as in commands.def */
    const char *about;           /* the description under the usage line */
    const char *more_usage;      /* other forms, each "dwsnet CMD ...", newline-separated; NULL: none */
    const char *epilog;          /* after the options; NULL: none */
    const char *(*extra_help)(void);   /* a last paragraph that is not a constant (lists from core/) */
    const cli_option *options;
    int n_options;
    size_t size;                 /* of the options struct */
} cli_command;

/* Offsets for table entries, with the field's type checked at compile time. */
#define CLI_AT(S, T, field) (offsetof(S, field) + 0 * sizeof(_Generic(((S *)0)->field, T: 1)))
#define CLI_SEEN(S, field) (CLI_AT(S, int, field) + 1)

/* Fills opts (the command's options struct, zeroed here): defaults first, then
 * argv[1..argc); checks required options. -1: the command goes on; else its exit
 * status: 0 after printing the help (--help), 2 after an error line. */
int cli_parse(const cli_command *c, int argc, char **argv, void *opts);

/* The generated help of c. */
void cli_help(const cli_command *c, FILE *f);

/* The command's own checks: prints "dwsnet CMD: invalid_argument: MESSAGE (see
 * dwsnet CMD --help)" and returns 2. */
int cli_usage_error(const cli_command *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one number parser: s, as a whole, a number of kind (CLI_INT: long, CLI_U64:
 * uint64_t, CLI_DOUBLE: double, CLI_FLOAT: float) in [lo, hi], written to out.
 * 0, else -1 with why ("must be an integer from 1 to 64"). */
int cli_number(const char *s, cli_kind kind, double lo, double hi, void *out, char *why, size_t why_size);

/* The value of option name (--name VALUE or --name=VALUE) in argv, before any
 * parsing; NULL when absent. For commands that pick their table by an option. */
const char *cli_peek(int argc, char **argv, const char *name);

#endif
