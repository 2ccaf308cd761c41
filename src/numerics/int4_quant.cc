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
// x 16, which are whole numbers: the vector builds look the code up by the int16's bucket
// instead, 16 values (AVX2) or 32 (AVX-512) at once. (Within
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
// float32 (then widened), so the vector builds, which run 8 or 16 neighbouring blocks in
// their lanes (int4_lanes.inc), compute each block by exactly these operations.
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
// The vector builds: int4_lanes.inc, over 8 lanes (AVX2) and over 16 (AVX-512). What both
// share is plain data, here.
constexpr int kGroupsSideBySide = 2;  // groups of lanes a row's body runs together

// Level(q) for q = 0..15, for a lookup instead of the cubic (the same floats: each step of
// the cubic is exact).
struct Levels {
  float v[16] = {};
  constexpr Levels() {
    for (int q = 0; q < 16; ++q) v[q] = LevelOf(q);
  }
};
constexpr Levels kLevels;

// The codes from u = 16 t, as int16 (CodesOfScaled in each build). Both clamp only the top
// of u, with min(32767, u), which keeps a NaN: the conversion makes it, and anything below
// -32768, INT32_MIN or an int32 below -32768, which the int16 pack saturates to -32768,
// the code CodeOf gives (it takes NaN to INT32_MIN too: code 0).
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
// has none). The bucket index u >> 11 picks both from 16-byte tables by byte shuffles
// within each 128-bit lane: the midpoint's low and high bytes apart, the count in the low
// byte.
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
// For the AVX-512 build: the midpoints in 64 buckets of 1024 over all of int16, bucket
// v >> 10 (-32..31) at entry (v >> 10) & 63; the count of midpoints below the bucket, and
// its own midpoint (32767, which no v exceeds, where it has none).
struct SignedBuckets {
  alignas(64) int16_t below[64] = {};
  alignas(64) int16_t own[64] = {};
  bool one_each = true;
  constexpr SignedBuckets() {
    for (int b = -32; b < 32; ++b) {
      int count = 0, mid = 32767, in_bucket = 0;
      for (int m : kMid16.m) {
        if (m < 1024 * b) {
          ++count;
        } else if (m < 1024 * (b + 1)) {
          mid = m;
          ++in_bucket;
        }
      }
      one_each = one_each && in_bucket <= 1;
      below[b & 63] = static_cast<int16_t>(count);
      own[b & 63] = static_cast<int16_t>(mid);
    }
  }
};
constexpr SignedBuckets kSignedBuckets;
static_assert(kSignedBuckets.one_each, "at most one midpoint in each 1024-wide bucket");

// The mantissas of kSixteenthOctaves, for ScaleCodesBelowLanes.
struct SixteenthMantissas {
  int32_t m[16] = {};
  constexpr SixteenthMantissas() {
    for (int r = 0; r < 16; ++r)
      m[r] = static_cast<int32_t>(std::bit_cast<uint32_t>(kSixteenthOctaves[r]) & 0x7FFFFFu);
  }
};
constexpr SixteenthMantissas kSixteenthMantissas;

namespace avx2 {
#define E2O_LANES __attribute__((target("avx2")))
constexpr size_t kLanes = 8;
using F = __m256;
using I = __m256i;
using M = __m256i;  // all ones in a lane that is set
using C = __m256i;
struct D {  // lo holds lanes 0..3, hi lanes 4..7
  __m256d lo, hi;
};
using DM = D;

E2O_LANES inline F LoadF(const float* p) { return _mm256_loadu_ps(p); }
E2O_LANES inline F SetF(float v) { return _mm256_set1_ps(v); }
E2O_LANES inline F ZeroF() { return _mm256_setzero_ps(); }
E2O_LANES inline F Add(F a, F b) { return _mm256_add_ps(a, b); }
E2O_LANES inline F Sub(F a, F b) { return _mm256_sub_ps(a, b); }
E2O_LANES inline F Mul(F a, F b) { return _mm256_mul_ps(a, b); }
E2O_LANES inline F Div(F a, F b) { return _mm256_div_ps(a, b); }
E2O_LANES inline F Min(F a, F b) { return _mm256_min_ps(a, b); }
E2O_LANES inline F Max(F a, F b) { return _mm256_max_ps(a, b); }
E2O_LANES inline F Abs(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
E2O_LANES inline F CvtIF(I a) { return _mm256_cvtepi32_ps(a); }
// Nearest even; NaN and anything out of range give INT32_MIN.
E2O_LANES inline I CvtFI(F a) { return _mm256_cvtps_epi32(a); }
E2O_LANES inline F RoundNearest(F a) {
  return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
E2O_LANES inline M EqF(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_EQ_OQ)); }
E2O_LANES inline M GtF(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
E2O_LANES inline M LeF(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LE_OQ)); }
E2O_LANES inline M LtF(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LT_OQ)); }
E2O_LANES inline F BlendF(F a, F b, M m) { return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(m)); }
E2O_LANES inline F Gather(const float* table, I index) { return _mm256_i32gather_ps(table, index, 4); }

E2O_LANES inline I SetI(int32_t v) { return _mm256_set1_epi32(v); }
E2O_LANES inline I AddI(I a, I b) { return _mm256_add_epi32(a, b); }
E2O_LANES inline I SubI(I a, I b) { return _mm256_sub_epi32(a, b); }
E2O_LANES inline I AndI(I a, I b) { return _mm256_and_si256(a, b); }
E2O_LANES inline I MinI(I a, I b) { return _mm256_min_epi32(a, b); }
template <int k>
E2O_LANES inline I SllI(I a) {
  return _mm256_slli_epi32(a, k);
}
template <int k>
E2O_LANES inline I SrlI(I a) {
  return _mm256_srli_epi32(a, k);
}
E2O_LANES inline I BitsOf(F a) { return _mm256_castps_si256(a); }
E2O_LANES inline M GtI(I a, I b) { return _mm256_cmpgt_epi32(a, b); }
E2O_LANES inline M EqI(I a, I b) { return _mm256_cmpeq_epi32(a, b); }
E2O_LANES inline I BlendI(I a, I b, M m) { return _mm256_blendv_epi8(a, b, m); }
E2O_LANES inline I AddOneWhere(I a, M m) { return _mm256_sub_epi32(a, m); }  // a set lane is -1
E2O_LANES inline void StoreI(I a, int32_t* out) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), a); }

E2O_LANES inline M MAnd(M a, M b) { return _mm256_and_si256(a, b); }
E2O_LANES inline M MOr(M a, M b) { return _mm256_or_si256(a, b); }
E2O_LANES inline M MAndNot(M a, M b) { return _mm256_andnot_si256(a, b); }  // ~a & b
E2O_LANES inline bool MAny(M a) { return !_mm256_testz_si256(a, a); }
E2O_LANES inline M MAll() { return _mm256_set1_epi32(-1); }
E2O_LANES inline M MNone() { return _mm256_setzero_si256(); }
E2O_LANES inline void MaskLanes(M a, int32_t* out) { StoreI(a, out); }  // not 0 where set

E2O_LANES inline D DSet(double v) { return {_mm256_set1_pd(v), _mm256_set1_pd(v)}; }
E2O_LANES inline D DSub(D a, D b) { return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)}; }
E2O_LANES inline D DMul(D a, D b) { return {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; }
E2O_LANES inline D DDiv(D a, D b) { return {_mm256_div_pd(a.lo, b.lo), _mm256_div_pd(a.hi, b.hi)}; }
E2O_LANES inline DM DGt(D a, D b) {
  return {_mm256_cmp_pd(a.lo, b.lo, _CMP_GT_OQ), _mm256_cmp_pd(a.hi, b.hi, _CMP_GT_OQ)};
}
E2O_LANES inline DM DLt(D a, D b) {
  return {_mm256_cmp_pd(a.lo, b.lo, _CMP_LT_OQ), _mm256_cmp_pd(a.hi, b.hi, _CMP_LT_OQ)};
}
E2O_LANES inline DM DMAnd(DM a, DM b) { return {_mm256_and_pd(a.lo, b.lo), _mm256_and_pd(a.hi, b.hi)}; }
E2O_LANES inline D DBlend(D a, D b, DM m) {
  return {_mm256_blendv_pd(a.lo, b.lo, m.lo), _mm256_blendv_pd(a.hi, b.hi, m.hi)};
}
E2O_LANES inline D Widen(F v) {
  return {_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
}
E2O_LANES inline F Narrow(D v) { return _mm256_set_m128(_mm256_cvtpd_ps(v.hi), _mm256_cvtpd_ps(v.lo)); }
E2O_LANES inline DM ToDM(M m) {
  return {_mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(m))),
          _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(m, 1)))};
}
// A set double lane (all ones, a NaN) narrows to a NaN with its sign set: BlendF reads the sign.
E2O_LANES inline M FromDM(DM m) {
  return _mm256_castps_si256(_mm256_set_m128(_mm256_cvtpd_ps(m.hi), _mm256_cvtpd_ps(m.lo)));
}

E2O_LANES inline __m256i Table16(const uint8_t* t) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
// CodeOf of 16 values in int16 (see MidpointBuckets).
E2O_LANES inline C CodesOfFixed16(__m256i v) {
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
// The codes of u0 then u1 (u = 16 t), as int16 in their order.
E2O_LANES inline C CodesOfScaled(F u0, F u1) {
  const __m256 top = _mm256_set1_ps(32767.0f);
  // [a0-3 b0-3 a4-7 b4-7] -> [a0-7 b0-7]
  return CodesOfFixed16(
      _mm256_permute4x64_epi64(_mm256_packs_epi32(_mm256_cvtps_epi32(_mm256_min_ps(top, u0)),
                                                  _mm256_cvtps_epi32(_mm256_min_ps(top, u1))),
                               0xD8));
}
// The codes of value k of the blocks, as int32 lanes.
E2O_LANES inline I CodeAt(const C* q, size_t k) {
  return _mm256_cvtepi16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(q) + k));
}
E2O_LANES inline F LevelsOf(I q) {
  const __m256 w = _mm256_sub_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(7.5f));
  return _mm256_mul_ps(w, _mm256_add_ps(_mm256_mul_ps(w, w), _mm256_set1_ps(kInt4LevelSpread)));
}
// q[i] = take ? t[i] : q[i], lane by lane, for i < count.
E2O_LANES inline void BlendCodes(C* q, const C* t, size_t count, M take) {
  const __m256i take16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(take, take), 0x88);  // both halves
  for (size_t i = 0; i < count; ++i) q[i] = _mm256_blendv_epi8(q[i], t[i], take16);
}
// The bytes of values k (low nibbles) and k + half (high) of the blocks, kLanes of them.
E2O_LANES inline void StoreCodeBytes(const C* q, size_t k, size_t half, uint8_t* out) {
  const auto* q16 = reinterpret_cast<const __m128i*>(q);
  const __m128i both =
      _mm_or_si128(_mm_load_si128(q16 + k), _mm_slli_epi16(_mm_load_si128(q16 + k + half), 4));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(both, both));
}
// All 2 kLanes codes of c as bytes.
E2O_LANES inline void StoreAllCodes(C c, uint8_t* out) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_packus_epi16(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1)));
}

#include "numerics/int4_lanes.inc"
#undef E2O_LANES
}  // namespace avx2

// AVX-512 F, BW, VL and DQ: the 512-bit int16 shuffles, the masks, and the float halves;
// and AVX2, which runs a row's groups too narrow for sixteen blocks.
bool HaveAvx512() {
  static const bool have = HaveAvx2() && __builtin_cpu_supports("avx512f") &&
                           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                           __builtin_cpu_supports("avx512dq");
  return have;
}

// GCC 12's AVX-512 headers start some results from an undefined value, which -Wuninitialized
// reports at every inlined call (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
namespace avx512 {
#define E2O_LANES __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512dq")))
constexpr size_t kLanes = 16;
using F = __m512;
using I = __m512i;
using M = __mmask16;
using C = __m512i;
struct D {  // lo holds lanes 0..7, hi lanes 8..15
  __m512d lo, hi;
};
struct DM {
  __mmask8 lo, hi;
};

E2O_LANES inline F LoadF(const float* p) { return _mm512_loadu_ps(p); }
E2O_LANES inline F SetF(float v) { return _mm512_set1_ps(v); }
E2O_LANES inline F ZeroF() { return _mm512_setzero_ps(); }
E2O_LANES inline F Add(F a, F b) { return _mm512_add_ps(a, b); }
E2O_LANES inline F Sub(F a, F b) { return _mm512_sub_ps(a, b); }
E2O_LANES inline F Mul(F a, F b) { return _mm512_mul_ps(a, b); }
E2O_LANES inline F Div(F a, F b) { return _mm512_div_ps(a, b); }
E2O_LANES inline F Min(F a, F b) { return _mm512_min_ps(a, b); }
E2O_LANES inline F Max(F a, F b) { return _mm512_max_ps(a, b); }
E2O_LANES inline F Abs(F a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
E2O_LANES inline F CvtIF(I a) { return _mm512_cvtepi32_ps(a); }
E2O_LANES inline I CvtFI(F a) { return _mm512_cvtps_epi32(a); }
E2O_LANES inline F RoundNearest(F a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
E2O_LANES inline M EqF(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
E2O_LANES inline M GtF(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
E2O_LANES inline M LeF(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
E2O_LANES inline M LtF(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
E2O_LANES inline F BlendF(F a, F b, M m) { return _mm512_mask_blend_ps(m, a, b); }
E2O_LANES inline F Gather(const float* table, I index) { return _mm512_i32gather_ps(index, table, 4); }

E2O_LANES inline I SetI(int32_t v) { return _mm512_set1_epi32(v); }
E2O_LANES inline I AddI(I a, I b) { return _mm512_add_epi32(a, b); }
E2O_LANES inline I SubI(I a, I b) { return _mm512_sub_epi32(a, b); }
E2O_LANES inline I AndI(I a, I b) { return _mm512_and_si512(a, b); }
E2O_LANES inline I MinI(I a, I b) { return _mm512_min_epi32(a, b); }
template <int k>
E2O_LANES inline I SllI(I a) {
  return _mm512_slli_epi32(a, k);
}
template <int k>
E2O_LANES inline I SrlI(I a) {
  return _mm512_srli_epi32(a, k);
}
E2O_LANES inline I BitsOf(F a) { return _mm512_castps_si512(a); }
E2O_LANES inline M GtI(I a, I b) { return _mm512_cmpgt_epi32_mask(a, b); }
E2O_LANES inline M EqI(I a, I b) { return _mm512_cmpeq_epi32_mask(a, b); }
E2O_LANES inline I BlendI(I a, I b, M m) { return _mm512_mask_blend_epi32(m, a, b); }
E2O_LANES inline I AddOneWhere(I a, M m) { return _mm512_mask_add_epi32(a, m, a, _mm512_set1_epi32(1)); }
E2O_LANES inline void StoreI(I a, int32_t* out) { _mm512_storeu_si512(out, a); }

E2O_LANES inline M MAnd(M a, M b) { return static_cast<M>(a & b); }
E2O_LANES inline M MOr(M a, M b) { return static_cast<M>(a | b); }
E2O_LANES inline M MAndNot(M a, M b) { return static_cast<M>(~a & b); }
E2O_LANES inline bool MAny(M a) { return a != 0; }
E2O_LANES inline M MAll() { return static_cast<M>(0xFFFF); }
E2O_LANES inline M MNone() { return 0; }
E2O_LANES inline void MaskLanes(M a, int32_t* out) {
  for (size_t l = 0; l < kLanes; ++l) out[l] = (a >> l) & 1;
}

E2O_LANES inline D DSet(double v) { return {_mm512_set1_pd(v), _mm512_set1_pd(v)}; }
E2O_LANES inline D DSub(D a, D b) { return {_mm512_sub_pd(a.lo, b.lo), _mm512_sub_pd(a.hi, b.hi)}; }
E2O_LANES inline D DMul(D a, D b) { return {_mm512_mul_pd(a.lo, b.lo), _mm512_mul_pd(a.hi, b.hi)}; }
E2O_LANES inline D DDiv(D a, D b) { return {_mm512_div_pd(a.lo, b.lo), _mm512_div_pd(a.hi, b.hi)}; }
E2O_LANES inline DM DGt(D a, D b) {
  return {_mm512_cmp_pd_mask(a.lo, b.lo, _CMP_GT_OQ), _mm512_cmp_pd_mask(a.hi, b.hi, _CMP_GT_OQ)};
}
E2O_LANES inline DM DLt(D a, D b) {
  return {_mm512_cmp_pd_mask(a.lo, b.lo, _CMP_LT_OQ), _mm512_cmp_pd_mask(a.hi, b.hi, _CMP_LT_OQ)};
}
E2O_LANES inline DM DMAnd(DM a, DM b) {
  return {static_cast<__mmask8>(a.lo & b.lo), static_cast<__mmask8>(a.hi & b.hi)};
}
E2O_LANES inline D DBlend(D a, D b, DM m) {
  return {_mm512_mask_blend_pd(m.lo, a.lo, b.lo), _mm512_mask_blend_pd(m.hi, a.hi, b.hi)};
}
E2O_LANES inline D Widen(F v) {
  return {_mm512_cvtps_pd(_mm512_castps512_ps256(v)), _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1))};
}
E2O_LANES inline F Narrow(D v) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(v.lo)), _mm512_cvtpd_ps(v.hi), 1);
}
E2O_LANES inline DM ToDM(M m) { return {static_cast<__mmask8>(m & 0xFF), static_cast<__mmask8>(m >> 8)}; }
E2O_LANES inline M FromDM(DM m) { return static_cast<M>(m.lo | (m.hi << 8)); }

// CodeOf of 32 values in int16, by a lookup of 64 entries (two registers of 32 words)
// instead of avx2's 16-byte ones: v >> 10 is one of 64 buckets of 1024, each holding at
// most one midpoint (SignedBuckets checks it at compile time), so the count of midpoints
// below v is the bucket's count below it plus one compare against its own midpoint.
E2O_LANES inline C CodesOfFixed16(__m512i v) {
  const auto* below = reinterpret_cast<const __m512i*>(kSignedBuckets.below);
  const auto* own = reinterpret_cast<const __m512i*>(kSignedBuckets.own);
  const __m512i bucket = _mm512_srai_epi16(v, 10);  // its low 6 bits pick the entry
  const __m512i mid = _mm512_permutex2var_epi16(_mm512_load_si512(own), bucket, _mm512_load_si512(own + 1));
  const __m512i count =
      _mm512_permutex2var_epi16(_mm512_load_si512(below), bucket, _mm512_load_si512(below + 1));
  return _mm512_mask_add_epi16(count, _mm512_cmpgt_epi16_mask(v, mid), count, _mm512_set1_epi16(1));
}
E2O_LANES inline C CodesOfScaled(F u0, F u1) {
  const __m512 top = _mm512_set1_ps(32767.0f);
  // Per 128-bit lane j the pack holds a[4j..4j+3] then b[4j..4j+3]: the quadwords
  // 0, 2, 4, 6 are a in order, 1, 3, 5, 7 are b.
  const __m512i packed = _mm512_packs_epi32(_mm512_cvtps_epi32(_mm512_min_ps(top, u0)),
                                            _mm512_cvtps_epi32(_mm512_min_ps(top, u1)));
  return CodesOfFixed16(_mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), packed));
}
E2O_LANES inline I CodeAt(const C* q, size_t k) {
  return _mm512_cvtepi16_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(q) + k));
}
// The levels by one lookup into the sixteen (q is 0..15).
E2O_LANES inline F LevelsOf(I q) { return _mm512_permutexvar_ps(q, _mm512_loadu_ps(kLevels.v)); }
E2O_LANES inline void BlendCodes(C* q, const C* t, size_t count, M take) {
  const __mmask32 take16 = static_cast<__mmask32>(take) | static_cast<__mmask32>(take) << 16;  // both halves
  for (size_t i = 0; i < count; ++i) q[i] = _mm512_mask_blend_epi16(take16, q[i], t[i]);
}
E2O_LANES inline void StoreCodeBytes(const C* q, size_t k, size_t half, uint8_t* out) {
  const auto* q16 = reinterpret_cast<const __m256i*>(q);
  const __m256i both =
      _mm256_or_si256(_mm256_load_si256(q16 + k), _mm256_slli_epi16(_mm256_load_si256(q16 + k + half), 4));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_cvtepi16_epi8(both));  // each is 0..255
}
E2O_LANES inline void StoreAllCodes(C c, uint8_t* out) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_cvtepi16_epi8(c));
}

#include "numerics/int4_lanes.inc"
#undef E2O_LANES
}  // namespace avx512
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

}  // namespace

namespace {
// The widest build this CPU runs.
int BestVectorBits() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (HaveAvx512()) return 512;
  if (HaveAvx2()) return 256;
#endif
  return 0;
}
bool CanRun(int vector_bits) {
  if (vector_bits == 0) return true;
#if defined(__x86_64__) && defined(__GNUC__)
  if (vector_bits == 256) return HaveAvx2();
  if (vector_bits == 512) return HaveAvx512();
#endif
  return false;
}
}  // namespace

bool Int4NearestCodes(int vector_bits, const float* t, size_t n, uint8_t* codes) {
  if (!CanRun(vector_bits)) return false;
  size_t k = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (vector_bits == 512) k = avx512::NearestCodesVector(t, n, codes);
  if (vector_bits == 256) k = avx2::NearestCodesVector(t, n, codes);
#endif
  for (; k < n; ++k) codes[k] = static_cast<uint8_t>(CodeOf(t[k]));
  return true;
}

bool Int4ScaleCodesBelow(int vector_bits, const float* a, size_t n, int32_t* codes) {
  if (!CanRun(vector_bits)) return false;
  size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (vector_bits == 512) i = avx512::ScaleCodesBelowVector(a, n, codes);
  if (vector_bits == 256) i = avx2::ScaleCodesBelowVector(a, n, codes);
#endif
  const float* table = ScaleTable().data();
  for (; i < n; ++i) codes[i] = ScaleCodeBelow(table, a[i]);
  return true;
}

float Int4Level(int q) { return LevelOf(q); }

float Int4Scale(int a) { return a >= 0 && a < kInt4ScaleCodes ? ScaleTable()[a] : 0.0f; }

const float* Int4ScaleTable() { return ScaleTable().data(); }

bool QuantizeRowInt4On(int vector_bits, const float* row, size_t d, size_t block, uint8_t* codes,
                       uint8_t* scale_codes, int8_t* offsets) {
  if (!CanRun(vector_bits)) return false;
  size_t b = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  // AVX-512 takes the groups of 16 blocks, AVX2 a group of 8 in the rest.
  if (vector_bits == 512) b = avx512::QuantizeRowGroups(row, d, block, b, codes, scale_codes, offsets);
  if (vector_bits >= 256) b = avx2::QuantizeRowGroups(row, d, block, b, codes, scale_codes, offsets);
#endif
  QuantizeBlocksScalar(row, d, block, b, codes, scale_codes, offsets);
  return true;
}

void QuantizeRowInt4(const float* row, size_t d, size_t block, uint8_t* codes, uint8_t* scale_codes,
                     int8_t* offsets) {
  static const int bits = BestVectorBits();
  QuantizeRowInt4On(bits, row, d, block, codes, scale_codes, offsets);
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
