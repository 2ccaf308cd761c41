#include <gtest/gtest.h>

#include "numerics/half.h"
#include "tiers/tier.h"
#include "tiers/tier_test_util.h"

namespace embed2onnx {
namespace {

using test_util::Bits;

TEST(TierBf16wTest, LosslessForBf16Sources) {
  const Tier& t = *FindTier("bf16w");
  const size_t n = 5, d = 16;
  // A bf16 checkpoint widened to float32: every value has 16 zero low bits.
  std::vector<float> src = test_util::TestTable(n, d, 7);
  for (float& x : src) x = Bf16ToFloat(FloatToBf16(x));
  auto stored = test_util::EncodeTable(t, src, n, d, {});
  ASSERT_EQ(stored[0].size(), n * d * 2);
  std::vector<float> back = test_util::DecodeTable(t, stored, n, d, {});
  for (size_t i = 0; i < src.size(); ++i) ASSERT_EQ(Bits(back[i]), Bits(src[i])) << i;
}

TEST(TierBf16wTest, RoundsFloat32ToNearestEven) {
  const Tier& t = *FindTier("bf16w");
  // 1 + 2^-8 lies halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to even (1);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6 and goes up to the even one.
  std::vector<float> src = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, -2.0f};
  auto stored = test_util::EncodeTable(t, src, 1, src.size(), {});
  std::vector<uint16_t> b(src.size());
  std::memcpy(b.data(), stored[0].data(), stored[0].size());
  EXPECT_EQ(b[0], 0x3f80u);
  EXPECT_EQ(b[1], 0x3f82u);
  EXPECT_EQ(b[2], 0xc000u);
}

TEST(TierBf16wTest, GraphGathersFirstThenCastsAndMatchesDecode) {
  const Tier& t = *FindTier("bf16w");
  const size_t n = 6, d = 4;
  auto stored = test_util::EncodeTable(t, test_util::TestTable(n, d, 8), n, d, {});
  onnx::ModelProto m = test_util::TierModel(t, stored, n, d, {});
  EXPECT_EQ(test_util::NodeOps(m), (std::vector<std::string>{"Gather", "Cast"}));
  EXPECT_EQ(test_util::NodeNames(m),
            (std::vector<std::string>{"EmbedTokens_Gather", "EmbedTokens_Cast_bf16w"}));
  EXPECT_EQ(m.graph().node(1).input(0), m.graph().node(0).output(0));
  EXPECT_EQ(m.graph().initializer(0).data_type(), onnx::TensorProto::BFLOAT16);

  std::vector<float> decoded = test_util::DecodeTable(t, stored, n, d, {});
  test_util::TempDir dir;
  std::vector<int64_t> ids = {0, 5, 1};
  auto out = test_util::RunTierGraph(m, dir.path(), ids);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (size_t k = 0; k < ids.size(); ++k)
    for (size_t j = 0; j < d; ++j) ASSERT_EQ(Bits((*out)[k * d + j]), Bits(decoded[ids[k] * d + j]));
}

}  // namespace
}  // namespace embed2onnx
