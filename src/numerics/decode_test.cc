#include "numerics/decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "checkpoint/dtype.h"
#include "numerics/half.h"

namespace embed2onnx {
namespace {

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(DecodeTest, Bf16IsTheHighHalfOfFloat32) {
  const std::vector<uint16_t> src = {0x3f80, 0xc000, 0x0001, 0x8000, 0x7f7f};
  std::vector<float> out(src.size());
  EXPECT_EQ(DecodeToFloat(DType::kBF16, src.data(), out.data(), src.size()), -1);
  for (size_t i = 0; i < src.size(); ++i) EXPECT_EQ(Bits(out[i]), uint32_t{src[i]} << 16) << i;
}

TEST(DecodeTest, F16WidensExactlyIncludingSubnormals) {
  const std::vector<uint16_t> src = {0x3c00, 0xbc00, 0x0001, 0x03ff, 0x7bff, 0x8000};
  std::vector<float> out(src.size());
  EXPECT_EQ(DecodeToFloat(DType::kF16, src.data(), out.data(), src.size()), -1);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -24));     // smallest subnormal
  EXPECT_EQ(out[3], std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(out[4], 65504.0f);                  // largest finite
  EXPECT_EQ(Bits(out[5]), 0x80000000u);         // -0 keeps its sign
}

TEST(DecodeTest, F32IsCopied) {
  const std::vector<float> src = {0.1f, -3.5f, std::numeric_limits<float>::denorm_min()};
  std::vector<float> out(src.size());
  EXPECT_EQ(DecodeToFloat(DType::kF32, src.data(), out.data(), src.size()), -1);
  for (size_t i = 0; i < src.size(); ++i) EXPECT_EQ(Bits(out[i]), Bits(src[i]));
}

TEST(DecodeTest, ReportsTheFirstNonFiniteElement) {
  // bf16: +inf at 2 and NaN at 4.
  const std::vector<uint16_t> bf = {0x3f80, 0x3f80, 0x7f80, 0x3f80, 0x7fc0};
  std::vector<float> out(bf.size());
  EXPECT_EQ(DecodeToFloat(DType::kBF16, bf.data(), out.data(), bf.size()), 2);
  // f16: -inf at 0.
  const std::vector<uint16_t> h = {0xfc00, 0x3c00};
  EXPECT_EQ(DecodeToFloat(DType::kF16, h.data(), out.data(), h.size()), 0);
  // f32: NaN at the last element.
  const std::vector<float> f = {1, 2, std::nanf("")};
  EXPECT_EQ(DecodeToFloat(DType::kF32, f.data(), out.data(), f.size()), 2);
  EXPECT_EQ(DecodeToFloat(DType::kF32, f.data(), out.data(), 0), -1);  // nothing to decode
}

// The largest |x| as float32 bits, from the widening's own sweep: negative values count
// by magnitude, at every position of a vector's lanes and its scalar tail, and NaN and
// inf lie above every finite value.
TEST(DecodeTest, GivesTheLargestMagnitudeOfEveryDType) {
  for (size_t n : {1u, 7u, 8u, 9u, 33u}) {
    for (size_t at = 0; at < n; ++at) {
      std::vector<float> f(n, 0.25f);
      f[at] = -65504.0f;
      std::vector<uint16_t> bf(n), h(n);
      for (size_t i = 0; i < n; ++i) {
        bf[i] = FloatToBf16(f[i]);
        h[i] = FloatToHalf(f[i]);
      }
      std::vector<float> out(n);
      uint32_t m = 1;
      EXPECT_EQ(DecodeToFloat(DType::kF32, f.data(), out.data(), n, &m), -1);
      EXPECT_EQ(m, Bits(65504.0f)) << n << " " << at;
      EXPECT_EQ(DecodeToFloat(DType::kF16, h.data(), out.data(), n, &m), -1);
      EXPECT_EQ(m, Bits(65504.0f)) << n << " " << at;
      EXPECT_EQ(DecodeToFloat(DType::kBF16, bf.data(), out.data(), n, &m), -1);
      EXPECT_EQ(m, Bits(65536.0f)) << n << " " << at;  // bf16 rounds 65504 up
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(Bits(out[i]), uint32_t{bf[i]} << 16);
      bf[at] = 0xff80;  // -inf
      EXPECT_EQ(DecodeToFloat(DType::kBF16, bf.data(), out.data(), n, &m), static_cast<int64_t>(at));
      EXPECT_EQ(m, 0x7f800000u);
    }
  }
  uint32_t m = 1;
  EXPECT_EQ(DecodeToFloat(DType::kBF16, nullptr, nullptr, 0, &m), -1);
  EXPECT_EQ(m, 0u);
}

TEST(DecodeTest, EveryTableDTypeDecodesThroughItsRow) {
  // One element of value 1.5 in each table dtype, from its own bytes.
  for (const DTypeRow& r : kDTypes) {
    if (!r.table) continue;
    std::vector<uint8_t> bytes(r.bytes);
    if (r.type == DType::kBF16) {
      const uint16_t v = FloatToBf16(1.5f);
      std::memcpy(bytes.data(), &v, 2);
    } else if (r.type == DType::kF16) {
      const uint16_t v = FloatToHalf(1.5f);
      std::memcpy(bytes.data(), &v, 2);
    } else {
      ASSERT_EQ(r.type, DType::kF32) << r.name << ": a new table dtype needs a case here";
      const float v = 1.5f;
      std::memcpy(bytes.data(), &v, 4);
    }
    float out = 0;
    EXPECT_EQ(DecodeToFloat(r.type, bytes.data(), &out, 1), -1) << r.name;
    EXPECT_EQ(out, 1.5f) << r.name;
  }
}

}  // namespace
}  // namespace embed2onnx
