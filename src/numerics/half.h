// Half-precision conversions: IEEE fp16 and bfloat16 to and from float32.
//
// Narrowing is round-to-nearest, ties-to-even, as numpy's astype(float16): overflow
// goes to +-inf, values below fp16's normal range become subnormals, signed zeros keep
// their sign. Widening is exact. The scalar functions are the reference; the batch
// functions use F16C/AVX2 when the CPU has them and are tested to give the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace embed2onnx {

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float BitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Scalar references.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
inline float Bf16ToFloat(uint16_t b) { return BitsToFloat(static_cast<uint32_t>(b) << 16); }
// Round-to-nearest-even narrowing to bfloat16 (NaN stays a quiet NaN).
uint16_t FloatToBf16(float f);

// Batch conversions over n elements; dst and src do not overlap.
void FloatsToHalf(const float* src, uint16_t* dst, size_t n);
void HalfsToFloat(const uint16_t* src, float* dst, size_t n);
void Bf16sToFloat(const uint16_t* src, float* dst, size_t n);
void FloatsToBf16(const float* src, uint16_t* dst, size_t n);  // = FloatToBf16 on each

// The same batch conversions without any vector instructions, for tests and for CPUs
// without F16C.
void FloatsToHalfPortable(const float* src, uint16_t* dst, size_t n);
void HalfsToFloatPortable(const uint16_t* src, float* dst, size_t n);

// True when the batch functions take the F16C path on this CPU.
bool HaveF16C();

}  // namespace embed2onnx
