#include "numerics/int4_quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace embed2onnx {
namespace {

TEST(Int4QuantTest, LevelsAreTheDocumentedCubic) {
  // w * (w*w + 200), w = q - 7.5: symmetric, 200.25 apart in the middle, 347.25 at the ends.
  EXPECT_EQ(Int4Level(0), -1921.875f);
  EXPECT_EQ(Int4Level(15), 1921.875f);
  EXPECT_EQ(Int4Level(8) - Int4Level(7), 200.25f);
  EXPECT_EQ(Int4Level(15) - Int4Level(14), 347.25f);
  for (int q = 0; q < 15; ++q) {
    EXPECT_EQ(Int4Level(q), -Int4Level(15 - q));
    EXPECT_LT(Int4Level(q), Int4Level(q + 1));
    EXPECT_LE((Int4Level(q + 1) - Int4Level(q)) / 2, kInt4BoundUnits);
  }
}

TEST(Int4QuantTest, ScaleTableSteps) {
  EXPECT_EQ(Int4Scale(0), 0.0f);
  EXPECT_EQ(Int4Scale(1), std::ldexp(1.0f, -37));
  EXPECT_EQ(Int4Scale(15), std::ldexp(1.0f, -23));
  EXPECT_EQ(Int4Scale(16), std::ldexp(1.0f, -22));
  EXPECT_EQ(Int4Scale(32), std::ldexp(1.0f, -21));
  EXPECT_EQ(Int4Scale(240), std::ldexp(1.0f, -8));
  EXPECT_EQ(Int4Scale(254), std::ldexp(1.0f, 6));
  EXPECT_EQ(Int4Scale(255), 0.0f);
  for (int a = 16; a < 239; ++a)  // 1/16 octave, each rounded to float32
    EXPECT_NEAR(Int4Scale(a + 1) / Int4Scale(a), std::exp2(1.0 / 16), 1e-6) << a;
  for (int a = 1; a < 254; ++a) EXPECT_LT(Int4Scale(a), Int4Scale(a + 1)) << a;
  for (int a = 0; a < kInt4ScaleCodes; ++a) EXPECT_EQ(Int4ScaleTable()[a], Int4Scale(a));
}

std::vector<float> HeavyRow(std::mt19937& rng, size_t d, float scale) {
  std::student_t_distribution<float> t(4.0f);
  std::vector<float> row(d);
  for (float& x : row) x = scale * t(rng);
  return row;
}

struct Stored {
  std::vector<uint8_t> codes, scales;
  std::vector<int8_t> offsets;
};

// What QuantizeRowInt4 stores.
Stored Quantize(const std::vector<float>& row, size_t block) {
  const size_t d = row.size();
  Stored s{std::vector<uint8_t>(d / 2), std::vector<uint8_t>(d / block), std::vector<int8_t>(d / block)};
  QuantizeRowInt4(row.data(), d, block, s.codes.data(), s.scales.data(), s.offsets.data());
  return s;
}

// What one build stores (QuantizeRowInt4On); false where this CPU lacks it.
bool QuantizeOn(int vector_bits, const std::vector<float>& row, size_t block, Stored* s) {
  const size_t d = row.size();
  *s = Stored{std::vector<uint8_t>(d / 2), std::vector<uint8_t>(d / block), std::vector<int8_t>(d / block)};
  return QuantizeRowInt4On(vector_bits, row.data(), d, block, s->codes.data(), s->scales.data(),
                           s->offsets.data());
}

TEST(Int4QuantTest, ZeroBlockIsExactlyZero) {
  std::vector<float> row(64, 0.0f), out(64, 1.0f);
  row[5] = 0.25f;  // block 5 of 32 (strided: value 5 is in block 5)
  Stored s = Quantize(row, 2);
  DequantizeRowInt4(s.codes.data(), s.scales.data(), s.offsets.data(), 64, 2, out.data());
  for (size_t b = 0; b < 32; ++b) EXPECT_EQ(s.scales[b] == 0, b != 5) << b;
  for (size_t j = 0; j < 64; ++j) {
    if (j % 32 != 5) {
      EXPECT_EQ(out[j], 0.0f) << j;
    }
  }
}

TEST(Int4QuantTest, LayoutByHand) {
  // d = 8, block 4: two blocks, block 0 = values 0, 2, 4, 6, block 1 = values 1, 3, 5, 7.
  // Byte i holds value i (low nibble) and value i + 4 (high nibble).
  std::vector<float> row = {-1.0f, 5.0f, -0.5f, 6.0f, 0.5f, 7.0f, 1.0f, 8.0f};
  Stored s = Quantize(row, 4);
  std::vector<float> out(8);
  DequantizeRowInt4(s.codes.data(), s.scales.data(), s.offsets.data(), 8, 4, out.data());
  for (size_t j = 0; j < 8; ++j) {
    const size_t b = j % 2;
    const int q = j < 4 ? s.codes[j] & 15 : s.codes[j - 4] >> 4;
    const float want = (Int4Level(q) + 16.0f * s.offsets[b]) * Int4Scale(s.scales[b]);
    EXPECT_EQ(out[j], want) << j;
    EXPECT_LE(std::fabs(out[j] - row[j]), Int4Scale(s.scales[b]) * kInt4BoundUnits) << j;
  }
  // Block 1 sits far from 0 for its spread: its offset carries the centre.
  EXPECT_GT(s.offsets[1], 0);
}

TEST(Int4QuantTest, WithinTheBoundAndBetterThanHalfTheWidestGap) {
  std::mt19937 rng(3);
  for (size_t block : {32u, 16u, 8u, 4u, 64u}) {
    const size_t d = 256;
    double worst = 0;
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<float> row = HeavyRow(rng, d, 0.02f * std::exp(0.5f * (trial % 7 - 3)));
      if (trial % 10 == 3) row[17] += 1.0f;  // a block far off centre
      Stored s = Quantize(row, block);
      std::vector<float> out(d);
      DequantizeRowInt4(s.codes.data(), s.scales.data(), s.offsets.data(), d, block, out.data());
      for (size_t j = 0; j < d; ++j) {
        const float bound = Int4Scale(s.scales[j % (d / block)]) * kInt4BoundUnits;
        ASSERT_LE(std::fabs(out[j] - row[j]), bound) << block << " " << j;
        worst = std::max(worst, double(std::fabs(out[j] - row[j]) / bound));
      }
    }
    EXPECT_GT(worst, 0.3) << block;  // the bound is not so loose that it passes anything
  }
}

TEST(Int4QuantTest, ExtremeMagnitudesStayWithinTheBound) {
  std::mt19937 rng(5);
  for (float scale : {1e-9f, 1e-6f, 3e-4f, 10.0f, 1000.0f, 30000.0f}) {
    std::vector<float> row = HeavyRow(rng, 64, scale);
    row[3] = 0.0f;
    Stored s = Quantize(row, 32);
    std::vector<float> out(64);
    DequantizeRowInt4(s.codes.data(), s.scales.data(), s.offsets.data(), 64, 32, out.data());
    for (size_t j = 0; j < 64; ++j)
      ASSERT_LE(std::fabs(out[j] - row[j]), Int4Scale(s.scales[j % 2]) * kInt4BoundUnits)
          << scale << " " << j;
  }
}

TEST(Int4QuantTest, ConstantBlocks) {
  for (float c : {0.5f, -3.0f, 1e-5f}) {
    std::vector<float> row(32, c), out(32);
    Stored s = Quantize(row, 32);
    DequantizeRowInt4(s.codes.data(), s.scales.data(), s.offsets.data(), 32, 32, out.data());
    for (float v : out) EXPECT_LE(std::fabs(v - c), Int4Scale(s.scales[0]) * kInt4BoundUnits) << c;
    EXPECT_NE(s.scales[0], 0) << c;
  }
}

// Each vector build (QuantizeRowInt4On's `vector_bits`, 256 for AVX2, 512 for AVX-512)
// is held to the portable one. Where this CPU lacks a build its tests report themselves
// skipped, so a run that checked nothing of it cannot pass for one that did.
class Int4VectorBuildTest : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const float t = 0.0f;
    uint8_t code = 0;
    if (!Int4NearestCodes(bits(), &t, 1, &code))
      GTEST_SKIP() << "this CPU lacks the " << bits() << "-bit build";
  }
  static int bits() { return GetParam(); }
};
INSTANTIATE_TEST_SUITE_P(Builds, Int4VectorBuildTest, testing::Values(256, 512),
                         [](const testing::TestParamInfo<int>& info) {
                           return info.param == 256 ? std::string("Avx2") : std::string("Avx512");
                         });

// The builds the encoder finds are the ones the kernel says this CPU has (its cpuinfo
// flags, which Linux clears where the OS does not save the registers): a detection that
// went wrong would otherwise only show as both suites above skipped.
TEST(Int4QuantTest, VectorBuildsFoundAreTheCpusOwn) {
#if !defined(__x86_64__) || !defined(__linux__)
  GTEST_SKIP() << "the builds are x86-64 ones, and the flags are read from Linux's /proc/cpuinfo";
#else
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) {
      flags = line.substr(line.find(':') + 1) + " ";
      break;
    }
  ASSERT_FALSE(flags.empty()) << "/proc/cpuinfo has no flags line";
  auto has = [&](const char* f) { return flags.find(std::string(" ") + f + " ") != std::string::npos; };
  auto found = [](int bits) {
    const float t = 0.0f;
    uint8_t code = 0;
    return Int4NearestCodes(bits, &t, 1, &code);
  };
  EXPECT_TRUE(found(0));
  EXPECT_EQ(found(256), has("avx2"));
  EXPECT_EQ(found(512),
            has("avx2") && has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq"));
#endif
}

// Every value of the vector builds' int16 grid (t in level units, 1/16 apart), both sides
// of every midpoint, the clamp's ends and beyond.
std::vector<float> NearestCodeProbes() {
  std::vector<float> t;
  for (int v = -32768; v <= 32767; ++v) t.push_back(static_cast<float>(v) / 16.0f);
  for (int q = 0; q < 15; ++q) {
    const float mid = 0.5f * (Int4Level(q) + Int4Level(q + 1));
    for (float delta : {-1.0f / 32, -1.0f / 64, 0.0f, 1.0f / 64, 1.0f / 32}) t.push_back(mid + delta);
  }
  for (float far : {3000.0f, 1e6f, INFINITY}) {
    t.push_back(far);
    t.push_back(-far);
  }
  return t;
}

TEST(Int4QuantTest, PortableNearestCodesAtTheGridsEnds) {
  const std::vector<float> t = NearestCodeProbes();
  std::vector<uint8_t> portable(t.size());
  ASSERT_TRUE(Int4NearestCodes(0, t.data(), t.size(), portable.data()));
  EXPECT_EQ(portable[0], 0);      // t = -2048, below every level
  EXPECT_EQ(portable[32768], 7);  // t = 0 is the middle midpoint itself, not above it
  EXPECT_EQ(portable[32769], 8);  // t = 1/16 is
  EXPECT_EQ(portable[65535], 15);
}

// The build's nearest-level step (a lookup by the value's bucket) against the portable
// count of fifteen midpoints.
TEST_P(Int4VectorBuildTest, NearestCodesEqualPortableOnEveryFixedPointValue) {
  const std::vector<float> t = NearestCodeProbes();
  std::vector<uint8_t> portable(t.size()), vector(t.size());
  ASSERT_TRUE(Int4NearestCodes(0, t.data(), t.size(), portable.data()));
  ASSERT_TRUE(Int4NearestCodes(bits(), t.data(), t.size(), vector.data()));
  for (size_t k = 0; k < t.size(); ++k) ASSERT_EQ(vector[k], portable[k]) << "t = " << t[k];
}

TEST(Int4QuantTest, EachScaleIsItsOwnCode) {
  for (int c = 1; c < kInt4ScaleCodes; ++c) {
    const float s = Int4Scale(c);
    int32_t got = 0;
    ASSERT_TRUE(Int4ScaleCodesBelow(0, &s, 1, &got));
    EXPECT_EQ(got, c);
  }
}

// The build's first scale code (from a's exponent and mantissa) against the portable
// binary search over the table: at every scale and one step either side, at both ends of
// every octave, at zero, subnormals, negatives, inf and NaN, and on a million random bit
// patterns. (Every one of the 2^32 patterns agreed once, in 35 s.)
TEST_P(Int4VectorBuildTest, ScaleCodesEqualTheSearchOnEveryKindOfFloat) {
  std::vector<float> a;
  for (int c = 1; c < kInt4ScaleCodes; ++c) {
    const float s = Int4Scale(c);
    a.insert(a.end(), {s, std::nextafter(s, 0.0f), std::nextafter(s, INFINITY)});
  }
  for (int e = -149; e <= 128; ++e) {
    const float p = std::ldexp(1.0f, e);
    a.insert(a.end(), {p, std::nextafter(p, 0.0f), std::nextafter(p, INFINITY), -p, 1.5f * p});
  }
  a.insert(a.end(), {0.0f, -0.0f, 1e-45f, 1e-40f, -1e-40f, INFINITY, -INFINITY, NAN, -NAN, 3.4e38f});
  std::mt19937 rng(13);
  for (int i = 0; i < 1000000; ++i) {
    const uint32_t pattern = rng();
    float f;
    std::memcpy(&f, &pattern, 4);
    a.push_back(f);
  }
  std::vector<int32_t> portable(a.size()), vector(a.size());
  ASSERT_TRUE(Int4ScaleCodesBelow(0, a.data(), a.size(), portable.data()));
  ASSERT_TRUE(Int4ScaleCodesBelow(bits(), a.data(), a.size(), vector.data()));
  for (size_t k = 0; k < a.size(); ++k) {
    uint32_t pattern;
    std::memcpy(&pattern, &a[k], 4);
    ASSERT_EQ(vector[k], portable[k]) << "a = " << a[k] << " (bits " << std::hex << pattern << ")";
  }
  // Sixteen of each, so the build's lanes (not its scalar tail) answer.
  for (float v : {0.0f, -1.0f, NAN, std::nextafter(Int4Scale(1), 0.0f), INFINITY}) {
    const std::vector<float> sixteen(16, v);
    std::vector<int32_t> got(16, 0);
    ASSERT_TRUE(Int4ScaleCodesBelow(bits(), sixteen.data(), 16, got.data()));
    for (int32_t c : got) EXPECT_EQ(c, v == INFINITY ? kInt4ScaleCodes - 1 : 1) << v;
  }
}

// The build and the portable one give the same bytes at every kind of block size (2, odd
// halves as 6 and 10, up to 256) and row of 8 to 56 blocks (AVX-512 runs pairs of 16-block
// groups, a single one, then AVX2 a group of 8, then the scalar reference), on rows built
// to reach the encoder's edges: constant blocks, blocks of subnormals, values near the
// largest floats, mixed signs and scales.
TEST_P(Int4VectorBuildTest, AgreesWithPortableAtEveryBlockSize) {
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t block : {2u, 4u, 6u, 10u, 16u, 32u, 64u, 256u})
    for (size_t nb : {8u, 16u, 17u, 24u, 31u, 32u, 56u})
      for (int kind = 0; kind < 6; ++kind) {
        const size_t d = block * nb;
        std::vector<float> row(d);
        for (size_t j = 0; j < d; ++j) {
          const float g = normal(rng);
          switch (kind) {
            case 0:  // a plain table row
              row[j] = g * 0.02f;
              break;
            case 1:  // constant blocks
              row[j] = (j % nb) % 3 == 0 ? 0.25f : g * 0.01f;
              break;
            case 2:  // subnormal blocks
              row[j] = (j % nb) % 2 == 0 ? g * 1e-40f : g * 1e-3f;
              break;
            case 3:  // near FLT_MAX
              row[j] = g * 1e38f;
              break;
            case 4:  // zero blocks, and scales from 2^-40 to 2^19 within a block
              row[j] = (j % nb) % 4 == 0 ? 0.0f : g * std::ldexp(1.0f, static_cast<int>(j % 60) - 40);
              break;
            default:  // far from 0 for their spread
              row[j] = (j % nb) % 2 ? 3.0f + g * 1e-4f : -g;
              break;
          }
        }
        Stored a, b;
        ASSERT_TRUE(QuantizeOn(0, row, block, &b));
        ASSERT_TRUE(QuantizeOn(bits(), row, block, &a));
        ASSERT_EQ(a.codes, b.codes) << "block " << block << " nb " << nb << " kind " << kind;
        ASSERT_EQ(a.scales, b.scales) << "block " << block << " nb " << nb << " kind " << kind;
        ASSERT_EQ(a.offsets, b.offsets) << "block " << block << " nb " << nb << " kind " << kind;
      }
}

// The build (blocks of 32) and the portable one give the same bytes. Rows of 2 to 60
// blocks: a vector build runs pairs of groups of its lanes, then a single group (then, for
// AVX-512, AVX2's group of 8), then the scalar reference for the rest, and each of those
// mixes is here.
TEST_P(Int4VectorBuildTest, AgreesWithPortable) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int trial = 0; trial < 360; ++trial) {
    const size_t d = 32 * (1 + trial % 30) * 2;
    std::vector<float> row = trial % 2 ? HeavyRow(rng, d, 0.02f) : std::vector<float>(d);
    if (trial % 2 == 0)
      for (float& x : row) x = normal(rng) * std::ldexp(1.0f, trial % 40 - 30);
    if (trial % 5 == 0) row[trial % d] = 0.0f;
    if (trial % 7 == 0) std::fill(row.begin(), row.begin() + d / 4, 0.125f);
    Stored a, b;
    ASSERT_TRUE(QuantizeOn(0, row, 32, &b));
    ASSERT_TRUE(QuantizeOn(bits(), row, 32, &a));
    ASSERT_EQ(a.codes, b.codes) << trial;
    ASSERT_EQ(a.scales, b.scales) << trial;
    ASSERT_EQ(a.offsets, b.offsets) << trial;
  }
}

}  // namespace
}  // namespace embed2onnx
