// Hot loops built for AVX-512, AVX2 and baseline x86-64, picked when the addon loads (GCC's
// target_clones; other compilers and architectures get the one baseline build). A cloned function is
// called through an ifunc, so it is never inlined: its __restrict parameters keep their meaning and
// its loops vectorise without runtime alias checks.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif
