#include "numerics/numpy_sum.h"

#include <algorithm>
#include <cstring>

namespace embed2onnx {

float NumpyPairwiseSum(const float* a, size_t n) {
  if (n < 8) {
    float res = 0.0f;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return NumpyPairwiseSum(a, n2) + NumpyPairwiseSum(a + n2, n - n2);
}

void NumpyFloat32Sum::Add(const float* v, size_t n) {
  if (fill_) {
    size_t take = std::min(n, kBuffer - fill_);
    std::memcpy(buf_.data() + fill_, v, take * sizeof(float));
    fill_ += take;
    v += take;
    n -= take;
    if (fill_ < kBuffer) return;
    acc_ += NumpyPairwiseSum(buf_.data(), kBuffer);
    fill_ = 0;
  }
  for (; n >= kBuffer; v += kBuffer, n -= kBuffer) acc_ += NumpyPairwiseSum(v, kBuffer);
  std::memcpy(buf_.data(), v, n * sizeof(float));
  fill_ = n;
}

float NumpyFloat32Sum::Sum() const { return fill_ ? acc_ + NumpyPairwiseSum(buf_.data(), fill_) : acc_; }

float NumpyFloat32Sum::Mean(uint64_t count) const {
  return static_cast<float>(static_cast<double>(Sum()) / static_cast<double>(count));
}

}  // namespace embed2onnx
