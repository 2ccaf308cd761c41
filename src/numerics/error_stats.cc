#include "numerics/error_stats.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <new>

#if defined(__x86_64__) || defined(__SSE__)
#include <immintrin.h>
#endif

#include "numerics/half.h"
#include "numerics/int8_quant.h"  // HaveAvx2
#include "numerics/numpy_sum.h"
#include "numerics/simd.h"

namespace embed2onnx {

double NumpyQuantileIndex(uint64_t n, double q) {
  // numpy 1.24's "linear" method: get_virtual_index = (n - 1) * q.
  return n == 0 ? 0.0 : static_cast<double>(n - 1) * q;
}

double NumpyLerp(float a, float b, double t) {
  float diff = b - a;
  if (t >= 0.5) return static_cast<double>(b) - static_cast<double>(diff) * (1.0 - t);
  return static_cast<double>(a) + static_cast<double>(diff) * t;
}

double NumpyLerp(float a, float b, double t, NumpyRules rules) {
  if (rules == NumpyRules::kNumpy1_24) return NumpyLerp(a, b, t);
  const float diff = b - a;
  if (t >= 0.5) return b - diff * static_cast<float>(1.0 - t);
  return a + diff * static_cast<float>(t);
}

namespace {
// Splits numpy's virtual index into the lower order statistic and the weight.
void SplitIndex(double index, uint64_t n, uint64_t* lo, uint64_t* hi, double* t) {
  double fl = std::floor(index);
  if (fl < 0) fl = 0;
  *lo = std::min<uint64_t>(static_cast<uint64_t>(fl), n - 1);
  *hi = std::min<uint64_t>(*lo + 1, n - 1);
  *t = index - fl;
}
}  // namespace

ErrorFigures SummarizeErrors(std::vector<float>& errors, NumpyRules rules) {
  ErrorFigures s;
  if (errors.empty()) return s;
  NumpyMean sum(errors.size(), rules);
  sum.Add(errors.data(), errors.size());
  std::sort(errors.begin(), errors.end());
  s.max_abs_err = errors.back();
  s.mean_abs_err = sum.Mean(errors.size());
  uint64_t lo, hi;
  double t;
  SplitIndex(NumpyQuantileIndex(errors.size(), 0.99), errors.size(), &lo, &hi, &t);
  s.p99_abs_err = NumpyLerp(errors[lo], errors[hi], t, rules);
  return s;
}

float RunningMaxPortable(const float* v, size_t n, float m) {
  for (size_t i = 0; i < n; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

#if defined(__x86_64__)
namespace {
// Four 8-lane maxima side by side: maxps waits for the one before it in the same
// register, so one or two of them leave the loop latency-bound.
__attribute__((target("avx2"))) float RunningMaxAvx2(const float* v, size_t n, float m) {
  __m256 acc[4] = {_mm256_set1_ps(m), _mm256_set1_ps(m), _mm256_set1_ps(m), _mm256_set1_ps(m)};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_max_ps(_mm256_loadu_ps(v + i + 8 * k), acc[k]);
  float lanes[32];
  for (int k = 0; k < 4; ++k) _mm256_storeu_ps(lanes + 8 * k, acc[k]);
  for (float l : lanes) m = l > m ? l : m;
  return RunningMaxPortable(v + i, n - i, m);
}
}  // namespace
#endif

float RunningMax(const float* v, size_t n, float m) {
#if defined(__x86_64__)
  if (HaveAvx2()) return RunningMaxAvx2(v, n, m);
#endif
#if defined(__SSE__)
  // maxps(a, b) is `a > b ? a : b` lane by lane: RunningMaxPortable's loop, on lanes that start
  // from m; without -0 the order in which lanes meet does not matter.
  __m128 acc[2] = {_mm_set1_ps(m), _mm_set1_ps(m)};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc[0] = _mm_max_ps(_mm_loadu_ps(v + i), acc[0]);
    acc[1] = _mm_max_ps(_mm_loadu_ps(v + i + 4), acc[1]);
  }
  float lanes[8];
  _mm_storeu_ps(lanes, acc[0]);
  _mm_storeu_ps(lanes + 4, acc[1]);
  for (float l : lanes) m = l > m ? l : m;
  return RunningMaxPortable(v + i, n - i, m);
#else
  return RunningMaxPortable(v, n, m);
#endif
}

namespace {
// The cosine from its three sums, each in four lanes.
double CosineFromLanes(const double* dot4, const double* nx4, const double* ny4) {
  const double dot = (dot4[0] + dot4[1]) + (dot4[2] + dot4[3]);
  const double nx = (nx4[0] + nx4[1]) + (nx4[2] + nx4[3]);
  const double ny = (ny4[0] + ny4[1]) + (ny4[2] + ny4[3]);
  if (nx == 0 && ny == 0) return 1.0;
  if (nx == 0 || ny == 0) return 0.0;
  return dot / std::sqrt(nx * ny);
}

// Elements [j, n) into lane l, l + 1, ... (the tail after the whole groups of four).
void CosineTail(const float* x, const float* y, size_t j, size_t n, double* dot4, double* nx4, double* ny4) {
  for (size_t l = 0; j < n; ++j, ++l) {
    const double a = x[j], b = y[j];
    dot4[l] += a * b;
    nx4[l] += a * a;
    ny4[l] += b * b;
  }
}

#if defined(__x86_64__)
// The four lanes as one AVX register per sum: the same products and sums, lane by lane.
__attribute__((target("avx"))) double RowCosineAvx(const float* x, const float* y, size_t n) {
  __m256d dot = _mm256_setzero_pd(), nx = _mm256_setzero_pd(), ny = _mm256_setzero_pd();
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + j)), b = _mm256_cvtps_pd(_mm_loadu_ps(y + j));
    dot = _mm256_add_pd(dot, _mm256_mul_pd(a, b));
    nx = _mm256_add_pd(nx, _mm256_mul_pd(a, a));
    ny = _mm256_add_pd(ny, _mm256_mul_pd(b, b));
  }
  double dot4[4], nx4[4], ny4[4];
  _mm256_storeu_pd(dot4, dot);
  _mm256_storeu_pd(nx4, nx);
  _mm256_storeu_pd(ny4, ny);
  CosineTail(x, y, j, n, dot4, nx4, ny4);
  return CosineFromLanes(dot4, nx4, ny4);
}
#endif
}  // namespace

double RowCosinePortable(const float* x, const float* y, size_t n) {
  // Four lanes per sum (element j goes to lane j % 4): one running sum in order would
  // wait on every add's latency, and the lanes are what a vector register holds.
  double dot4[4] = {0, 0, 0, 0}, nx4[4] = {0, 0, 0, 0}, ny4[4] = {0, 0, 0, 0};
  size_t j = 0;
  for (; j + 4 <= n; j += 4)
    for (size_t l = 0; l < 4; ++l) {
      const double a = x[j + l], b = y[j + l];
      dot4[l] += a * b;
      nx4[l] += a * a;
      ny4[l] += b * b;
    }
  CosineTail(x, y, j, n, dot4, nx4, ny4);
  return CosineFromLanes(dot4, nx4, ny4);
}

double RowCosine(const float* x, const float* y, size_t n) {
#if defined(__x86_64__)
  if (HaveAvx2()) return RowCosineAvx(x, y, n);
#endif
  return RowCosinePortable(x, y, n);
}

#if defined(__x86_64__)
namespace {
// Two rows' sums side by side, each lane of each sum as RowCosineAvx adds it. One row's
// three sums are three chains of dependent adds, which wait on the adds' latency; two
// rows give six, enough to keep the adders busy.
__attribute__((target("avx"))) void TwoRowCosinesAvx(const float* x, const float* y, size_t n, double* out) {
  const float* x1 = x + n;
  const float* y1 = y + n;
  __m256d dot0 = _mm256_setzero_pd(), nx0 = _mm256_setzero_pd(), ny0 = _mm256_setzero_pd();
  __m256d dot1 = _mm256_setzero_pd(), nx1 = _mm256_setzero_pd(), ny1 = _mm256_setzero_pd();
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m256d a0 = _mm256_cvtps_pd(_mm_loadu_ps(x + j)), b0 = _mm256_cvtps_pd(_mm_loadu_ps(y + j));
    const __m256d a1 = _mm256_cvtps_pd(_mm_loadu_ps(x1 + j)), b1 = _mm256_cvtps_pd(_mm_loadu_ps(y1 + j));
    dot0 = _mm256_add_pd(dot0, _mm256_mul_pd(a0, b0));
    dot1 = _mm256_add_pd(dot1, _mm256_mul_pd(a1, b1));
    nx0 = _mm256_add_pd(nx0, _mm256_mul_pd(a0, a0));
    nx1 = _mm256_add_pd(nx1, _mm256_mul_pd(a1, a1));
    ny0 = _mm256_add_pd(ny0, _mm256_mul_pd(b0, b0));
    ny1 = _mm256_add_pd(ny1, _mm256_mul_pd(b1, b1));
  }
  double dot4[2][4], nx4[2][4], ny4[2][4];
  _mm256_storeu_pd(dot4[0], dot0);
  _mm256_storeu_pd(nx4[0], nx0);
  _mm256_storeu_pd(ny4[0], ny0);
  _mm256_storeu_pd(dot4[1], dot1);
  _mm256_storeu_pd(nx4[1], nx1);
  _mm256_storeu_pd(ny4[1], ny1);
  CosineTail(x, y, j, n, dot4[0], nx4[0], ny4[0]);
  CosineTail(x1, y1, j, n, dot4[1], nx4[1], ny4[1]);
  out[0] = CosineFromLanes(dot4[0], nx4[0], ny4[0]);
  out[1] = CosineFromLanes(dot4[1], nx4[1], ny4[1]);
}
}  // namespace
#endif

void RowCosines(const float* x, const float* y, size_t rows, size_t n, double* out) {
  size_t r = 0;
#if defined(__x86_64__)
  if (HaveAvx2())
    for (; r + 2 <= rows; r += 2) TwoRowCosinesAvx(x + r * n, y + r * n, n, out + r);
#endif
  for (; r < rows; ++r) out[r] = RowCosine(x + r * n, y + r * n, n);
}

void HighBitsHistogram::Add(const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) ++counts[FloatBits(v[i]) >> 16];
}

void LowBitsHistogram::Add(const float* v, size_t n) {
  // bucket[0] <= bucket[1]; one unsigned compare skips nearly every value.
  const uint32_t span = bucket[1] - bucket[0];
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits = FloatBits(v[i]);
    uint32_t rel = (bits >> 16) - bucket[0];
    if (rel > span) continue;
    if (rel == 0)
      ++counts[0][bits & 0xffffu];
    else if (rel == span)
      ++counts[1][bits & 0xffffu];
  }
}

namespace {
constexpr uint32_t kInfBucket = 0x7f80u;  // high 16 bits of +inf: finite floats are below
}  // namespace

QuantileWindow QuantileWindow::Around(float guess, uint32_t half_width) {
  const uint32_t b = std::min(FloatBits(guess) >> 16, kInfBucket - 1);
  QuantileWindow w;
  w.first = b > half_width ? b - half_width : 0;
  w.last = std::min(b + half_width, kInfBucket - 1);
  return w;
}

namespace {
// The end of every filter build, and all of the portable one: the vector lanes' maxima
// (`lanes` of them, none for the portable build) joined into m, then v[0..n) one value at
// a time appended at out[k], then the outputs. Returns how many were kept in all.
size_t FinishFilter(const float* lane_max, size_t lanes, const float* v, size_t n, uint32_t first,
                    uint32_t span, float* out, size_t k, uint64_t under, float m, uint64_t* below,
                    float* max) {
  for (size_t l = 0; l < lanes; ++l) m = lane_max[l] > m ? lane_max[l] : m;
  for (size_t i = 0; i < n; ++i) {
    out[k] = v[i];  // written always, kept when inside: no branch to mispredict
    k += ((FloatBits(v[i]) >> 16) - first) <= span;
    under += (FloatBits(v[i]) >> 16) < first;
    m = v[i] > m ? v[i] : m;  // RunningMaxPortable's step
  }
  if (below) *below += under;
  if (max) *max = m;
  return k;
}
}  // namespace

size_t QuantileWindow::FilterPortable(const float* v, size_t n, float* out, uint64_t* below,
                                      float* max) const {
  if (empty()) {
    if (max) *max = RunningMaxPortable(v, n, *max);
    return 0;
  }
  return FinishFilter(nullptr, 0, v, n, first, last - first, out, 0, 0, max ? *max : 0.0f, below, max);
}

#if defined(__x86_64__)
namespace {
// For each 8-bit mask of kept lanes, the lane indices that move them to the front.
struct LeftPackTable {
  uint32_t lanes[256][8];
  LeftPackTable() {
    for (int m = 0; m < 256; ++m) {
      int k = 0;
      for (int i = 0; i < 8; ++i)
        if (m >> i & 1) lanes[m][k++] = static_cast<uint32_t>(i);
      while (k < 8) lanes[m][k++] = 0;
    }
  }
};

// The running max rides along: maxps(x, m) is x > m ? x : m lane by lane, and the lanes
// join in any order, since NaN never wins and there is no -0.
__attribute__((target("avx2"))) size_t FilterAvx2(const float* v, size_t n, uint32_t first, uint32_t span,
                                                  float* out, uint64_t* below, float* max) {
  static const LeftPackTable table;
  const __m256i vfirst = _mm256_set1_epi32(static_cast<int>(first)),
                vspan = _mm256_set1_epi32(static_cast<int>(span));
  float m = max ? *max : 0.0f;
  __m256 vmax = _mm256_set1_ps(m);
  size_t k = 0, i = 0;
  uint64_t under = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    vmax = _mm256_max_ps(x, vmax);
    const __m256i high = _mm256_srli_epi32(_mm256_castps_si256(x), 16);
    const __m256i rel = _mm256_sub_epi32(high, vfirst);
    // rel <= span as unsigned numbers, as in FilterPortable.
    const __m256i inside = _mm256_cmpeq_epi32(_mm256_max_epu32(rel, vspan), vspan);
    const int mask = _mm256_movemask_ps(_mm256_castsi256_ps(inside));
    const __m256i perm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table.lanes[mask]));
    _mm256_storeu_ps(out + k, _mm256_permutevar8x32_ps(x, perm));  // k + 8 <= i + 8 <= n
    k += static_cast<size_t>(__builtin_popcount(static_cast<unsigned>(mask)));
    // high < first: both below 2^16, so the signed compare is the unsigned one.
    const int lt = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(vfirst, high)));
    under += static_cast<uint64_t>(__builtin_popcount(static_cast<unsigned>(lt)));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, vmax);
  return FinishFilter(lanes, 8, v + i, n - i, first, span, out, k, under, m, below, max);
}

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*, which -Wmaybe-uninitialized
// reports at every inlined call (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Sixteen lanes, with the kept ones packed in a register (vcompressps to a register is
// fast where its form that stores to memory is not, on AMD's Zen 4).
__attribute__((target("avx512f"))) size_t FilterAvx512(const float* v, size_t n, uint32_t first,
                                                       uint32_t span, float* out, uint64_t* below,
                                                       float* max) {
  const __m512i vfirst = _mm512_set1_epi32(static_cast<int>(first)),
                vspan = _mm512_set1_epi32(static_cast<int>(span));
  float m = max ? *max : 0.0f;
  __m512 vmax = _mm512_set1_ps(m);
  size_t k = 0, i = 0;
  uint64_t under = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(v + i);
    vmax = _mm512_max_ps(x, vmax);
    const __m512i high = _mm512_srli_epi32(_mm512_castps_si512(x), 16);
    const __mmask16 inside = _mm512_cmple_epu32_mask(_mm512_sub_epi32(high, vfirst), vspan);
    _mm512_storeu_ps(out + k, _mm512_maskz_compress_ps(inside, x));  // k + 16 <= i + 16 <= n
    k += static_cast<size_t>(__builtin_popcount(inside));
    under += static_cast<uint64_t>(__builtin_popcount(_mm512_cmplt_epu32_mask(high, vfirst)));
  }
  float lanes[16];
  _mm512_storeu_ps(lanes, vmax);
  return FinishFilter(lanes, 16, v + i, n - i, first, span, out, k, under, m, below, max);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

bool HaveAvx512() {
  static const bool have = __builtin_cpu_supports("avx512f");
  return have;
}
}  // namespace
#endif

bool QuantileWindow::FilterOn(int vector_bits, const float* v, size_t n, float* out, uint64_t* below,
                              float* max, size_t* kept) const {
#if defined(__x86_64__)
  if (vector_bits == 512 ? !HaveAvx512() : vector_bits != 256 || !HaveAvx2()) return false;
  if (empty()) {
    if (max) *max = RunningMax(v, n, *max);
    *kept = 0;
  } else {
    *kept = (vector_bits == 512 ? FilterAvx512 : FilterAvx2)(v, n, first, last - first, out, below, max);
  }
  return true;
#else
  (void)vector_bits, (void)v, (void)n, (void)out, (void)below, (void)max, (void)kept;
  return false;
#endif
}

size_t QuantileWindow::Filter(const float* v, size_t n, float* out, uint64_t* below, float* max) const {
  size_t kept;
  if (FilterOn(512, v, n, out, below, max, &kept) || FilterOn(256, v, n, out, below, max, &kept)) return kept;
  return FilterPortable(v, n, out, below, max);
}

TwoPassQuantile::TwoPassQuantile(uint64_t total, double q, NumpyRules rules) : total_(total), rules_(rules) {
  index_ = NumpyQuantileIndex(total, q);
  double t;
  if (total > 0)
    SplitIndex(index_, total, &rank_[0], &rank_[1], &t);
  else
    rank_[0] = rank_[1] = 0;
}

TwoPassQuantile::~TwoPassQuantile() = default;
TwoPassQuantile::TwoPassQuantile(TwoPassQuantile&&) noexcept = default;

void TwoPassQuantile::FreeCounts::operator()(uint16_t* p) const { std::free(p); }

void TwoPassQuantile::SetWindow(QuantileWindow w) {
  window_ = w;
  window_counts_.reset();
  carries_.clear();
  window_buckets_ = 0;
  if (total_ > UINT32_MAX) window_ = QuantileWindow{};
  if (window_.empty()) return;
  window_buckets_ = window_.last - window_.first + 1;
  window_counts_.reset(static_cast<uint16_t*>(std::calloc(window_buckets_ << 16, sizeof(uint16_t))));
  if (!window_counts_) throw std::bad_alloc();
}

void TwoPassQuantile::AddToWindow(const float* v, size_t n) {
  if (window_.empty()) return;
  uint16_t* counts = window_counts_.get();
  const uint32_t base = window_.first << 16;
  const size_t size = window_buckets_ << 16;
  auto count = [&](uint32_t at) {
    if (__builtin_expect(++counts[at] == 0, 0)) carries_[at] += 65536;
  };
  // The counters span megabytes, which the sidecar writes keep pushing out of the caches,
  // and the values fall on them at random: fetching the counter of a value this far ahead
  // keeps that many misses in flight instead of one (half the time per value).
  constexpr size_t kAhead = 64;
  size_t i = 0;
  for (; i + kAhead < n; ++i) {
    const uint32_t ahead = FloatBits(v[i + kAhead]) - base;
    if (ahead < size) __builtin_prefetch(counts + ahead, 1);
    const uint32_t at = FloatBits(v[i]) - base;
    if (at < size) count(at);
  }
  for (; i < n; ++i) {
    const uint32_t at = FloatBits(v[i]) - base;
    if (at < size) count(at);
  }
}

void TwoPassQuantile::WindowCounts(uint32_t bucket, std::vector<uint64_t>* out) const {
  const size_t first = size_t{bucket - window_.first} << 16;
  const uint16_t* c = window_counts_.get() + first;
  for (size_t j = 0; j < 65536; ++j) (*out)[j] = c[j];
  for (const auto& [at, carried] : carries_)
    if (at >= first && at < first + 65536) (*out)[at - first] += carried;
}

void TwoPassQuantile::MergePass1(const HighBitsHistogram& h) {
  for (size_t i = 0; i < high_.size(); ++i) high_[i] += h.counts[i];
}

uint32_t BucketOfRank(const std::vector<uint64_t>& counts, uint64_t rank, uint64_t* before) {
  uint64_t seen = 0;
  uint32_t b = 0;
  while (b < 65535 && seen + counts[b] <= rank) seen += counts[b++];
  if (before) *before = seen;
  return b;
}

void TwoPassQuantile::FindBuckets(uint32_t bucket[2]) {
  for (int k = 0; k < 2; ++k) {
    uint64_t seen;
    bucket[k] = BucketOfRank(high_, rank_[k], &seen);
    rank_in_bucket_[k] = rank_[k] - seen;
  }
}

bool TwoPassQuantile::ResolvedInPass1() {
  if (total_ == 0) return true;
  if (window_.empty()) return false;
  uint32_t bucket[2];
  FindBuckets(bucket);
  LowBitsHistogram low;
  low.bucket[0] = bucket[0];
  low.bucket[1] = bucket[1];
  for (int k = 0; k < 2; ++k) {
    if (bucket[k] < window_.first || bucket[k] > window_.last) return false;
    // Result() reads slot 0 for both ranks when they share a bucket, as pass 2 fills it.
    const int slot = (k == 1 && bucket[1] == bucket[0]) ? 0 : k;
    WindowCounts(bucket[k], &low.counts[slot]);
    uint64_t n = 0;
    for (uint64_t c : low.counts[slot]) n += c;
    // Every value of the bucket went through the window: the two counts must agree.
    if (n != high_[bucket[k]]) return false;
  }
  low_ = std::move(low);
  return true;
}

bool TwoPassQuantile::ResolvedByWindow() {
  if (total_ == 0) return true;
  if (window_.empty()) return false;
  // Values per window bucket; the ranks inside the window follow from the count below.
  std::vector<uint64_t> in_bucket(window_buckets_, 0);
  const uint16_t* counts = window_counts_.get();
  for (size_t i = 0; i < window_buckets_; ++i)
    for (size_t j = 0; j < 65536; ++j) in_bucket[i] += counts[(i << 16) | j];
  for (const auto& [at, carried] : carries_) in_bucket[at >> 16] += carried;
  LowBitsHistogram low;
  for (int k = 0; k < 2; ++k) {
    if (rank_[k] < below_) return false;
    uint64_t seen = below_;
    size_t i = 0;
    while (i < in_bucket.size() && seen + in_bucket[i] <= rank_[k]) seen += in_bucket[i++];
    if (i == in_bucket.size()) return false;  // above the window
    low.bucket[k] = window_.first + static_cast<uint32_t>(i);
    rank_in_bucket_[k] = rank_[k] - seen;
  }
  for (int k = 0; k < 2; ++k) {
    // Result() reads slot 0 for both ranks when they share a bucket, as pass 2 fills it.
    if (k == 1 && low.bucket[1] == low.bucket[0]) break;
    WindowCounts(low.bucket[k], &low.counts[k]);
  }
  low_ = std::move(low);
  return true;
}

QuantileWindow TwoPassQuantile::StartPass2() {
  low_ = LowBitsHistogram();
  FindBuckets(low_.bucket);
  // The buckets between the two hold no value (the ranks are adjacent).
  QuantileWindow w;
  w.first = low_.bucket[0];
  w.last = low_.bucket[1];
  return w;
}

void TwoPassQuantile::AddPass2(const float* v, size_t n) { low_.Add(v, n); }

double TwoPassQuantile::Result() const {
  if (total_ == 0) return 0.0;
  float value[2];
  for (int k = 0; k < 2; ++k) {
    // When both ranks fall in one bucket, LowBitsHistogram::Add counted it in slot 0.
    int slot = (k == 1 && low_.bucket[1] == low_.bucket[0]) ? 0 : k;
    const std::vector<uint64_t>& counts = low_.counts[slot];
    uint64_t seen = 0;
    uint32_t lo = 0;
    while (lo < 65535 && seen + counts[lo] <= rank_in_bucket_[k]) seen += counts[lo++];
    value[k] = BitsToFloat((low_.bucket[k] << 16) | lo);
  }
  double fl = std::floor(index_);
  return NumpyLerp(value[0], value[1], index_ - (fl < 0 ? 0 : fl), rules_);
}

}  // namespace embed2onnx
