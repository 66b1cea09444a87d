#include "base.h"

#include <stdio.h>
#include <string.h>

void dws_path_sibling(const char *path, const char *ext, const char *new_ext, char *buf, size_t size)
{
    size_t len = strlen(path), el = strlen(ext);
    int stem = len > el && !strcmp(path + len - el, ext) ? (int)(len - el) : (int)len;
    snprintf(buf, size, "%.*s%s", stem, path, new_ext);
}
