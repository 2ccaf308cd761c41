// numpy's float32 sum, reproduced bit for bit, so the report's mean_abs_err equals
// what `err.mean()` gives on the same float32 errors (numpy 1.24).
//
// np.add.reduce over a contiguous float32 array sees the data in buffers of 8192
// elements (np.getbufsize()); each buffer is summed pairwise (below 8 elements a plain
// loop; up to 128, eight running sums combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))
// plus the tail; above, split at n/2 rounded down to a multiple of 8 and recurse), and
// the buffer sums are added in order to a float32 that starts at 0. np.mean then
// divides in float64 and casts back to float32.
//
// Values must be added in array order; pieces may be of any size.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace embed2onnx {

// numpy's pairwise_sum over n float32 values.
float NumpyPairwiseSum(const float* a, size_t n);

class NumpyFloat32Sum {
 public:
  static constexpr size_t kBuffer = 8192;
  void Add(const float* v, size_t n);
  float Sum() const;
  // float32(float64(Sum()) / count), as np.mean returns it.
  float Mean(uint64_t count) const;

 private:
  float acc_ = 0.0f;
  std::array<float, kBuffer> buf_{};
  size_t fill_ = 0;
};

}  // namespace embed2onnx
