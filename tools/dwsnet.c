/* dwsnet: the command-line front end. Dispatches to one handler per subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "base/base.h"

struct command {
    const char *name;
    int (*handler)(int, char **);
    const char *summary;
};

static const struct command commands[] = {
#define DWS_COMMAND(name, handler, options, summary) {#name, handler, summary},
#include "commands.def"
#undef DWS_COMMAND
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: dwsnet COMMAND [ARGS...]\n\n"
               "Reads, rewrites and learns from the weights of ONNX MLP classifiers.\n\ncommands:\n");
    for (size_t i = 0; commands[i].name; i++)
        fprintf(f, "  %-17s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-17s %s\n", "version", "print the version");
    const char *source, *dir = dws_models_dir(&source);
    fprintf(f, "\n`dwsnet COMMAND --help` describes a command.\n"
               "Models directory (the default models of adapt, embed, eval, eval-embedder): %s (%s);\n"
               "looked up as $" DWS_MODELS_ENV ", else %s if it exists, else ./models.\n",
            dir, source, dws_installed_models_dir());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("dwsnet %s\n", DWS_VERSION);
        return 0;
    }
    for (size_t i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].handler(argc - 1, argv + 1);
    fprintf(stderr, "dwsnet: unknown command '%s' (see dwsnet --help)\n", argv[1]);
    return 2;
}
