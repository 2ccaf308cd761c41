#include <gtest/gtest.h>

#include "tiers/tier.h"
#include "tiers/tier_test_util.h"

namespace embed2onnx {
namespace {

using test_util::Bits;

TEST(TierFp32Test, StoresTheTableItself) {
  const Tier& t = *FindTier("fp32");
  const size_t n = 6, d = 8;
  std::vector<float> src = test_util::TestTable(n, d, 1);
  auto stored = test_util::EncodeTable(t, src, n, d, {});
  ASSERT_EQ(stored[0].size(), n * d * 4);
  EXPECT_EQ(std::memcmp(stored[0].data(), src.data(), stored[0].size()), 0);
  std::vector<float> back = test_util::DecodeTable(t, stored, n, d, {});
  for (size_t i = 0; i < back.size(); ++i) ASSERT_EQ(Bits(back[i]), Bits(src[i])) << i;
}

TEST(TierFp32Test, GraphIsOneGatherOfTheWeight) {
  const Tier& t = *FindTier("fp32");
  const size_t n = 5, d = 4;
  std::vector<float> src = test_util::TestTable(n, d, 2);
  onnx::ModelProto m = test_util::TierModel(t, test_util::EncodeTable(t, src, n, d, {}), n, d, {});
  ASSERT_EQ(m.graph().node_size(), 1);
  const onnx::NodeProto& g = m.graph().node(0);
  EXPECT_EQ(g.op_type(), "Gather");
  EXPECT_EQ(g.name(), "EmbedTokens_Gather");  // SPEC §3
  ASSERT_EQ(g.input_size(), 2);
  EXPECT_EQ(g.input(0), "embed_tokens.weight");
  EXPECT_EQ(g.input(1), kInputName);
  EXPECT_EQ(g.output(0), kOutputName);
  ASSERT_EQ(g.attribute_size(), 1);
  EXPECT_EQ(g.attribute(0).name(), "axis");
  EXPECT_EQ(g.attribute(0).i(), 0);
  EXPECT_EQ(m.graph().initializer_size(), 1);  // the weight only, no constants
}

TEST(TierFp32Test, GraphOutputsTheSourceRowsExactly) {
  const Tier& t = *FindTier("fp32");
  ASSERT_TRUE(t.exact_output);
  const size_t n = 7, d = 6;
  std::vector<float> src = test_util::TestTable(n, d, 3);
  test_util::TempDir dir;
  std::vector<int64_t> ids = {6, 0, 2, 2, -1};
  auto out = test_util::RunTierGraph(
      test_util::TierModel(t, test_util::EncodeTable(t, src, n, d, {}), n, d, {}), dir.path(), ids);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), ids.size() * d);
  for (size_t k = 0; k < ids.size(); ++k) {
    const size_t row = ids[k] < 0 ? n + ids[k] : ids[k];
    for (size_t j = 0; j < d; ++j)
      ASSERT_EQ(Bits((*out)[k * d + j]), Bits(src[row * d + j])) << k << "," << j;
  }
}

}  // namespace
}  // namespace embed2onnx
