#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tiers/tier.h"
#include "tiers/tier_test_util.h"

namespace embed2onnx {
namespace {

using test_util::Bits;

struct Int8Table {
  std::vector<int8_t> q;
  std::vector<float> s;
};

Int8Table Unpack(const std::vector<std::string>& stored, size_t n, size_t d) {
  Int8Table t{std::vector<int8_t>(n * d), std::vector<float>(n)};
  std::memcpy(t.q.data(), stored[0].data(), t.q.size());
  std::memcpy(t.s.data(), stored[1].data(), t.s.size() * 4);
  return t;
}

TEST(TierInt8Test, CodesAndScalesFollowTheNumpyFormula) {
  const Tier& t = *FindTier("int8");
  const size_t n = 6, d = 32;
  std::vector<float> src = test_util::TestTable(n, d, 9);
  auto stored = test_util::EncodeTable(t, src, n, d, {});
  ASSERT_EQ(stored[0].size(), n * d);
  ASSERT_EQ(stored[1].size(), n * 4);
  Int8Table q = Unpack(stored, n, d);
  for (size_t r = 0; r < n; ++r) {
    float absmax = 0;
    for (size_t j = 0; j < d; ++j) absmax = std::max(absmax, std::fabs(src[r * d + j]));
    const float s = std::max(absmax, 1e-12f) / 127.0f;  // SPEC §4, one float32 division
    ASSERT_EQ(Bits(q.s[r]), Bits(s)) << "row " << r;
    for (size_t j = 0; j < d; ++j) {
      const float want = std::clamp(std::nearbyint(src[r * d + j] / s), -127.0f, 127.0f);
      ASSERT_EQ(q.q[r * d + j], static_cast<int8_t>(want)) << r << "," << j;
    }
  }
  // The all-zero row (row 1 of the test table) decodes to zeros.
  std::vector<float> back = test_util::DecodeTable(t, stored, n, d, {});
  for (size_t j = 0; j < d; ++j) EXPECT_EQ(back[1 * d + j], 0.0f);
}

TEST(TierInt8Test, DecodeStaysWithinTheRowBound) {
  const Tier& t = *FindTier("int8");
  ASSERT_NE(t.row_bound, nullptr);
  const size_t n = 8, d = 64;
  std::vector<float> src = test_util::TestTable(n, d, 10);
  auto stored = test_util::EncodeTable(t, src, n, d, {});
  std::vector<float> back = test_util::DecodeTable(t, stored, n, d, {});
  std::vector<float> bound(d);
  float worst = 0;
  for (size_t r = 0; r < n; ++r) {
    const uint8_t* row[kMaxStreamed] = {reinterpret_cast<const uint8_t*>(stored[0].data()) + r * d,
                                        reinterpret_cast<const uint8_t*>(stored[1].data()) + r * 4};
    t.row_bound(row, d, {}, bound.data());
    for (size_t j = 0; j < d; ++j) {
      const float err = std::fabs(back[r * d + j] - src[r * d + j]);
      ASSERT_LE(err, bound[j]) << r << "," << j;
      if (bound[j] > 0) worst = std::max(worst, err / bound[j]);
    }
  }
  // The bound is half a step, not something loose enough to pass anything.
  EXPECT_GT(worst, 0.5f);
}

TEST(TierInt8Test, GraphHasTheOriginalNodesAndMatchesDecode) {
  const Tier& t = *FindTier("int8");
  const size_t n = 5, d = 8;
  auto stored = test_util::EncodeTable(t, test_util::TestTable(n, d, 11), n, d, {});
  onnx::ModelProto m = test_util::TierModel(t, stored, n, d, {});
  // SPEC §3, in the original's names.
  EXPECT_EQ(test_util::NodeNames(m),
            (std::vector<std::string>{"EmbedTokens_Gather_weight", "EmbedTokens_Cast_int8_to_fp32",
                                      "EmbedTokens_Gather_scales", "EmbedTokens_Unsqueeze_scales",
                                      "EmbedTokens_Mul"}));
  EXPECT_EQ(test_util::NodeOps(m),
            (std::vector<std::string>{"Gather", "Cast", "Gather", "Unsqueeze", "Mul"}));
  const onnx::TensorProto* axes = nullptr;
  for (const auto& init : m.graph().initializer())
    if (init.name() == "EmbedTokens_unsqueeze_axes") axes = &init;
  ASSERT_NE(axes, nullptr);
  EXPECT_EQ(axes->data_type(), onnx::TensorProto::INT64);
  ASSERT_EQ(axes->raw_data().size(), 8u);
  int64_t axis;
  std::memcpy(&axis, axes->raw_data().data(), 8);
  EXPECT_EQ(axis, -1);

  std::vector<float> decoded = test_util::DecodeTable(t, stored, n, d, {});
  test_util::TempDir dir;
  std::vector<int64_t> ids = {4, 0, 2, 1};
  auto out = test_util::RunTierGraph(m, dir.path(), ids);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (size_t k = 0; k < ids.size(); ++k)
    for (size_t j = 0; j < d; ++j) ASSERT_EQ(Bits((*out)[k * d + j]), Bits(decoded[ids[k] * d + j]));
}

}  // namespace
}  // namespace embed2onnx
