#include "numerics/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace embed2onnx {
namespace {

float Pow2(int e) { return std::ldexp(1.0f, e); }

TEST(HalfTest, HandCheckedValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);      // signed zero kept
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);   // largest finite fp16
  EXPECT_EQ(FloatToHalf(Pow2(-14)), 0x0400);  // smallest normal
}

TEST(HalfTest, TiesGoToEven) {
  // 1 + 2^-11 is halfway between 1.0 (0x3C00, even) and 1 + 2^-10 (0x3C01).
  EXPECT_EQ(FloatToHalf(1.0f + Pow2(-11)), 0x3C00);
  // 1 + 3 * 2^-11 is halfway between 0x3C01 (odd) and 0x3C02 (even).
  EXPECT_EQ(FloatToHalf(1.0f + 3 * Pow2(-11)), 0x3C02);
  // Just above the tie rounds up.
  EXPECT_EQ(FloatToHalf(std::nextafter(1.0f + Pow2(-11), 2.0f)), 0x3C01);
  EXPECT_EQ(FloatToHalf(-(1.0f + 3 * Pow2(-11))), 0xBC02);
}

TEST(HalfTest, SubnormalsAreKept) {
  EXPECT_EQ(FloatToHalf(Pow2(-24)), 0x0001);      // smallest subnormal
  EXPECT_EQ(FloatToHalf(Pow2(-25)), 0x0000);      // tie between 0 and 2^-24: even is 0
  EXPECT_EQ(FloatToHalf(3 * Pow2(-25)), 0x0002);  // tie between 0x0001 and 0x0002
  EXPECT_EQ(FloatToHalf(Pow2(-25) * 1.001f), 0x0001);
  EXPECT_EQ(FloatToHalf(-Pow2(-20)), 0x8010);
  EXPECT_EQ(FloatToHalf(Pow2(-26)), 0x0000);
  EXPECT_EQ(FloatToHalf(-Pow2(-26)), 0x8000);  // underflow keeps the sign
}

TEST(HalfTest, OverflowGoesToInfinity) {
  EXPECT_EQ(FloatToHalf(65519.99f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);  // tie between 65504 and 65536: even is inf
  EXPECT_EQ(FloatToHalf(1e6f), 0x7C00);
  EXPECT_EQ(FloatToHalf(-1e30f), 0xFC00);
}

TEST(HalfTest, WideningIsExact) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00) continue;  // inf/NaN
    float f = HalfToFloat(static_cast<uint16_t>(h));
    EXPECT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
  EXPECT_EQ(HalfToFloat(0x0001), Pow2(-24));
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
}

TEST(Bf16Test, WideningShiftsBits) {
  EXPECT_EQ(Bf16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(Bf16ToFloat(0xC000), -2.0f);
  EXPECT_EQ(FloatBits(Bf16ToFloat(0x8000)), 0x80000000u);
  EXPECT_EQ(Bf16ToFloat(0x0001), Pow2(-133));  // bf16 subnormal, exact in float32
  EXPECT_EQ(Bf16ToFloat(0x3C23), 0.0099487304688f);
}

TEST(Bf16Test, NarrowingRoundsToNearestEven) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x3F808000)), 0x3F80);  // tie, even down
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x3F818000)), 0x3F82);  // tie, even up
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x3F808001)), 0x3F81);
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x7F7FFFFF)), 0x7F80);  // overflow to inf
}

// The batch bf16 narrowing equals the scalar one on ties, overflow, subnormals, signed
// zero, NaN and random bit patterns (all 2^32 would take a few seconds; a stride covers
// every exponent and low-half pattern class).
TEST(Bf16Test, BatchNarrowingMatchesScalar) {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          BitsToFloat(0x3F808000),
                          BitsToFloat(0x3F818000),
                          BitsToFloat(0x7F7FFFFF),
                          BitsToFloat(0xFF7FFFFF),
                          BitsToFloat(1),
                          BitsToFloat(0x8000FFFF),
                          INFINITY,
                          -INFINITY,
                          std::nanf(""),
                          BitsToFloat(0x7F800001),
                          BitsToFloat(0xFFC12345)};
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 65521) v.push_back(BitsToFloat(static_cast<uint32_t>(u)));
  std::mt19937 rng(9);
  for (int i = 0; i < 100000; ++i) v.push_back(BitsToFloat(rng()));
  std::vector<uint16_t> batch(v.size());
  FloatsToBf16(v.data(), batch.data(), v.size());
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(batch[i], FloatToBf16(v[i])) << "bits " << FloatBits(v[i]);
}

// The vector path must give the reference's bytes on every edge case and at random.
TEST(HalfTest, BatchPathsMatchScalarReference) {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          65504.0f,
                          65519.99f,
                          65520.0f,
                          -65520.0f,
                          1e9f,
                          Pow2(-24),
                          Pow2(-25),
                          3 * Pow2(-25),
                          Pow2(-26),
                          -Pow2(-26),
                          1.0f + Pow2(-11),
                          1.0f + 3 * Pow2(-11),
                          Pow2(-14),
                          std::nextafter(Pow2(-14), 0.0f),
                          BitsToFloat(1),
                          -BitsToFloat(1),
                          3.4e38f};
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    uint32_t bits = rng();
    if ((bits & 0x7F800000u) == 0x7F800000u) continue;  // finite only: inputs are validated
    v.push_back(BitsToFloat(bits));
  }
  // Every float that lands halfway between two fp16 values near each binade.
  for (uint32_t h = 0; h < 0x7BFF; h += 7) {
    float lo = HalfToFloat(static_cast<uint16_t>(h)), hi = HalfToFloat(static_cast<uint16_t>(h + 1));
    v.push_back((lo + hi) / 2);
    v.push_back(-(lo + hi) / 2);
  }
  std::vector<uint16_t> fast(v.size()), slow(v.size());
  FloatsToHalf(v.data(), fast.data(), v.size());
  FloatsToHalfPortable(v.data(), slow.data(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_EQ(fast[i], slow[i]) << "value " << v[i];
    ASSERT_EQ(slow[i], FloatToHalf(v[i]));
  }
  std::vector<float> back_fast(v.size()), back_slow(v.size());
  HalfsToFloat(slow.data(), back_fast.data(), v.size());
  HalfsToFloatPortable(slow.data(), back_slow.data(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if ((slow[i] & 0x7C00) == 0x7C00) continue;  // inf: no bits to compare beyond the class
    ASSERT_EQ(FloatBits(back_fast[i]), FloatBits(back_slow[i]));
  }
}

}  // namespace
}  // namespace embed2onnx
