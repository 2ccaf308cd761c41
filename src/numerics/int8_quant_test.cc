#include "numerics/int8_quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "numerics/decode.h"
#include "numerics/half.h"

namespace embed2onnx {
namespace {

TEST(Int8QuantTest, ScaleIsAbsmaxOver127) {
  std::vector<float> row = {127.0f, -3.0f, 0.5f};
  EXPECT_EQ(Int8RowScale(row.data(), row.size()), 1.0f);
  std::vector<float> neg = {1.0f, -254.0f};
  EXPECT_EQ(Int8RowScale(neg.data(), neg.size()), 2.0f);
  // One float32 division, not a reciprocal multiply: 0.1f / 127 rounds once.
  std::vector<float> tenth = {0.1f};
  EXPECT_EQ(FloatBits(Int8RowScale(tenth.data(), 1)), FloatBits(0.1f / 127.0f));
}

TEST(Int8QuantTest, RoundingTiesGoToEven) {
  std::vector<float> row = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.4999998f, 126.5f};
  float s = Int8RowScale(row.data(), row.size());
  ASSERT_EQ(s, 1.0f);
  std::vector<int8_t> q(row.size());
  QuantizeRowInt8(row.data(), row.size(), s, q.data());
  EXPECT_EQ(q, (std::vector<int8_t>{127, 0, 2, 2, 0, -2, -2, 3, 126}));
}

TEST(Int8QuantTest, AllZeroRowGivesZeros) {
  std::vector<float> row(16, 0.0f);
  float s = Int8RowScale(row.data(), row.size());
  EXPECT_EQ(s, kInt8AbsmaxFloor / 127.0f);
  std::vector<int8_t> q(row.size(), 99);
  QuantizeRowInt8(row.data(), row.size(), s, q.data());
  for (int8_t v : q) {
    EXPECT_EQ(v, 0);
    EXPECT_EQ(DequantizeInt8(v, s), 0.0f);
  }
}

TEST(Int8QuantTest, TinyRowUsesTheFloor) {
  // Every |w| below 1e-12: the scale comes from the floor, codes stay in range.
  std::vector<float> row = {1e-13f, -5e-13f};
  float s = Int8RowScale(row.data(), row.size());
  EXPECT_EQ(s, kInt8AbsmaxFloor / 127.0f);
  std::vector<int8_t> q(2);
  QuantizeRowInt8(row.data(), row.size(), s, q.data());
  EXPECT_EQ(q[0], static_cast<int8_t>(std::nearbyint(1e-13f / s)));
  EXPECT_EQ(q[1], static_cast<int8_t>(std::nearbyint(-5e-13f / s)));
}

TEST(Int8QuantTest, CodesAreClippedTo127) {
  std::vector<float> row = {200.0f, -300.0f, 127.4f, -127.6f};
  std::vector<int8_t> q(row.size());
  QuantizeRowInt8(row.data(), row.size(), 1.0f, q.data());
  EXPECT_EQ(q, (std::vector<int8_t>{127, -127, 127, -127}));
}

TEST(Int8QuantTest, DequantisedIsFloat32Product) {
  EXPECT_EQ(DequantizeInt8(-127, 0.5f), -63.5f);
  EXPECT_EQ(FloatBits(DequantizeInt8(3, 0.1f)), FloatBits(3.0f * 0.1f));
}

TEST(DecodeTest, FindsFirstNonFinite) {
  std::vector<uint16_t> bf = {0x3F80, 0x7FC0, 0x7F80};
  std::vector<float> out(3);
  EXPECT_EQ(DecodeToFloat(TableDType::kBF16, bf.data(), out.data(), 3), 1);
  std::vector<uint16_t> h = {0x3C00, 0x0001, 0xFC00};
  EXPECT_EQ(DecodeToFloat(TableDType::kF16, h.data(), out.data(), 3), 2);
  EXPECT_EQ(out[1], HalfToFloat(0x0001));
  std::vector<float> f = {1.0f, -0.0f, 3.0e38f};
  EXPECT_EQ(DecodeToFloat(TableDType::kF32, f.data(), out.data(), 3), -1);
  EXPECT_EQ(FloatBits(out[1]), 0x80000000u);
}

}  // namespace
}  // namespace embed2onnx

namespace embed2onnx {
namespace {

// The AVX2 path must give the portable path's bytes: random rows, exact ties, rows of
// odd widths (vector body + scalar tail), zero and tiny rows.
TEST(Int8QuantTest, VectorPathMatchesPortable) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (size_t d : {1u, 7u, 31u, 32u, 33u, 40u, 47u, 64u, 100u, 2048u}) {
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<float> row(d);
      for (float& x : row) x = normal(rng);
      if (trial % 5 == 1) {
        // Put exact .5 ties on a scale of 1: absmax 127.
        for (size_t j = 0; j < d; ++j)
          row[j] = static_cast<float>(static_cast<int>(rng() % 254) - 127) + 0.5f;
        row[0] = 127.0f;
      }
      if (trial % 5 == 2) std::fill(row.begin(), row.end(), 0.0f);
      if (trial % 5 == 3)
        for (float& x : row) x *= 1e-12f;
      float s = Int8RowScale(row.data(), d);
      ASSERT_EQ(FloatBits(s), FloatBits(Int8RowScalePortable(row.data(), d)));
      std::vector<int8_t> a(d), b(d);
      QuantizeRowInt8(row.data(), d, s, a.data());
      QuantizeRowInt8Portable(row.data(), d, s, b.data());
      ASSERT_EQ(a, b) << "d=" << d << " trial=" << trial;
    }
  }
}

}  // namespace
}  // namespace embed2onnx
