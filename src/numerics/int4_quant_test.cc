#include "numerics/int4_quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "numerics/half.h"

namespace embed2onnx {
namespace {

TEST(Int4QuantTest, HandCheckedBlock) {
  // One block of 4: range [-1.5, 6] -> s = 7.5 / 15 = 0.5 (exact in fp16), z = 3.
  std::vector<float> row = {-1.5f, 0.0f, 6.0f, 1.25f};
  std::vector<uint8_t> packed(2), zp(1);
  std::vector<uint16_t> scales(1);
  QuantizeRowInt4(row.data(), 4, 4, Int4Mode::kAsymmetric, packed.data(), scales.data(), zp.data());
  EXPECT_EQ(HalfToFloat(scales[0]), 0.5f);
  EXPECT_EQ(zp[0], 3);
  // codes: -1.5/0.5+3 = 0; 0+3 = 3; 12+3 = 15; round(2.5)=2 (ties to even) + 3 = 5.
  // Byte k holds value k (low nibble) and value k+2 (high nibble).
  EXPECT_EQ(packed[0], 0x00 | (15 << 4));
  EXPECT_EQ(packed[1], 3 | (5 << 4));
  std::vector<float> out(4);
  DequantizeRowInt4(packed.data(), scales.data(), zp.data(), 4, 4, Int4Mode::kAsymmetric, out.data());
  EXPECT_EQ(out, (std::vector<float>{-1.5f, 0.0f, 6.0f, 1.0f}));
}

TEST(Int4QuantTest, ZeroBlockStaysZero) {
  std::vector<float> row(8, 0.0f), out(8, 1.0f);
  std::vector<uint8_t> packed(4), zp(2);
  std::vector<uint16_t> scales(2);
  QuantizeRowInt4(row.data(), 8, 4, Int4Mode::kAsymmetric, packed.data(), scales.data(), zp.data());
  DequantizeRowInt4(packed.data(), scales.data(), zp.data(), 8, 4, Int4Mode::kAsymmetric, out.data());
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

TEST(Int4QuantTest, ErrorWithinHalfAStep) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const size_t d = 256, block = 32;
  std::vector<float> row(d), out(d);
  std::vector<uint8_t> packed(d / 2), zp(d / block);
  std::vector<uint16_t> scales(d / block);
  for (int trial = 0; trial < 200; ++trial) {
    for (float& x : row) x = normal(rng);
    for (Int4Mode mode : {Int4Mode::kSymmetric, Int4Mode::kAsymmetric}) {
      QuantizeRowInt4(row.data(), d, block, mode, packed.data(), scales.data(), zp.data());
      DequantizeRowInt4(packed.data(), scales.data(), zp.data(), d, block, mode, out.data());
      for (size_t j = 0; j < d; ++j)
        ASSERT_LE(std::fabs(out[j] - row[j]), 0.51f * HalfToFloat(scales[j / block])) << j;
    }
  }
}

}  // namespace
}  // namespace embed2onnx
