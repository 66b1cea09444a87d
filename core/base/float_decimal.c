#include "base.h"

#include <stdio.h>
#include <stdlib.h>

double dws_float_decimal(float v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", v);
    return strtod(buf, NULL);
}
