// E2O_AVX2_CLONES on a loop function has GCC compile it twice, for AVX2 and for the
// baseline x86-64 the build targets, and pick one when the program loads (an ifunc), so
// the loops it vectorises on its own run 8 floats wide where the CPU can.
//
// Only for loops whose every element is computed by the same IEEE operations in the same
// order whatever the vector width: integer work, element-wise float work, and sums kept
// in explicit lanes. The build forbids reassociation and contraction (-fno-fast-math
// -ffp-contract=off, and "avx2" implies no FMA), so both clones give the same bits; the
// tests that hold these functions to their references run the clone this CPU picks.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define E2O_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define E2O_AVX2_CLONES
#endif
