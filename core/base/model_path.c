#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef DWS_PREFIX
#define DWS_PREFIX "/usr/local"
#endif

const char *dws_installed_models_dir(void)
{
    return DWS_PREFIX "/share/dwsnet/models";
}

const char *dws_models_dir(const char **source)
{
    const char *env = getenv(DWS_MODELS_ENV), *why = DWS_MODELS_ENV, *dir = env;
    struct stat st;
    if (!env || !*env) {
        dir = dws_installed_models_dir();
        why = "installed";
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            dir = "models";
            why = "working directory";
        }
    }
    if (source) *source = why;
    return dir;
}

int dws_default_model_path(const char *file, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s", dws_models_dir(NULL), file);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
