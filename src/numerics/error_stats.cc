#include "numerics/error_stats.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "numerics/half.h"
#include "numerics/numpy_sum.h"

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

ErrorSummary SummarizeErrors(std::vector<float>& errors) {
  ErrorSummary s;
  if (errors.empty()) return s;
  NumpyFloat32Sum sum;
  sum.Add(errors.data(), errors.size());
  std::sort(errors.begin(), errors.end());
  s.max_abs_err = errors.back();
  s.mean_abs_err = sum.Mean(errors.size());
  uint64_t lo, hi;
  double t;
  SplitIndex(NumpyQuantileIndex(errors.size(), 0.99), errors.size(), &lo, &hi, &t);
  s.p99_abs_err = NumpyLerp(errors[lo], errors[hi], t);
  return s;
}

double RowSumAndMax(const float* x, size_t n, float* max) {
  double acc[4] = {0, 0, 0, 0};
  float m = *max;
  size_t j = 0;
  for (; j + 4 <= n; j += 4)
    for (int k = 0; k < 4; ++k) {
      acc[k] += x[j + k];
      m = x[j + k] > m ? x[j + k] : m;
    }
  for (; j < n; ++j) {
    acc[0] += x[j];
    m = x[j] > m ? x[j] : m;
  }
  *max = m;
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

double RowCosine(const float* x, const float* y, size_t n) {
  double dot = 0, nx = 0, ny = 0;
  for (size_t j = 0; j < n; ++j) {
    dot += static_cast<double>(x[j]) * y[j];
    nx += static_cast<double>(x[j]) * x[j];
    ny += static_cast<double>(y[j]) * y[j];
  }
  if (nx == 0 && ny == 0) return 1.0;
  if (nx == 0 || ny == 0) return 0.0;
  return dot / std::sqrt(nx * ny);
}

void HighBitsHistogram::Add(const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) ++counts[FloatBits(v[i]) >> 16];
}

void LowBitsHistogram::Add(const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits = FloatBits(v[i]);
    uint32_t high = bits >> 16;
    if (high == bucket[0]) ++counts[0][bits & 0xffffu];
    else if (high == bucket[1]) ++counts[1][bits & 0xffffu];
  }
}

TwoPassQuantile::TwoPassQuantile(uint64_t total, double q) : total_(total) {
  index_ = NumpyQuantileIndex(total, q);
  double t;
  if (total > 0) SplitIndex(index_, total, &rank_[0], &rank_[1], &t);
  else rank_[0] = rank_[1] = 0;
}

void TwoPassQuantile::MergePass1(const HighBitsHistogram& h) {
  for (size_t i = 0; i < high_.size(); ++i) high_[i] += h.counts[i];
}

LowBitsHistogram TwoPassQuantile::StartPass2() {
  LowBitsHistogram empty;
  for (int k = 0; k < 2; ++k) {
    uint64_t seen = 0;
    uint32_t b = 0;
    while (b < 65535 && seen + high_[b] <= rank_[k]) seen += high_[b++];
    empty.bucket[k] = b;
    rank_in_bucket_[k] = rank_[k] - seen;
  }
  low_ = empty;
  return empty;
}

void TwoPassQuantile::MergePass2(const LowBitsHistogram& h) {
  for (int k = 0; k < 2; ++k)
    for (size_t i = 0; i < 65536; ++i) low_.counts[k][i] += h.counts[k][i];
}

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
  return NumpyLerp(value[0], value[1], index_ - (fl < 0 ? 0 : fl));
}

}  // namespace embed2onnx
