// Error statistics as numpy reports them: max, mean and the 0.99 quantile of |error|.
//
// numpy's default quantile ("linear") takes the order statistics at floor(h) and
// floor(h) + 1 with h = q * (n - 1), and interpolates between them. For a whole table
// (hundreds of millions of values) we find those two order statistics exactly in
// bounded memory with a two-pass radix select over the float bits: non-negative floats
// order like their bit patterns, so pass 1 counts the high 16 bits, pass 2 counts the
// low 16 bits inside the one or two buckets that hold the wanted ranks.
//
// Pass 2 can usually be skipped: given a guess of the quantile (from a sample of rows),
// pass 1 also counts the low bits of every value inside a window of high-bit buckets
// around the guess. When both wanted ranks fall inside the window, the answer is already
// exact; when they do not, pass 2 runs as before. The guess only decides the speed.
// Both passes hand over only the values inside their window (QuantileWindow::Filter, run
// by each worker on its own errors), so no worker holds a low-bits histogram of its own.
// With a window, pass 1 can also do without the high-bits histogram (a scatter into
// 64 Ki counters for every value): counting the values below the window is enough to
// place the ranks inside it (AddBelowWindow, ResolvedByWindow); when the guess missed, a
// pass with the histogram comes first, then pass 2.
//
// The mean is numpy's float32 pairwise sum (numerics/numpy_sum.h), fed in array order,
// so it does not depend on how work was split between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "embed2onnx/figures.h"

namespace embed2onnx {

// numpy's virtual index for method "linear": (n - 1) * q, as numpy 1.24 computes it.
double NumpyQuantileIndex(uint64_t n, double q);
// numpy's _lerp(a, b, t): a + (b - a) * t, or b - (b - a) * (1 - t) when t >= 0.5.
// numpy 1.24: b - a is a float32 subtraction, the rest in double (t is a float64 array).
// numpy 2.4: all of it in float32 (t, a Python float, is weak and becomes float32 first;
// then 1 - t is computed in double before that cast, as Python computes it).
double NumpyLerp(float a, float b, double t);
double NumpyLerp(float a, float b, double t, NumpyRules rules);

// Max, mean and p99 of values held in memory (they are sorted in place); no cosine.
// Empty -> all zeros.
ErrorFigures SummarizeErrors(std::vector<float>& errors, NumpyRules rules = kDefaultNumpyRules);

// The running maximum `m = v[i] > m ? v[i] : m` over v[0..n), starting from m (NaN never
// wins), for values without -0 (errors are fabs'd): 32 AVX2 lanes where the CPU has
// AVX2, else eight SSE lanes, which the plain loop cannot be turned into without
// fast-math.
float RunningMax(const float* v, size_t n, float m);
// The same as a plain loop: what the tests hold the SSE path to.
float RunningMaxPortable(const float* v, size_t n, float m);

// Cosine similarity of a decoded row y to its source x, in double: each sum (x.y, x.x,
// y.y) in four lanes, element j in lane j % 4, joined as (l0 + l1) + (l2 + l3). Two zero
// rows are identical (1); a zero row against a non-zero one shares no direction (0).
double RowCosine(const float* x, const float* y, size_t n);
// The same without vector instructions: what the tests hold the AVX path to.
double RowCosinePortable(const float* x, const float* y, size_t n);
// RowCosine of each of `rows` consecutive rows of n values: out[r] for rows x + r * n
// and y + r * n, the same doubles, computed a few rows side by side.
void RowCosines(const float* x, const float* y, size_t rows, size_t n, double* out);

// One worker's counts for pass 1; merged into TwoPassQuantile in any order.
struct HighBitsHistogram {
  std::vector<uint64_t> counts = std::vector<uint64_t>(65536, 0);
  void Add(const float* v, size_t n);
};
// The high-bits bucket that holds order statistic `rank` (from 0) of the values counted
// in `counts` (65536 of them), the last one if none does; *before, when given, gets how
// many values lie in the buckets below it.
uint32_t BucketOfRank(const std::vector<uint64_t>& counts, uint64_t rank, uint64_t* before = nullptr);

// Pass 2's counts, kept by TwoPassQuantile.
struct LowBitsHistogram {
  // Counts of low 16 bits for the (at most two) high-bit buckets being refined.
  uint32_t bucket[2] = {0, 0};
  std::vector<uint64_t> counts[2] = {std::vector<uint64_t>(65536, 0), std::vector<uint64_t>(65536, 0)};
  void Add(const float* v, size_t n);
};

// A contiguous range of high-bit buckets (inclusive) whose low bits pass 1 also counts.
struct QuantileWindow {
  uint32_t first = 1, last = 0;  // empty by default
  bool empty() const { return first > last; }
  // The 2 * half_width + 1 buckets centred on the bucket of `guess` (a non-negative,
  // finite float), clipped to the finite floats.
  static QuantileWindow Around(float guess, uint32_t half_width);
  // Copies the values of v[0..n) that fall inside the window to out (room for n), in
  // order, and returns how many; with `below`, also adds to it how many fell below the
  // window; with `max`, also sets it to RunningMax(v, n, *max), in the same sweep. Cheap
  // enough to run on every value of pass 1 (AVX-512 or AVX2 where the CPU has it).
  size_t Filter(const float* v, size_t n, float* out, uint64_t* below = nullptr, float* max = nullptr) const;
  // The same without vector instructions: what the tests hold the vector paths to.
  size_t FilterPortable(const float* v, size_t n, float* out, uint64_t* below = nullptr,
                        float* max = nullptr) const;
  // The same on `vector_bits`-wide instructions (256: AVX2, 512: AVX-512), for the tests:
  // false, and nothing done, when this CPU has none.
  bool FilterOn(int vector_bits, const float* v, size_t n, float* out, uint64_t* below, float* max,
                size_t* kept) const;
};

// Exact quantile q of `total` non-negative, finite floats streamed once or twice.
class TwoPassQuantile {
 public:
  TwoPassQuantile(uint64_t total, double q, NumpyRules rules = kDefaultNumpyRules);
  ~TwoPassQuantile();
  TwoPassQuantile(TwoPassQuantile&&) noexcept;

  // Before pass 1: the window whose low bits AddToWindow counts (none at all when
  // `total` is 2^32 or more: such tables always take pass 2).
  void SetWindow(QuantileWindow w);
  const QuantileWindow& window() const { return window_; }
  // During pass 1, from one thread at a time: counts v[0..n), values that
  // QuantileWindow::Filter kept (any others are ignored).
  void AddToWindow(const float* v, size_t n);

  void MergePass1(const HighBitsHistogram& h);
  // After every pass-1 merge: true when the window counted both wanted ranks' buckets
  // in full, so Result() is ready without pass 2.
  bool ResolvedInPass1();
  // Pass 1 without a high-bits histogram (the per-value scatter it costs is the dearest
  // count of the pass): how many values fell below the window (Filter counts them).
  void AddBelowWindow(uint64_t n) { below_ += n; }
  // After such a pass 1: true when the window alone settles both ranks (every value
  // below it was counted, every value inside it kept), so Result() is ready. Else a pass
  // with HighBitsHistogram (MergePass1), then StartPass2 and pass 2, find them.
  bool ResolvedByWindow();
  // After every pass-1 merge: picks the (one or two) buckets to refine and returns the
  // window that holds them: pass 2 filters its values with it and hands them to AddPass2.
  QuantileWindow StartPass2();
  // During pass 2, from one thread at a time: values outside the window are ignored.
  void AddPass2(const float* v, size_t n);
  // When resolved in pass 1, or after pass 2.
  double Result() const;

 private:
  uint64_t total_;
  double index_;
  NumpyRules rules_;
  uint64_t rank_[2];            // the two order statistics wanted
  uint64_t rank_in_bucket_[2];  // their ranks inside their buckets
  std::vector<uint64_t> high_ = std::vector<uint64_t>(65536, 0);
  LowBitsHistogram low_;
  QuantileWindow window_;
  uint64_t below_ = 0;  // values below window_ (AddBelowWindow)
  // Low-bit counts of the window's buckets, one after another: the count of the float
  // with bits b is at b - (window_.first << 16). 16-bit, half the memory the random
  // increments miss in; a counter that wraps adds 2^16 to its entry in carries_ (rare:
  // the window's millions of values spread over as many counters). calloc'd, so only the
  // pages values fall on cost memory.
  struct FreeCounts {
    void operator()(uint16_t* p) const;
  };
  std::unique_ptr<uint16_t[], FreeCounts> window_counts_;
  std::unordered_map<uint32_t, uint64_t> carries_;  // counter index -> 2^16 times its wraps
  size_t window_buckets_ = 0;
  // The 65536 counts of a window bucket into out.
  void WindowCounts(uint32_t bucket, std::vector<uint64_t>* out) const;
  void FindBuckets(uint32_t bucket[2]);
};

}  // namespace embed2onnx
