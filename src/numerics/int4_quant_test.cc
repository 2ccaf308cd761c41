#include "numerics/int4_quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "numerics/half.h"
#include "numerics/int8_quant.h"

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

// The codes and values of a plain per-element reference (std::nearbyint, a column-by-
// column unpack): the vectorisable forms in int4_quant.cc must give the same bytes.
void ReferenceCodes(const float* row, size_t d, size_t block, Int4Mode mode, const uint16_t* scales,
                    const uint8_t* zp, std::vector<uint8_t>* packed, std::vector<float>* values) {
  packed->assign(d / 2, 0);
  values->assign(d, 0.0f);
  for (size_t col = 0; col < d; ++col) {
    const size_t b = col / block, j = col % block, half = block / 2;
    const float s = HalfToFloat(scales[b]);
    const float z = mode == Int4Mode::kSymmetric ? 8.0f : zp[b];
    float q = s > 0.0f ? std::nearbyint(row[col] / s) + z : z;
    q = std::fmin(std::fmax(q, 0.0f), 15.0f);
    const uint8_t c = static_cast<uint8_t>(q);
    (*packed)[b * half + j % half] |= static_cast<uint8_t>(j < half ? c : c << 4);
    (*values)[col] = (static_cast<float>(c) - z) * s;
  }
}

TEST(Int4QuantTest, SameBytesAsThePerElementReference) {
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::student_t_distribution<float> heavy(2.0f);
  for (size_t block : {2u, 8u, 16u, 24u, 32u, 40u, 64u}) {  // half = 1..32: vector body and tails
    const size_t d = 4 * block;
    std::vector<float> row(d), out(d), ref_values;
    std::vector<uint8_t> packed(d / 2), zp(d / block), ref_packed;
    std::vector<uint16_t> scales(d / block);
    for (int trial = 0; trial < 300; ++trial) {
      for (float& x : row) x = trial % 3 == 0 ? heavy(rng) : normal(rng) * std::ldexp(1.0f, trial % 40 - 20);
      if (trial % 7 == 0) std::fill(row.begin(), row.begin() + block, 0.0f);  // a zero block
      if (trial % 11 == 0) row[1] = -1e-30f;                                  // far below the step
      if (trial % 13 == 0) row[0] = 6e4f;                                     // scale near fp16's top
      for (Int4Mode mode : {Int4Mode::kSymmetric, Int4Mode::kAsymmetric}) {
        // The portable path first, then the dispatched one (AVX2 on most x86 CPUs).
        QuantizeRowInt4Portable(row.data(), d, block, mode, packed.data(), scales.data(), zp.data());
        ReferenceCodes(row.data(), d, block, mode, scales.data(), zp.data(), &ref_packed, &ref_values);
        ASSERT_EQ(packed, ref_packed) << "portable, block " << block << " trial " << trial;
        const std::vector<uint16_t> portable_scales = scales;
        const std::vector<uint8_t> portable_zp = zp;
        QuantizeRowInt4(row.data(), d, block, mode, packed.data(), scales.data(), zp.data());
        ASSERT_EQ(scales, portable_scales);
        if (mode == Int4Mode::kAsymmetric) {
          ASSERT_EQ(zp, portable_zp);
        }
        DequantizeRowInt4(packed.data(), scales.data(), zp.data(), d, block, mode, out.data());
        ASSERT_EQ(packed, ref_packed)
            << "dispatched (AVX2: " << HaveAvx2() << "), block " << block << " trial " << trial;
        for (size_t j = 0; j < d; ++j) ASSERT_EQ(out[j], ref_values[j]) << "block " << block << " col " << j;
      }
    }
  }
  // Exact ties: x / s = k + 0.5 rounds to the even code, as nearbyint does.
  std::vector<float> tie = {-7.5f, -2.5f, -0.5f, 0.5f, 1.5f, 2.5f, 6.5f, 7.0f};  // s = 1 (symmetric)
  std::vector<uint8_t> packed(4);
  std::vector<uint16_t> scales(1);
  QuantizeRowInt4(tie.data(), 8, 8, Int4Mode::kSymmetric, packed.data(), scales.data(), nullptr);
  ASSERT_EQ(HalfToFloat(scales[0]), 1.0f);
  std::vector<uint8_t> ref_packed;
  std::vector<float> ref_values;
  ReferenceCodes(tie.data(), 8, 8, Int4Mode::kSymmetric, scales.data(), nullptr, &ref_packed, &ref_values);
  EXPECT_EQ(packed, ref_packed);
  EXPECT_EQ(packed[0] & 0x0F, 0);  // -7.5 -> -8 (even) + 8
}

}  // namespace
}  // namespace embed2onnx
