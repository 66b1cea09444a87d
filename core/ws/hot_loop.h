/* The memory-bound loops of the DWS code are also compiled for x86-64-v3 (AVX2)
 * and the variant is picked at load time when the CPU has it (function
 * multiversioning, GCC and clang); elsewhere they stay plain C. Their inner loops
 * run over runtime lengths, which GCC's -O2 cost model would leave scalar. */
#ifndef DWS_HOT_LOOP_H
#define DWS_HOT_LOOP_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DWS_HOT_LOOP __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DWS_HOT_LOOP
#endif

#endif
