#include <gtest/gtest.h>

#include <cmath>

#include "numerics/half.h"
#include "tiers/tier.h"
#include "tiers/tier_test_util.h"

namespace embed2onnx {
namespace {

using test_util::Bits;

TEST(TierFp16wTest, StoresRoundToNearestEvenHalfs) {
  const Tier& t = *FindTier("fp16w");
  // 1 + 2^-11 is halfway between two fp16 values: ties go to the even one (1.0);
  // 65520 rounds past fp16's largest finite value to inf, as numpy's astype does.
  std::vector<float> src = {1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 65520.0f, -0.0f, 6e-8f, 0.1f};
  auto stored = test_util::EncodeTable(t, src, 1, src.size(), {});
  ASSERT_EQ(stored[0].size(), src.size() * 2);
  std::vector<uint16_t> h(src.size());
  std::memcpy(h.data(), stored[0].data(), stored[0].size());
  EXPECT_EQ(h[0], 0x3c00u);
  EXPECT_EQ(h[1], 0x3c02u);
  EXPECT_EQ(h[2], 0x7c00u);
  EXPECT_EQ(h[3], 0x8000u);
  EXPECT_EQ(h[4], 0x0001u);  // the smallest subnormal is kept
  for (size_t i = 0; i < src.size(); ++i) EXPECT_EQ(h[i], FloatToHalf(src[i])) << i;
}

TEST(TierFp16wTest, DecodeIsTheStoredHalfWidened) {
  const Tier& t = *FindTier("fp16w");
  const size_t n = 8, d = 16;
  std::vector<float> src = test_util::TestTable(n, d, 4);
  auto stored = test_util::EncodeTable(t, src, n, d, {});
  std::vector<float> back = test_util::DecodeTable(t, stored, n, d, {});
  for (size_t i = 0; i < src.size(); ++i) {
    ASSERT_EQ(Bits(back[i]), Bits(HalfToFloat(FloatToHalf(src[i])))) << i;
    // fp16 values are float32 values: storing the decoded table again changes nothing.
    ASSERT_EQ(FloatToHalf(back[i]), FloatToHalf(src[i])) << i;
  }
}

TEST(TierFp16wTest, GraphGathersFirstThenCasts) {
  const Tier& t = *FindTier("fp16w");
  const size_t n = 4, d = 4;
  onnx::ModelProto m =
      test_util::TierModel(t, test_util::EncodeTable(t, test_util::TestTable(n, d, 5), n, d, {}), n, d, {});
  EXPECT_EQ(test_util::NodeOps(m), (std::vector<std::string>{"Gather", "Cast"}));
  EXPECT_EQ(test_util::NodeNames(m),
            (std::vector<std::string>{"EmbedTokens_Gather", "EmbedTokens_Cast_fp16w"}));
  const onnx::NodeProto& gather = m.graph().node(0);
  const onnx::NodeProto& cast = m.graph().node(1);
  EXPECT_EQ(gather.input(0), "embed_tokens.weight");
  // The Cast reads the gathered rows, never the initializer (SPEC §3: no fp32 copy of
  // the table at session load).
  EXPECT_EQ(cast.input(0), gather.output(0));
  EXPECT_EQ(cast.output(0), kOutputName);
  ASSERT_EQ(cast.attribute_size(), 1);
  EXPECT_EQ(cast.attribute(0).i(), onnx::TensorProto::FLOAT);
}

TEST(TierFp16wTest, GraphOutputEqualsDecode) {
  const Tier& t = *FindTier("fp16w");
  EXPECT_FALSE(t.exact_output);
  const size_t n = 6, d = 8;
  auto stored = test_util::EncodeTable(t, test_util::TestTable(n, d, 6), n, d, {});
  std::vector<float> decoded = test_util::DecodeTable(t, stored, n, d, {});
  test_util::TempDir dir;
  std::vector<int64_t> ids = {5, 3, 0, 3};
  auto out = test_util::RunTierGraph(test_util::TierModel(t, stored, n, d, {}), dir.path(), ids);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (size_t k = 0; k < ids.size(); ++k)
    for (size_t j = 0; j < d; ++j) ASSERT_EQ(Bits((*out)[k * d + j]), Bits(decoded[ids[k] * d + j]));
}

}  // namespace
}  // namespace embed2onnx
