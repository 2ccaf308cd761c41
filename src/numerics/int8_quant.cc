#include "numerics/int8_quant.h"

#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace embed2onnx {

namespace {
float ScaleFromAbsmax(float absmax) {
  if (!(absmax > kInt8AbsmaxFloor)) absmax = kInt8AbsmaxFloor;
  return absmax / 127.0f;
}
}  // namespace

float Int8RowScalePortable(const float* row, size_t n) {
  float absmax = 0.0f;
  for (size_t j = 0; j < n; ++j) {
    float a = std::fabs(row[j]);
    absmax = a > absmax ? a : absmax;
  }
  return ScaleFromAbsmax(absmax);
}

void QuantizeRowInt8Portable(const float* row, size_t n, float s, int8_t* q) {
  for (size_t j = 0; j < n; ++j) {
    // nearbyint rounds half to even in the default rounding mode, like np.round.
    float r = std::nearbyint(row[j] / s);
    r = r < -127.0f ? -127.0f : (r > 127.0f ? 127.0f : r);
    q[j] = static_cast<int8_t>(r);
  }
}

#if defined(__x86_64__)
bool HaveAvx2() {
  static const bool have = __builtin_cpu_supports("avx2");
  return have;
}

__attribute__((target("avx2"))) static float Int8RowScaleAvx2(const float* row, size_t n) {
  // Four maxima side by side: one alone waits for the one before it (maxps latency).
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 m[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t j = 0;
  for (; j + 32 <= n; j += 32)
    for (int k = 0; k < 4; ++k)
      m[k] = _mm256_max_ps(m[k], _mm256_and_ps(_mm256_loadu_ps(row + j + 8 * k), abs_mask));
  for (; j + 8 <= n; j += 8) m[0] = _mm256_max_ps(m[0], _mm256_and_ps(_mm256_loadu_ps(row + j), abs_mask));
  alignas(32) float lanes[32];
  for (int k = 0; k < 4; ++k) _mm256_store_ps(lanes + 8 * k, m[k]);
  float absmax = 0.0f;
  for (float l : lanes) absmax = l > absmax ? l : absmax;  // max is exact in any order
  for (; j < n; ++j) {
    float a = std::fabs(row[j]);
    absmax = a > absmax ? a : absmax;
  }
  return ScaleFromAbsmax(absmax);
}

__attribute__((target("avx2"))) static void QuantizeRowInt8Avx2(const float* row, size_t n, float s,
                                                                int8_t* q) {
  const __m256 vs = _mm256_set1_ps(s), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256i v[4];
    for (int k = 0; k < 4; ++k) {
      // vdivps is the IEEE division; the rounding immediate is nearest-even.
      __m256 r = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(row + j + 8 * k), vs),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
    }
    // Pack 32 int32 into 32 int8; packs interleave 128-bit lanes, the permute undoes it.
    __m256i p16a = _mm256_packs_epi32(v[0], v[1]), p16b = _mm256_packs_epi32(v[2], v[3]);
    __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + j), p8);
  }
  QuantizeRowInt8Portable(row + j, n - j, s, q + j);
}

float Int8RowScale(const float* row, size_t n) {
  return HaveAvx2() ? Int8RowScaleAvx2(row, n) : Int8RowScalePortable(row, n);
}
void QuantizeRowInt8(const float* row, size_t n, float s, int8_t* q) {
  if (HaveAvx2()) return QuantizeRowInt8Avx2(row, n, s, q);
  QuantizeRowInt8Portable(row, n, s, q);
}
#else
bool HaveAvx2() { return false; }
float Int8RowScale(const float* row, size_t n) { return Int8RowScalePortable(row, n); }
void QuantizeRowInt8(const float* row, size_t n, float s, int8_t* q) {
  QuantizeRowInt8Portable(row, n, s, q);
}
#endif

}  // namespace embed2onnx
