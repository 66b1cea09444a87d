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

/* The sum of the eight lanes, ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)): the order
 * v8f_sums8 sums each of its vectors in. */
static inline float v8f_sum(const v8f *p)
{
    const v8f v = *p;
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/* Lanes of a and b (0-7 a's, 8-15 b's) picked by eight indices. */
#if defined(__clang__)
#define V8F_PICK(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#else
#define V8F_PICK(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shuffle(a, b, (v8i){i0, i1, i2, i3, i4, i5, i6, i7})
#endif
/* Pairwise sums of adjacent lanes of a and b, per half: (a0+a1, a2+a3, b0+b1, b2+b3,
 * a4+a5, a6+a7, b4+b5, b6+b7). */
#define V8F_HADD(a, b) (V8F_PICK(a, b, 0, 2, 8, 10, 4, 6, 12, 14) + V8F_PICK(a, b, 1, 3, 9, 11, 5, 7, 13, 15))

/* Lane e of the result = the sum of the lanes of p[e] (e < 8), each summed as
 * v8f_sum sums: eight horizontal sums with 17 vector operations, not 8 x 7. */
#define V8F_SUMS8(p)                                                                                                \
    ({                                                                                                              \
        const v8f h0123_ = V8F_HADD(V8F_HADD((p)[0], (p)[1]), V8F_HADD((p)[2], (p)[3]));                            \
        const v8f h4567_ = V8F_HADD(V8F_HADD((p)[4], (p)[5]), V8F_HADD((p)[6], (p)[7]));                            \
        V8F_PICK(h0123_, h4567_, 0, 1, 2, 3, 8, 9, 10, 11) + V8F_PICK(h0123_, h4567_, 4, 5, 6, 7, 12, 13, 14, 15);  \
    })

#endif
