/* IEEE half and bfloat16 <-> float, for FLOAT16 / BFLOAT16 weights. */
#include <math.h>
#include <string.h>

#include "onnx_internal.h"

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float dws_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    int exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (mant << 13));   /* inf, nan */
    if (exp == 0) {                                                          /* zero, subnormal */
        float v = ldexpf((float)mant, -24);
        return sign ? -v : v;
    }
    return bits_float(sign | ((uint32_t)(exp - 15 + 127) << 23) | (mant << 13));
}

uint16_t dws_float_to_half(float f)
{
    uint32_t u = float_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u)   /* inf stays inf; nan keeps a quiet payload */
        return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 | ((abs >> 13) & 0x3ff) : 0);
    if (abs >= 0x477ff000u) return sign | 0x7c00;   /* rounds past 65504: overflow */
    if (abs < 0x38800000u) {                        /* below the smallest normal half */
        /* Scale so the half subnormal unit (2^-24) becomes 1, then round to even. */
        float scaled = ldexpf(bits_float(abs), 24);
        return sign | (uint16_t)lrintf(scaled);
    }
    uint32_t mant = abs & 0x7fffff;
    uint32_t half = ((abs >> 23) - 127 + 15) << 10 | (mant >> 13);
    uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;   /* carries into exp correctly */
    return sign | (uint16_t)half;
}

float dws_bfloat_to_float(uint16_t h)
{
    return bits_float((uint32_t)h << 16);
}

uint16_t dws_float_to_bfloat(float f)
{
    uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* quiet nan */
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
