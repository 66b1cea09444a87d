/* The memory-bound loops of the DWS code are also compiled for x86-64-v3 (AVX2)
 * and the variant is picked at load time when the CPU has it (function
 * multiversioning, GCC and clang); elsewhere they stay plain C. Their inner loops
 * run over runtime lengths, which GCC's -O2 cost model would leave scalar.
 *
 * v8f is eight floats as one value (GCC/clang vector extension: one AVX register
 * in the x86-64-v3 variant, a pair of SSE registers otherwise); AT8(p) views the
 * 8 floats at p, at any alignment. Loops over channels in groups of eight use it
 * when the channel count is a multiple of 8 (every shipped model's is). */
#ifndef DWS_HOT_LOOP_H
#define DWS_HOT_LOOP_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DWS_HOT_LOOP __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DWS_HOT_LOOP
#endif

typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_any __attribute__((vector_size(32), aligned(4), may_alias));
#define AT8(p) (*(v8f_any *)(p))
#define LD8(p) ((v8f)AT8(p))   /* its value, as a v8f (for ?: with other v8f) */

typedef int v8i __attribute__((vector_size(32)));

/* v where the comparison `keep` (a lane mask, e.g. v > 0.f) holds, else +0: what
 * `keep ? v : 0.f` is per lane (so NaN and -0 give +0 under v > 0.f). */
#define V8F_KEEP(v, keep) ((v8f)((v8i)(v) & (keep)))

/* The sum of the eight lanes, in a fixed order. */
static inline float v8f_sum(const v8f *p)
{
    const v8f v = *p;
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

#endif
