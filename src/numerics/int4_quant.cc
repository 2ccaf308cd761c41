#include "numerics/int4_quant.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "numerics/int8_quant.h"  // HaveAvx2
#include "numerics/simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace embed2onnx {

namespace {

// 2^(r/16), r = 0..15, rounded to float32 (hex, so the table is the same on every
// machine whatever its libm).
constexpr float kSixteenthOctaves[16] = {0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
                                         0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
                                         0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
                                         0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};

constexpr int kFineFirst = 16, kFineLast = 239;  // codes stepping by 1/16 octave
constexpr int kFineExponent = -22;               // Scale(kFineFirst) = 2^-22

std::array<float, kInt4ScaleCodes> MakeScaleTable() {
  std::array<float, kInt4ScaleCodes> t{};
  t[0] = 0.0f;
  for (int a = 1; a < kInt4ScaleCodes; ++a) {
    if (a < kFineFirst) {
      t[a] = std::ldexp(1.0f, kFineExponent - (kFineFirst - a));
    } else if (a <= kFineLast) {
      const int k = a - kFineFirst;
      t[a] = std::ldexp(kSixteenthOctaves[k % 16], kFineExponent + k / 16);
    } else {
      t[a] = std::ldexp(1.0f, kFineExponent + (kFineLast + 1 - kFineFirst) / 16 + (a - kFineLast - 1));
    }
  }
  return t;
}

const std::array<float, kInt4ScaleCodes>& ScaleTable() {
  static const std::array<float, kInt4ScaleCodes> table = MakeScaleTable();
  return table;
}

// Level(q) by the graph's own operations; every step is exact.
constexpr float LevelOf(int q) {
  const float w = static_cast<float>(q) - 7.5f;
  return w * (w * w + kInt4LevelSpread);
}

// Midpoints between neighbouring levels (exact: the levels have three fraction bits).
struct Midpoints {
  float m[15] = {};
  constexpr Midpoints() {
    for (int k = 0; k < 15; ++k) m[k] = 0.5f * (LevelOf(k) + LevelOf(k + 1));
  }
};
constexpr Midpoints kMid;

constexpr float kLevelRange = 3843.75f;  // Level(15) - Level(0)
// The starts of the continuous fit: the block's range, scaled by each.
constexpr float kShrinks[] = {1.0f};

// The code of t (in level units): the count of midpoints below it, compared in 1/16 units
// of a level. t * 16, clamped to int16 and rounded to nearest even, against the midpoints
// x 16, which are whole numbers: the vector build compares 16 of these at once. (Within
// 1/32 unit of a midpoint this may pick the other neighbour; levels are 200 or more apart.)
struct Midpoints16 {
  int16_t m[15] = {};
  constexpr Midpoints16() {
    for (int k = 0; k < 15; ++k) m[k] = static_cast<int16_t>(16.0f * kMid.m[k]);
  }
};
constexpr Midpoints16 kMid16;

inline int CodeOf(float t) {
  float u = t * 16.0f;
  u = std::min(std::max(u, -32768.0f), 32767.0f);
  // A NaN (from step 1's fit of a block whose range is subnormal, where 1 / A is inf) gets
  // INT32_MIN, code 0, on every machine: a cast of NaN to int is undefined.
  const int v = u == u ? static_cast<int>(std::nearbyint(u)) : INT32_MIN;
  int c = 0;
  for (int m = 0; m < 15; ++m) c += v > kMid16.m[m] ? 1 : 0;
  return c;
}

void AssignScalar(const float* x, size_t n, float inv, float z, uint8_t* q) {
  for (size_t k = 0; k < n; ++k) q[k] = static_cast<uint8_t>(CodeOf(x[k] * inv - z));
}

float SumOfLevels(const uint8_t* q, size_t n) {
  float g = 0.0f;
  for (size_t k = 0; k < n; ++k) g += LevelOf(q[k]);
  return g;
}

// A NaN centre (a block near the largest floats, whose float sums overflow) gets
// INT32_MIN, as the vector build's conversion gives it: a cast of NaN to int is undefined.
inline int NearestOffset(float centre_units) {
  const float u = std::min(std::max(std::nearbyint(centre_units / kInt4OffsetUnit), -128.0f), 127.0f);
  return u == u ? static_cast<int>(u) : INT32_MIN;
}

// The largest code whose scale is at most a (1 if none): a binary search over the rising
// codes 1..254, the reference ScaleCodesBelowLanes must equal.
inline int ScaleCodeBelow(const float* table, float a) {
  int lo = 1, hi = kInt4ScaleCodes - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table[mid] <= a)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

// One block, the reference every build must equal: x holds its n values (value k of the
// block is row value k * nb + b); q receives the codes. Every sum runs over k in order, in
// float32 (then widened), so the AVX2 build, which runs eight neighbouring blocks in its
// eight lanes, computes each block by exactly these operations.
void QuantizeBlockScalar(const float* x, size_t n, uint8_t* q, uint8_t* scale_code, int8_t* offset) {
  float mn = x[0], mxv = x[0], fsx = 0.0f, fsxx = 0.0f;
  for (size_t k = 0; k < n; ++k) {
    mn = x[k] < mn ? x[k] : mn;
    mxv = x[k] > mxv ? x[k] : mxv;
    fsx += x[k];
    fsxx += x[k] * x[k];
  }
  if (mn == 0.0f && mxv == 0.0f) {  // all zeros: scale 0 decodes every code to 0
    std::memset(q, 8, n);
    *scale_code = 0;
    *offset = 0;
    return;
  }
  const double dn = static_cast<double>(n), sx = fsx, sxx = fsxx;
  const float centre = 0.5f * mn + 0.5f * mxv;

  // 1. A continuous fit x ~ A * Level(q) + B: from the range (and from 90 % of it, which
  // lets the outermost values sit past the end levels), then two rounds of nearest levels
  // and least squares. Keep the start whose fit errs least.
  float best_a = (mxv - mn) / kLevelRange, best_b = centre;
  double best_sse = INFINITY;
  for (float shrink : kShrinks) {
    float a = (mxv - mn) * shrink / kLevelRange, b = centre;
    if (!(a > 0.0f)) continue;  // a constant block: the stored search below handles it
    double sse = INFINITY;
    for (int round = 0; round < 2; ++round) {
      AssignScalar(x, n, 1.0f / a, b / a, q);
      float g = 0.0f, gg = 0.0f, xg = 0.0f;
      for (size_t k = 0; k < n; ++k) {
        const float v = LevelOf(q[k]);
        g += v;
        gg += v * v;
        xg += x[k] * v;
      }
      const double sg = g, sgg = gg, sxg = xg;
      const double den = dn * sgg - sg * sg;
      if (!(den > 0.0)) break;
      const double na = (dn * sxg - sg * sx) / den;
      if (!(na > 0.0)) break;
      const double nb = (sx - na * sg) / dn;
      a = static_cast<float>(na);
      b = static_cast<float>(nb);
      sse = sxx - na * sxg - nb * sx;
    }
    if (sse < best_sse) {
      best_sse = sse;
      best_a = a;
      best_b = b;
    }
  }

  // 2. The stored form: the two scale codes around A, each with the offset nearest B / s,
  // then the offset those codes want. Only forms that keep every value within the bound
  // count; the least squared error wins, the first on a tie.
  const float* table = ScaleTable().data();
  const int lo = ScaleCodeBelow(table, best_a);
  float best_err = INFINITY;
  bool found = false;
  uint8_t trial[kInt4MaxBlock];
  auto try_form = [&](int a, int off) {
    const float s = table[a];
    const float z = kInt4OffsetUnit * static_cast<float>(off);
    AssignScalar(x, n, 1.0f / s, z, trial);
    float sse = 0.0f, worst = 0.0f;
    for (size_t k = 0; k < n; ++k) {
      const float e = std::fabs((LevelOf(trial[k]) + z) * s - x[k]);
      sse += e * e;
      worst = e > worst ? e : worst;
    }
    if (worst <= s * kInt4BoundUnits && sse < best_err) {
      best_err = sse;
      found = true;
      std::memcpy(q, trial, n);
      *scale_code = static_cast<uint8_t>(a);
      *offset = static_cast<int8_t>(off);
    }
  };
  for (int a = lo; a <= std::min(lo + 1, kInt4ScaleCodes - 1); ++a) {
    const float s = table[a];
    const int off = NearestOffset(best_b / s);
    try_form(a, off);  // leaves its codes in trial
    const double sg = SumOfLevels(trial, n);
    const int off2 = NearestOffset(static_cast<float>((sx / s - sg) / dn));
    if (off2 != off) try_form(a, off2);
  }
  // 3. Nothing within the bound (a block far from 0 for its spread, a constant block, or
  // one value far out): the smallest scale from A up whose range, centred on the block,
  // holds it.
  for (int a = lo; !found && a < kInt4ScaleCodes; ++a) try_form(a, NearestOffset(centre / table[a]));
  if (!found) {  // beyond every scale (|x| past about 2^18): saturate; verify reports it
    const int a = kInt4ScaleCodes - 1;
    const int off = NearestOffset(centre / table[a]);
    AssignScalar(x, n, 1.0f / table[a], kInt4OffsetUnit * static_cast<float>(off), q);
    *scale_code = static_cast<uint8_t>(a);
    *offset = static_cast<int8_t>(off);
  }
}

// Block b of a row into x (strided), and its codes back into the packed row.
inline void LoadBlock(const float* row, size_t n, size_t nb, size_t b, float* x) {
  for (size_t k = 0; k < n; ++k) x[k] = row[k * nb + b];
}
inline void StoreCodes(const uint8_t* q, size_t n, size_t nb, size_t b, uint8_t* codes) {
  for (size_t k = 0; k < n / 2; ++k) codes[k * nb + b] = static_cast<uint8_t>(q[k] | q[k + n / 2] << 4);
}

void QuantizeBlocksScalar(const float* row, size_t d, size_t block, size_t first, uint8_t* codes,
                          uint8_t* scale_codes, int8_t* offsets) {
  const size_t nb = d / block;
  float x[kInt4MaxBlock] = {};
  uint8_t q[kInt4MaxBlock];
  for (size_t b = first; b < nb; ++b) {
    LoadBlock(row, block, nb, b, x);
    QuantizeBlockScalar(x, block, q, &scale_codes[b], &offsets[b]);
    StoreCodes(q, block, nb, b, codes);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define E2O_AVX2 __attribute__((target("avx2")))
// Eight neighbouring blocks at once, one per lane: lane l of every vector belongs to block
// b0 + l, and value k of the eight blocks is the eight consecutive floats at row + k * nb + b0.
// Each lane takes exactly the steps of QuantizeBlockScalar (masks stand for its branches);
// a block of zeros, or one beyond every scale, is redone by QuantizeBlockScalar itself.
// The row's body runs two such groups together (QuantizeGroupsAvx2), its rest one; both
// use the same buffers.
constexpr int kGroupsSideBySide = 2;
struct Lanes {
  __m256 x[kGroupsSideBySide][kInt4MaxBlock];
  // Codes as int16, value k of the eight blocks at [8k, 8k + 8): for even k, vector k / 2
  // holds values k and k + 1 (CodesOf16's order).
  __m256i q[kGroupsSideBySide][kInt4MaxBlock / 2], trial[kGroupsSideBySide][kInt4MaxBlock / 2];
};

E2O_AVX2 inline __m256 LevelsOf(__m256i q) {
  const __m256 w = _mm256_sub_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(7.5f));
  return _mm256_mul_ps(w, _mm256_add_ps(_mm256_mul_ps(w, w), _mm256_set1_ps(kInt4LevelSpread)));
}

// CodeOf in each lane, two vectors (16 values) at a time in int16.
// u = 16 t, t in level units. CodeOf clamps u to [-32768, 32767]; here only the top is
// clamped, with min(32767, u), which keeps a NaN: the conversion makes it, and anything
// below -32768, INT32_MIN or an int32 below -32768, which the int16 pack saturates to
// -32768, the code CodeOf gives (it takes NaN to INT32_MIN too: code 0).
E2O_AVX2 inline __m256i Fixed16Of16t(__m256 u) {
  return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_set1_ps(32767.0f), u));  // nearest even, as nearbyint
}
// The levels are odd about 0, so are the midpoints: m[7] = 0 and m[14 - k] = -m[k]. With
// P_j = m[7 + j] (j = 1..7), CodeOf's count of midpoints below v is 8 + #{P_j < v} for
// v > 0 and 7 - #{P_j <= -v} = 8 + ~#{P_j < 1 - v} for v <= 0: a count over the seven P_j
// of u = v > 0 ? v : 1 - v instead of one over fifteen midpoints of v. v is first raised to
// -32766 (the codes of -32768 .. -32766 are all 0, below m[0]) so that 1 - v fits in int16.
constexpr bool MidpointsAreOdd() {
  for (int k = 0; k < 15; ++k)
    if (kMid16.m[14 - k] != -kMid16.m[k] || (k < 14 && !(kMid16.m[k] < kMid16.m[k + 1]))) return false;
  return kMid16.m[7] == 0;  // so P_j = m[7 + j] > 0
}
static_assert(MidpointsAreOdd(), "the midpoints are odd about 0");
// That count by lookup, not seven compares: no 2048-wide bucket of u holds two of the P_j
// (MidpointBuckets checks it at compile time), so #{P_j < u} is the count below the bucket
// plus one compare against the bucket's own midpoint (32767, which no u exceeds, where it
// has none). The bucket index u >> 11 picks both from 16-byte tables by
// byte shuffles: the midpoint's low and high bytes apart, the count in the low byte.
struct MidpointBuckets {
  uint8_t below[16] = {}, low[16] = {}, high[16] = {};
  bool one_each = true;
  constexpr MidpointBuckets() {
    for (int i = 0; i < 16; ++i) {
      int count = 0, own = 32767, in_bucket = 0;
      for (int j = 1; j <= 7; ++j) {
        const int p = kMid16.m[7 + j];
        if (p < 2048 * i) {
          ++count;
        } else if (p < 2048 * (i + 1)) {
          own = p;
          ++in_bucket;
        }
      }
      one_each = one_each && in_bucket <= 1;
      below[i] = static_cast<uint8_t>(count);
      low[i] = static_cast<uint8_t>(own & 0xFF);
      high[i] = static_cast<uint8_t>(own >> 8);
    }
  }
};
constexpr MidpointBuckets kBuckets;
static_assert(kBuckets.one_each, "at most one midpoint in each 2048-wide bucket");
E2O_AVX2 inline __m256i Table16(const uint8_t* t) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
E2O_AVX2 inline __m256i CodesOfFixed16(__m256i v) {
  v = _mm256_max_epi16(v, _mm256_set1_epi16(-32766));
  const __m256i not_pos = _mm256_cmpgt_epi16(_mm256_set1_epi16(1), v);  // -1 where v <= 0
  const __m256i u = _mm256_sub_epi16(_mm256_abs_epi16(v), not_pos);     // 1..32767
  const __m256i bucket = _mm256_srli_epi16(u, 11);
  // A shuffle index with its top bit set writes 0: these pick into the low byte only
  // and into the high byte only.
  const __m256i into_low = _mm256_or_si256(bucket, _mm256_set1_epi16(static_cast<int16_t>(0x8000)));
  const __m256i into_high = _mm256_or_si256(_mm256_slli_epi16(bucket, 8), _mm256_set1_epi16(0x0080));
  const __m256i own = _mm256_or_si256(_mm256_shuffle_epi8(Table16(kBuckets.low), into_low),
                                      _mm256_shuffle_epi8(Table16(kBuckets.high), into_high));
  const __m256i count = _mm256_sub_epi16(_mm256_shuffle_epi8(Table16(kBuckets.below), into_low),
                                         _mm256_cmpgt_epi16(u, own));  // a true compare is -1
  return _mm256_add_epi16(_mm256_set1_epi16(8), _mm256_xor_si256(count, not_pos));
}
// CodeOf of 16 values given as u = 16 t, u0 then u1, as int16 in their order.
E2O_AVX2 inline __m256i CodesOf16Scaled(__m256 u0, __m256 u1) {
  // [a0-3 b0-3 a4-7 b4-7] -> [a0-7 b0-7]
  return CodesOfFixed16(
      _mm256_permute4x64_epi64(_mm256_packs_epi32(Fixed16Of16t(u0), Fixed16Of16t(u1)), 0xD8));
}
// The same for t in level units.
E2O_AVX2 inline __m256i CodesOf16(__m256 t0, __m256 t1) {
  const __m256 sixteen = _mm256_set1_ps(16.0f);
  return CodesOf16Scaled(_mm256_mul_ps(t0, sixteen), _mm256_mul_ps(t1, sixteen));
}

// The same for a scale from the table (at least 2^-37) and an offset code, with 16 folded
// into both: x * (16 / s) - 16 z is exactly 16 (x / s - z). Scaling by 16 commutes with
// rounding except at the ends: an overflow reaches the same infinity, which the clamp
// clips alike, and where x / s is subnormal it vanishes against a z that is not 0, or
// leaves |u| far below 1/2 (code of 0) when z is 0.
E2O_AVX2 inline void AssignLanes16(const __m256* x, size_t n, __m256 inv16, __m256 z16, __m256i* q) {
  for (size_t k = 0; k + 2 <= n; k += 2) {
    q[k / 2] = CodesOf16Scaled(_mm256_sub_ps(_mm256_mul_ps(x[k], inv16), z16),
                               _mm256_sub_ps(_mm256_mul_ps(x[k + 1], inv16), z16));
  }
}

// The codes of value k of the eight blocks, as int32 lanes.
E2O_AVX2 inline __m256i CodeAt(const __m256i* q, size_t k) {
  return _mm256_cvtepi16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(q) + k));
}

// n is even (the block is, CheckInt4Params).
E2O_AVX2 inline void AssignLanes(const __m256* x, size_t n, __m256 inv, __m256 z, __m256i* q) {
  for (size_t k = 0; k + 2 <= n; k += 2) {
    q[k / 2] =
        CodesOf16(_mm256_sub_ps(_mm256_mul_ps(x[k], inv), z), _mm256_sub_ps(_mm256_mul_ps(x[k + 1], inv), z));
  }
}

// Double lanes: lo holds lanes 0..3, hi lanes 4..7.
struct D8 {
  __m256d lo, hi;
};
E2O_AVX2 inline D8 Widen(__m256 v) {
  return {_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
}
E2O_AVX2 inline __m256 Narrow(D8 v) { return _mm256_set_m128(_mm256_cvtpd_ps(v.hi), _mm256_cvtpd_ps(v.lo)); }
E2O_AVX2 inline __m256 MaskOf(D8 m) {  // double-lane masks to float lanes
  return _mm256_set_m128(_mm256_cvtpd_ps(m.hi), _mm256_cvtpd_ps(m.lo));
}
#define E2O_D8(op, a, b) \
  D8 { op((a).lo, (b).lo), op((a).hi, (b).hi) }
E2O_AVX2 inline D8 Blend(D8 a, D8 b, D8 m) {
  return {_mm256_blendv_pd(a.lo, b.lo, m.lo), _mm256_blendv_pd(a.hi, b.hi, m.hi)};
}
E2O_AVX2 inline D8 Set(double v) { return {_mm256_set1_pd(v), _mm256_set1_pd(v)}; }
E2O_AVX2 inline D8 Gt(D8 a, D8 b) {
  return {_mm256_cmp_pd(a.lo, b.lo, _CMP_GT_OQ), _mm256_cmp_pd(a.hi, b.hi, _CMP_GT_OQ)};
}
E2O_AVX2 inline D8 Lt(D8 a, D8 b) {
  return {_mm256_cmp_pd(a.lo, b.lo, _CMP_LT_OQ), _mm256_cmp_pd(a.hi, b.hi, _CMP_LT_OQ)};
}
E2O_AVX2 inline D8 And(D8 a, D8 b) { return {_mm256_and_pd(a.lo, b.lo), _mm256_and_pd(a.hi, b.hi)}; }
E2O_AVX2 inline D8 ToDoubleMask(__m256 m) {  // float-lane masks (all ones / zero) to double lanes
  const __m256i i = _mm256_castps_si256(m);
  return {_mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(i))),
          _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(i, 1)))};
}

// ScaleCodeBelow in each lane, from a's exponent and mantissa instead of a search: the
// codes below 16 and above 239 are whole octaves, and the fine codes 16..239 are the
// octave's 16 steps, each kSixteenthOctaves[r] scaled by a power of two, so within an
// octave the step is the count of those constants whose mantissa a's reaches.
struct SixteenthMantissas {
  int32_t m[16] = {};
  constexpr SixteenthMantissas() {
    for (int r = 0; r < 16; ++r)
      m[r] = static_cast<int32_t>(std::bit_cast<uint32_t>(kSixteenthOctaves[r]) & 0x7FFFFFu);
  }
};
constexpr SixteenthMantissas kSixteenthMantissas;
E2O_AVX2 inline __m256i ScaleCodesBelowLanes(__m256 a) {
  const __m256i bits = _mm256_castps_si256(a);
  const __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));  // a > 0
  const __m256i mant = _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFF));
  __m256i r = _mm256_setzero_si256();
  for (int j = 1; j < 16; ++j)  // a true compare is -1
    r = _mm256_sub_epi32(r, _mm256_cmpgt_epi32(mant, _mm256_set1_epi32(kSixteenthMantissas.m[j] - 1)));
  __m256i c = _mm256_add_epi32(
      _mm256_add_epi32(_mm256_slli_epi32(e, 4), _mm256_set1_epi32(16 + 16 * -kFineExponent)), r);
  c = _mm256_blendv_epi8(c, _mm256_add_epi32(e, _mm256_set1_epi32(kFineFirst - kFineExponent)),
                         _mm256_cmpgt_epi32(_mm256_set1_epi32(kFineExponent), e));
  c = _mm256_blendv_epi8(c, _mm256_set1_epi32(1),
                         _mm256_cmpgt_epi32(_mm256_set1_epi32(kFineExponent - (kFineFirst - 1)), e));
  constexpr int kCoarseFirstExponent = kFineExponent + (kFineLast + 1 - kFineFirst) / 16;  // -8
  c = _mm256_blendv_epi8(c, _mm256_add_epi32(e, _mm256_set1_epi32(kFineLast + 1 - kCoarseFirstExponent)),
                         _mm256_cmpgt_epi32(e, _mm256_set1_epi32(kCoarseFirstExponent - 1)));
  c = _mm256_blendv_epi8(c, _mm256_set1_epi32(kInt4ScaleCodes - 1),
                         _mm256_cmpgt_epi32(e, _mm256_set1_epi32(kCoarseFirstExponent +
                                                                 (kInt4ScaleCodes - 1 - (kFineLast + 1)))));
  // Zero, subnormal, negative or NaN: no scale is at most a, code 1 as the search gives.
  const __m256i normal = _mm256_and_si256(_mm256_cmpgt_epi32(bits, _mm256_set1_epi32(0x7FFFFF)),
                                          _mm256_cmpgt_epi32(_mm256_set1_epi32(0x7F800001), bits));
  return _mm256_blendv_epi8(_mm256_set1_epi32(1), c, normal);
}

E2O_AVX2 inline __m256i NearestOffsetLanes(__m256 centre_units) {
  // x / 16 and x * (1 / 16) are the same real number, so the same float, subnormals too.
  __m256 u = _mm256_round_ps(_mm256_mul_ps(centre_units, _mm256_set1_ps(1.0f / kInt4OffsetUnit)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // min(max(u, -128), 127) as the scalar's std::min and std::max take it, NaN included:
  // std::max(u, -128) is u < -128 ? -128 : u, which keeps a NaN, and so is max_ps(-128, u)
  // (max_ps(a, b) = a > b ? a : b); likewise std::min(u, 127) and min_ps(127, u). The
  // conversion then makes a NaN INT32_MIN, as NearestOffset does.
  u = _mm256_min_ps(_mm256_set1_ps(127.0f), _mm256_max_ps(_mm256_set1_ps(-128.0f), u));
  return _mm256_cvtps_epi32(u);
}

// The error of one stored form for K groups side by side (K = 1 or 2): per lane, the sum
// of squared errors and the sum of levels, each over k in order, and the worst error.
template <int K>
E2O_AVX2 inline void FormErrors(const __m256* const* x, const __m256i* const* trial, size_t n,
                                const __m256* s, const __m256* z, __m256* sse, __m256* worst, __m256* g) {
  // Local accumulators: through the out pointers, which may alias the inputs, every add
  // would go to memory and back.
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 ls[K], lz[K], lsse[K], lworst[K], lg[K];
  for (int w = 0; w < K; ++w) {
    ls[w] = s[w];
    lz[w] = z[w];
    lsse[w] = lworst[w] = lg[w] = _mm256_setzero_ps();
  }
  for (size_t k = 0; k < n; ++k)
    for (int w = 0; w < K; ++w) {
      const __m256 level = LevelsOf(CodeAt(trial[w], k));
      lg[w] = _mm256_add_ps(lg[w], level);
      const __m256 d = _mm256_sub_ps(_mm256_mul_ps(_mm256_add_ps(level, lz[w]), ls[w]), x[w][k]);
      const __m256 e = _mm256_andnot_ps(sign, d);
      lsse[w] = _mm256_add_ps(lsse[w], _mm256_mul_ps(e, e));
      lworst[w] = _mm256_max_ps(e, lworst[w]);  // e > worst ? e : worst
    }
  for (int w = 0; w < K; ++w) {
    sse[w] = lsse[w];
    worst[w] = lworst[w];
    g[w] = lg[w];
  }
}

// W groups of eight neighbouring blocks (group w holds blocks b0 + 8w .. b0 + 8w + 7). Every
// sum still runs over k in its block's order, but the W groups' chains of dependent
// additions are interleaved, so one group's adds fill the others' latency: with one group
// the loops waited on those chains.
template <int W>
E2O_AVX2 void QuantizeGroupsAvx2(const float* row, size_t n, size_t nb, size_t b0, Lanes& L, uint8_t* codes,
                                 uint8_t* scale_codes, int8_t* offsets) {
  static_assert(W >= 1 && W <= kGroupsSideBySide, "Lanes holds the groups");
  const float* table = ScaleTable().data();
  const __m256 zero = _mm256_setzero_ps();
  __m256 mn[W], mxv[W], fsx[W], fsxx[W];
  for (int w = 0; w < W; ++w) {
    mn[w] = mxv[w] = _mm256_loadu_ps(row + b0 + 8 * w);
    fsx[w] = fsxx[w] = zero;
  }
  for (size_t k = 0; k < n; ++k)
    for (int w = 0; w < W; ++w) {
      const __m256 v = _mm256_loadu_ps(row + k * nb + b0 + 8 * w);
      L.x[w][k] = v;
      mn[w] = _mm256_min_ps(v, mn[w]);  // v < mn ? v : mn
      mxv[w] = _mm256_max_ps(v, mxv[w]);
      fsx[w] = _mm256_add_ps(fsx[w], v);
      fsxx[w] = _mm256_add_ps(fsxx[w], _mm256_mul_ps(v, v));
    }
  const D8 dn = Set(static_cast<double>(n));
  const __m256 half = _mm256_set1_ps(0.5f), lr = _mm256_set1_ps(kLevelRange);
  __m256 all_zero[W], centre[W], range[W];
  D8 sx[W], sxx[W];
  for (int w = 0; w < W; ++w) {
    all_zero[w] =
        _mm256_and_ps(_mm256_cmp_ps(mn[w], zero, _CMP_EQ_OQ), _mm256_cmp_ps(mxv[w], zero, _CMP_EQ_OQ));
    sx[w] = Widen(fsx[w]);
    sxx[w] = Widen(fsxx[w]);
    centre[w] = _mm256_add_ps(_mm256_mul_ps(half, mn[w]), _mm256_mul_ps(half, mxv[w]));
    range[w] = _mm256_sub_ps(mxv[w], mn[w]);
  }

  // 1. The continuous fit.
  __m256 best_a[W], best_b[W];
  D8 best_sse[W];
  for (int w = 0; w < W; ++w) {
    best_a[w] = _mm256_div_ps(range[w], lr);
    best_b[w] = centre[w];
    best_sse[w] = Set(INFINITY);
  }
  for (float shrink : kShrinks) {
    __m256 a[W], b[W];
    D8 active[W], sse[W];
    for (int w = 0; w < W; ++w) {
      a[w] = _mm256_div_ps(_mm256_mul_ps(range[w], _mm256_set1_ps(shrink)), lr);
      b[w] = centre[w];
      active[w] = ToDoubleMask(_mm256_cmp_ps(a[w], zero, _CMP_GT_OQ));
      sse[w] = Set(INFINITY);
    }
    for (int round = 0; round < 2; ++round) {
      __m256 g[W], gg[W], xg[W];
      for (int w = 0; w < W; ++w) {
        const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), a[w]);
        AssignLanes(L.x[w], n, inv, _mm256_div_ps(b[w], a[w]), L.q[w]);
        g[w] = gg[w] = xg[w] = zero;
      }
      for (size_t k = 0; k < n; ++k)
        for (int w = 0; w < W; ++w) {
          const __m256 v = LevelsOf(CodeAt(L.q[w], k));
          g[w] = _mm256_add_ps(g[w], v);
          gg[w] = _mm256_add_ps(gg[w], _mm256_mul_ps(v, v));
          xg[w] = _mm256_add_ps(xg[w], _mm256_mul_ps(L.x[w][k], v));
        }
      for (int w = 0; w < W; ++w) {
        const D8 sg = Widen(g[w]), sgg = Widen(gg[w]), sxg = Widen(xg[w]);
        const D8 den = E2O_D8(_mm256_sub_pd, E2O_D8(_mm256_mul_pd, dn, sgg), E2O_D8(_mm256_mul_pd, sg, sg));
        active[w] = And(active[w], Gt(den, Set(0.0)));
        const D8 na = E2O_D8(
            _mm256_div_pd,
            E2O_D8(_mm256_sub_pd, E2O_D8(_mm256_mul_pd, dn, sxg), E2O_D8(_mm256_mul_pd, sg, sx[w])), den);
        active[w] = And(active[w], Gt(na, Set(0.0)));
        const D8 nbv = E2O_D8(_mm256_div_pd, E2O_D8(_mm256_sub_pd, sx[w], E2O_D8(_mm256_mul_pd, na, sg)), dn);
        const D8 nsse = E2O_D8(_mm256_sub_pd, E2O_D8(_mm256_sub_pd, sxx[w], E2O_D8(_mm256_mul_pd, na, sxg)),
                               E2O_D8(_mm256_mul_pd, nbv, sx[w]));
        const __m256 fm = MaskOf(active[w]);
        a[w] = _mm256_blendv_ps(a[w], Narrow(na), fm);
        b[w] = _mm256_blendv_ps(b[w], Narrow(nbv), fm);
        sse[w] = Blend(sse[w], nsse, active[w]);
      }
    }
    for (int w = 0; w < W; ++w) {
      const D8 better = Lt(sse[w], best_sse[w]);
      const __m256 fb = MaskOf(better);
      best_sse[w] = Blend(best_sse[w], sse[w], better);
      best_a[w] = _mm256_blendv_ps(best_a[w], a[w], fb);
      best_b[w] = _mm256_blendv_ps(best_b[w], b[w], fb);
    }
  }

  // 2. The stored forms.
  __m256i lo[W];
  for (int w = 0; w < W; ++w) lo[w] = ScaleCodesBelowLanes(best_a[w]);
  __m256 best_err[W];
  __m256i found[W], best_code[W], best_off[W];
  for (int w = 0; w < W; ++w) {
    best_err[w] = _mm256_set1_ps(INFINITY);
    found[w] = best_code[w] = best_off[w] = _mm256_setzero_si256();
  }
  const __m256 bound_units = _mm256_set1_ps(kInt4BoundUnits), unit = _mm256_set1_ps(kInt4OffsetUnit),
               sixteen = _mm256_set1_ps(16.0f);
  // Tries the form (code, off) in the lanes `allowed` of every group, given the scales of
  // the codes; a group with no such lane is skipped. Returns each group's sum of levels of
  // its trial codes (SumOfLevels), which step 2 wants for its second offset.
  auto try_forms = [&](const __m256i* code, const __m256* scale, const __m256i* off, const __m256i* allowed,
                       __m256* g) E2O_AVX2 {
    __m256 s[W], z[W], sse[W], worst[W];
    const __m256* x[W];
    const __m256i* trial[W];
    int live[W], count = 0;
    for (int w = 0; w < W; ++w) {
      if (_mm256_testz_si256(allowed[w], allowed[w])) continue;
      s[w] = scale[w];
      z[w] = _mm256_mul_ps(unit, _mm256_cvtepi32_ps(off[w]));
      AssignLanes16(L.x[w], n, _mm256_mul_ps(sixteen, _mm256_div_ps(_mm256_set1_ps(1.0f), s[w])),
                    _mm256_mul_ps(sixteen, z[w]), L.trial[w]);
      x[w] = L.x[w];
      trial[w] = L.trial[w];
      live[count++] = w;
    }
    if (count == W) {
      FormErrors<W>(x, trial, n, s, z, sse, worst, g);
    } else {
      for (int i = 0; i < count; ++i) {
        const int w = live[i];
        FormErrors<1>(&x[w], &trial[w], n, &s[w], &z[w], &sse[w], &worst[w], &g[w]);
      }
    }
    for (int i = 0; i < count; ++i) {
      const int w = live[i];
      const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(worst[w], _mm256_mul_ps(s[w], bound_units), _CMP_LE_OQ),
                                      _mm256_cmp_ps(sse[w], best_err[w], _CMP_LT_OQ));
      const __m256i take = _mm256_and_si256(_mm256_castps_si256(ok), allowed[w]);
      if (_mm256_testz_si256(take, take)) continue;
      best_err[w] = _mm256_blendv_ps(best_err[w], sse[w], _mm256_castsi256_ps(take));
      found[w] = _mm256_or_si256(found[w], take);
      best_code[w] = _mm256_blendv_epi8(best_code[w], code[w], take);
      best_off[w] = _mm256_blendv_epi8(best_off[w], off[w], take);
      // take per int16 code: lanes 0..7 in both halves.
      const __m256i take16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(take, take), 0x88);
      for (size_t k = 0; k < n / 2; ++k) L.q[w][k] = _mm256_blendv_epi8(L.q[w][k], L.trial[w][k], take16);
    }
  };
  const __m256i ones = _mm256_set1_epi32(-1);
  for (int second = 0; second < 2; ++second) {
    __m256i safe[W], off[W], allowed[W], off2[W], differs[W];
    __m256 s[W], g[W];
    for (int w = 0; w < W; ++w) {
      g[w] = zero;
      const __m256i code = _mm256_add_epi32(lo[w], _mm256_set1_epi32(second));
      allowed[w] = second ? _mm256_cmpgt_epi32(_mm256_set1_epi32(kInt4ScaleCodes), code) : ones;
      safe[w] = _mm256_min_epi32(code, _mm256_set1_epi32(kInt4ScaleCodes - 1));
      s[w] = _mm256_i32gather_ps(table, safe[w], 4);
      off[w] = NearestOffsetLanes(_mm256_div_ps(best_b[w], s[w]));
    }
    try_forms(safe, s, off, allowed, g);
    for (int w = 0; w < W; ++w) {
      // A group with no allowed lane was skipped and its g left at zero: differs masks it off.
      const D8 sg = Widen(g[w]), ds = Widen(s[w]);
      const __m256 want =
          Narrow(E2O_D8(_mm256_div_pd, E2O_D8(_mm256_sub_pd, E2O_D8(_mm256_div_pd, sx[w], ds), sg), dn));
      off2[w] = NearestOffsetLanes(want);
      differs[w] = _mm256_and_si256(_mm256_xor_si256(_mm256_cmpeq_epi32(off2[w], off[w]), ones), allowed[w]);
    }
    try_forms(safe, s, off2, differs, g);
  }

  // 3. As QuantizeBlockScalar's step 3, for the lanes still without a form.
  __m256i code[W];
  for (int w = 0; w < W; ++w) code[w] = lo[w];
  for (;;) {
    __m256i open[W], safe[W], off[W];
    __m256 g[W], s[W];
    bool any = false;
    for (int w = 0; w < W; ++w) {
      open[w] =
          _mm256_andnot_si256(found[w], _mm256_cmpgt_epi32(_mm256_set1_epi32(kInt4ScaleCodes), code[w]));
      any = any || !_mm256_testz_si256(open[w], open[w]);
      safe[w] = _mm256_min_epi32(code[w], _mm256_set1_epi32(kInt4ScaleCodes - 1));
      s[w] = _mm256_i32gather_ps(table, safe[w], 4);
      off[w] = NearestOffsetLanes(_mm256_div_ps(centre[w], s[w]));
    }
    if (!any) break;
    try_forms(safe, s, off, open, g);
    for (int w = 0; w < W; ++w) code[w] = _mm256_add_epi32(code[w], _mm256_set1_epi32(1));
  }

  for (int w = 0; w < W; ++w) {
    const size_t bw = b0 + 8 * static_cast<size_t>(w);
    alignas(32) int32_t fl[8], cl[8], ol[8], zl[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(fl), found[w]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(cl), best_code[w]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ol), best_off[w]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(zl), _mm256_castps_si256(all_zero[w]));
    const auto* q16 = reinterpret_cast<const __m128i*>(L.q[w]);
    for (size_t k = 0; k < n / 2; ++k) {
      const __m128i both =
          _mm_or_si128(_mm_load_si128(q16 + k), _mm_slli_epi16(_mm_load_si128(q16 + k + n / 2), 4));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(codes + k * nb + bw), _mm_packus_epi16(both, both));
    }
    for (int l = 0; l < 8; ++l) {
      scale_codes[bw + l] = static_cast<uint8_t>(cl[l]);
      offsets[bw + l] = static_cast<int8_t>(ol[l]);
      if (zl[l] || !fl[l]) {  // a block of zeros, or one beyond every scale: the reference does it
        float x[kInt4MaxBlock] = {};
        uint8_t q[kInt4MaxBlock];
        LoadBlock(row, n, nb, bw + l, x);
        QuantizeBlockScalar(x, n, q, &scale_codes[bw + l], &offsets[bw + l]);
        StoreCodes(q, n, nb, bw + l, codes);
      }
    }
  }
}

E2O_AVX2 void QuantizeRowInt4Avx2(const float* row, size_t d, size_t block, uint8_t* codes,
                                  uint8_t* scale_codes, int8_t* offsets) {
  const size_t nb = d / block;
  thread_local Lanes lanes;
  size_t b = 0;
  for (; b + 16 <= nb; b += 16) QuantizeGroupsAvx2<2>(row, block, nb, b, lanes, codes, scale_codes, offsets);
  for (; b + 8 <= nb; b += 8) QuantizeGroupsAvx2<1>(row, block, nb, b, lanes, codes, scale_codes, offsets);
  QuantizeBlocksScalar(row, d, block, b, codes, scale_codes, offsets);
}

// The whole vectors of a[0..n); returns how many values it did.
E2O_AVX2 size_t ScaleCodesBelowAvx2(const float* a, size_t n, int32_t* codes) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), ScaleCodesBelowLanes(_mm256_loadu_ps(a + i)));
  return i;
}

E2O_AVX2 void NearestCodesAvx2(const float* t, size_t n, uint8_t* codes) {
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m256i c = CodesOf16(_mm256_loadu_ps(t + k), _mm256_loadu_ps(t + k + 8));
    const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + k), bytes);
  }
  for (; k < n; ++k) codes[k] = static_cast<uint8_t>(CodeOf(t[k]));
}
#endif

}  // namespace

void Int4NearestCodes(const float* t, size_t n, bool vector, uint8_t* codes) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (vector && HaveAvx2()) return NearestCodesAvx2(t, n, codes);
#endif
  for (size_t k = 0; k < n; ++k) codes[k] = static_cast<uint8_t>(CodeOf(t[k]));
}

void Int4ScaleCodesBelow(const float* a, size_t n, bool vector, int32_t* codes) {
  size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (vector && HaveAvx2()) i = ScaleCodesBelowAvx2(a, n, codes);
#endif
  const float* table = ScaleTable().data();
  for (; i < n; ++i) codes[i] = ScaleCodeBelow(table, a[i]);
}

float Int4Level(int q) { return LevelOf(q); }

float Int4Scale(int a) { return a >= 0 && a < kInt4ScaleCodes ? ScaleTable()[a] : 0.0f; }

const float* Int4ScaleTable() { return ScaleTable().data(); }

void QuantizeRowInt4Portable(const float* row, size_t d, size_t block, uint8_t* codes, uint8_t* scale_codes,
                             int8_t* offsets) {
  QuantizeBlocksScalar(row, d, block, 0, codes, scale_codes, offsets);
}

void QuantizeRowInt4(const float* row, size_t d, size_t block, uint8_t* codes, uint8_t* scale_codes,
                     int8_t* offsets) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (HaveAvx2()) return QuantizeRowInt4Avx2(row, d, block, codes, scale_codes, offsets);
#endif
  QuantizeRowInt4Portable(row, d, block, codes, scale_codes, offsets);
}

E2O_AVX2_CLONES void DequantizeRowInt4(const uint8_t* codes, const uint8_t* scale_codes,
                                       const int8_t* offsets, size_t d, size_t block, float* out) {
  const size_t nb = d / block;
  const float* table = ScaleTable().data();
  // The row as [block, nb]: value (k, b) is code byte (k mod block/2, b), low nibble for
  // the first block/2 rows. The scales and offsets of a row's blocks, once.
  std::vector<float> s(nb), z(nb);
  for (size_t b = 0; b < nb; ++b) {
    s[b] = table[scale_codes[b]];
    z[b] = kInt4OffsetUnit * static_cast<float>(offsets[b]);
  }
  for (size_t k = 0; k < block; ++k) {
    const uint8_t* in = codes + (k % (block / 2)) * nb;
    const int shift = k < block / 2 ? 0 : 4;
    float* o = out + k * nb;
    for (size_t b = 0; b < nb; ++b) o[b] = (LevelOf((in[b] >> shift) & 0x0F) + z[b]) * s[b];
  }
}

}  // namespace embed2onnx
