#include "numerics/numpy_sum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace embed2onnx {
namespace {

TEST(NumpySumTest, SmallSumsByHand) {
  std::vector<float> v = {1, 2, 3};
  EXPECT_EQ(NumpyPairwiseSum(v.data(), 3), 6.0f);
  // 9 values: eight running sums of one value each, combined pairwise, then the tail.
  std::vector<float> w = {1e8f, 1, -1e8f, 1, 0, 0, 0, 0, 1};
  float r = ((1e8f + 1.0f) + (-1e8f + 1.0f)) + 0.0f;
  EXPECT_EQ(NumpyPairwiseSum(w.data(), 9), r + 1.0f);
}

// Feeding the values in any pieces gives the same float as one call.
TEST(NumpySumTest, PiecesDoNotMatter) {
  std::mt19937 rng(9);
  std::exponential_distribution<float> dist(1000.0f);
  std::vector<float> v(100003);
  for (float& x : v) x = dist(rng);
  NumpyFloat32Sum whole;
  whole.Add(v.data(), v.size());
  for (size_t piece : {1u, 7u, 8192u, 10000u, 65536u}) {
    NumpyFloat32Sum s;
    for (size_t i = 0; i < v.size(); i += piece) s.Add(v.data() + i, std::min(piece, v.size() - i));
    EXPECT_EQ(s.Sum(), whole.Sum()) << piece;
  }
  // The sum is of 8192-element buffers added in order.
  float acc = 0.0f;
  size_t i = 0;
  for (; i + 8192 <= v.size(); i += 8192) acc += NumpyPairwiseSum(v.data() + i, 8192);
  acc += NumpyPairwiseSum(v.data() + i, v.size() - i);
  EXPECT_EQ(whole.Sum(), acc);
  EXPECT_EQ(whole.Mean(v.size()), static_cast<float>(static_cast<double>(acc) / v.size()));
}

}  // namespace
}  // namespace embed2onnx
