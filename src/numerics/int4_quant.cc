#include "numerics/int4_quant.h"

#include <algorithm>
#include <cmath>

#include "numerics/half.h"
#include "numerics/int8_quant.h"  // HaveAvx2
#include "numerics/simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace embed2onnx {

namespace {
constexpr float kMaxHalf = 65504.0f;

// The fp16 scale actually stored: finite, never above fp16's range.
uint16_t StoredScale(float s) { return FloatToHalf(std::min(s, kMaxHalf)); }

// std::nearbyint (round half to even) for |v| <= 32, written so the compiler vectorises
// it: adding 1.5 * 2^23 leaves no bits for a fraction, so the sum is rounded to an
// integer, and subtracting it back is exact.
inline float RoundHalfEven(float v) {
  constexpr float kMagic = 12582912.0f;
  return (v + kMagic) - kMagic;
}

// The code of x against the stored scale s > 0 and zero point z. x / s is clamped to
// +-32 first: any value beyond already clamps to code 0 or 15, and inside that range the
// rounding above is exact.
inline uint8_t Code(float x, float s, float z) {
  float v = x / s;
  v = v < -32.0f ? -32.0f : (v > 32.0f ? 32.0f : v);
  float q = RoundHalfEven(v) + z;
  q = q < 0.0f ? 0.0f : (q > 15.0f ? 15.0f : q);
  return static_cast<uint8_t>(q);
}
// Codes of one block's half-pairs: byte j holds x[j] (low nibble) and x[j + half].
using PackFn = void (*)(const float* x, size_t half, float s, float z, uint8_t* out);

void PackCodesPortable(const float* x, size_t half, float s, float z, uint8_t* out) {
  for (size_t j = 0; j < half; ++j)
    out[j] = static_cast<uint8_t>(Code(x[j], s, z) | Code(x[j + half], s, z) << 4);
}

#if defined(__x86_64__)
// The same operations on 8 values at a time: IEEE division, min/max for the clamps
// (equal to the compares above for non-NaN values), and a nearest-even rounding
// instruction, which is what RoundHalfEven computes inside +-32.
__attribute__((target("avx2"))) __m256i CodesAvx2(const float* x, __m256 s, __m256 z) {
  __m256 v = _mm256_div_ps(_mm256_loadu_ps(x), s);
  v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-32.0f)), _mm256_set1_ps(32.0f));
  v = _mm256_add_ps(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
  v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(15.0f));
  return _mm256_cvttps_epi32(v);  // exact: v is a whole number in [0, 15]
}

__attribute__((target("avx2"))) void PackCodesAvx2(const float* x, size_t half, float s, float z,
                                                   uint8_t* out) {
  const __m256 vs = _mm256_set1_ps(s), vz = _mm256_set1_ps(z);
  size_t j = 0;
  for (; j + 8 <= half; j += 8) {
    const __m256i both =
        _mm256_or_si256(CodesAvx2(x + j, vs, vz), _mm256_slli_epi32(CodesAvx2(x + j + half, vs, vz), 4));
    // 8 int32 in 0..255 -> 8 bytes, in order.
    const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(both), _mm256_extracti128_si256(both, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + j), _mm_packus_epi16(words, _mm_setzero_si128()));
  }
  for (; j < half; ++j) out[j] = static_cast<uint8_t>(Code(x[j], s, z) | Code(x[j + half], s, z) << 4);
}
#endif

void QuantizeRowInt4With(PackFn pack, const float* row, size_t d, size_t block, Int4Mode mode,
                         uint8_t* packed, uint16_t* scales, uint8_t* zero_points) {
  for (size_t b = 0; b * block < d; ++b) {
    const float* x = row + b * block;
    float mn = 0.0f, mx = 0.0f;  // the range always holds 0, so 0 stays exact
    for (size_t j = 0; j < block; ++j) {
      mn = std::min(mn, x[j]);
      mx = std::max(mx, x[j]);
    }
    float z;
    if (mode == Int4Mode::kSymmetric) {
      // Codes -8..7: the smallest step that fits the negative side in 8 steps and the
      // positive side in 7.
      float s = std::max(-mn / 8.0f, mx / 7.0f);
      scales[b] = StoredScale(s);
      z = 8.0f;
    } else {
      float s = (mx - mn) / 15.0f;
      scales[b] = StoredScale(s);
      float sq = HalfToFloat(scales[b]);
      float zf = sq > 0.0f ? std::nearbyint(-mn / sq) : 0.0f;
      z = zf < 0.0f ? 0.0f : (zf > 15.0f ? 15.0f : zf);
      zero_points[b] = static_cast<uint8_t>(z);
    }
    const float sq = HalfToFloat(scales[b]);
    uint8_t* out = packed + b * block / 2;
    const size_t half = block / 2;
    if (!(sq > 0.0f)) {  // an all-zero block (or a scale lost to fp16): every code is z
      const uint8_t c = static_cast<uint8_t>(z);
      for (size_t j = 0; j < half; ++j) out[j] = static_cast<uint8_t>(c | c << 4);
      continue;
    }
    pack(x, half, sq, z, out);
  }
}
}  // namespace

void QuantizeRowInt4Portable(const float* row, size_t d, size_t block, Int4Mode mode, uint8_t* packed,
                             uint16_t* scales, uint8_t* zero_points) {
  QuantizeRowInt4With(PackCodesPortable, row, d, block, mode, packed, scales, zero_points);
}

void QuantizeRowInt4(const float* row, size_t d, size_t block, Int4Mode mode, uint8_t* packed,
                     uint16_t* scales, uint8_t* zero_points) {
#if defined(__x86_64__)
  if (HaveAvx2()) return QuantizeRowInt4With(PackCodesAvx2, row, d, block, mode, packed, scales, zero_points);
#endif
  QuantizeRowInt4Portable(row, d, block, mode, packed, scales, zero_points);
}

E2O_AVX2_CLONES void DequantizeRowInt4(const uint8_t* packed, const uint16_t* scales,
                                       const uint8_t* zero_points, size_t d, size_t block, Int4Mode mode,
                                       float* out) {
  const size_t half = block / 2;
  for (size_t b = 0; b * block < d; ++b) {
    const float s = HalfToFloat(scales[b]);
    const float z = mode == Int4Mode::kSymmetric ? 8.0f : static_cast<float>(zero_points[b]);
    const uint8_t* in = packed + b * half;
    float* o = out + b * block;
    for (size_t j = 0; j < half; ++j) {
      o[j] = (static_cast<float>(in[j] & 0x0F) - z) * s;
      o[j + half] = (static_cast<float>(in[j] >> 4) - z) * s;
    }
  }
}

}  // namespace embed2onnx
