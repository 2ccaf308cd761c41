#include "numerics/half.h"

#include <fp16/fp16.h>

#include "numerics/simd.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace embed2onnx {

// libfp16 is the well-known reference for IEEE half conversion (RNE, subnormals,
// overflow to inf); we check our vector path against it.
uint16_t FloatToHalf(float f) { return fp16_ieee_from_fp32_value(f); }
float HalfToFloat(uint16_t h) { return fp16_ieee_to_fp32_value(h); }

uint16_t FloatToBf16(float f) {
  uint32_t u = FloatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;  // carries into the exponent give inf on overflow, as they should
  return static_cast<uint16_t>(u >> 16);
}

E2O_AVX2_CLONES void FloatsToBf16(const float* src, uint16_t* dst, size_t n) {
  // FloatToBf16's steps with the NaN test as a select: the compiler vectorises this.
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = FloatBits(src[i]);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet_nan = (u >> 16) | 0x0040u;
    dst[i] = static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
  }
}

void FloatsToHalfPortable(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = FloatToHalf(src[i]);
}
void HalfsToFloatPortable(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = HalfToFloat(src[i]);
}

E2O_AVX2_CLONES void Bf16sToFloat(const uint16_t* src, float* dst, size_t n) {
  // Plain shifts: the compiler vectorises this on its own.
  for (size_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(src[i]);
}

#if defined(__x86_64__)
bool HaveF16C() {
  // CPUID leaf 1, ECX bit 29 is F16C; clang 14's __builtin_cpu_supports does not know "f16c"
  // (the sanitizer build uses clang), and "avx" also checks that the OS saves the YMM state.
  static const bool have = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0 && __builtin_cpu_supports("avx");
  }();
  return have;
}

__attribute__((target("avx,f16c"))) static void FloatsToHalfF16C(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(src + i);
    // Immediate rounding mode: nearest-even regardless of MXCSR.
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  for (; i < n; ++i) dst[i] = FloatToHalf(src[i]);
}

__attribute__((target("avx,f16c"))) static void HalfsToFloatF16C(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = HalfToFloat(src[i]);
}

void FloatsToHalf(const float* src, uint16_t* dst, size_t n) {
  if (HaveF16C()) return FloatsToHalfF16C(src, dst, n);
  FloatsToHalfPortable(src, dst, n);
}
void HalfsToFloat(const uint16_t* src, float* dst, size_t n) {
  if (HaveF16C()) return HalfsToFloatF16C(src, dst, n);
  HalfsToFloatPortable(src, dst, n);
}
#else
bool HaveF16C() { return false; }
void FloatsToHalf(const float* src, uint16_t* dst, size_t n) { FloatsToHalfPortable(src, dst, n); }
void HalfsToFloat(const uint16_t* src, float* dst, size_t n) { HalfsToFloatPortable(src, dst, n); }
#endif

}  // namespace embed2onnx
