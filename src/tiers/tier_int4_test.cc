#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tiers/tier.h"
#include "tiers/tier_test_util.h"

namespace embed2onnx {
namespace {

using test_util::Bits;

TierParams Block(uint32_t b) {
  TierParams p;
  p.int4_block = b;
  return p;
}

TEST(TierInt4Test, BlockMustBeEvenAndDivideTheWidth) {
  const Tier& t = *FindTier("int4");
  ASSERT_NE(t.check_params, nullptr);
  EXPECT_TRUE(t.check_params(64, Block(32)).ok());
  EXPECT_TRUE(t.check_params(64, Block(2)).ok());
  EXPECT_TRUE(t.check_params(512, Block(256)).ok());
  EXPECT_FALSE(t.check_params(1024, Block(512)).ok());
  for (uint32_t bad : {0u, 1u, 3u, 24u, 128u}) {
    Status s = t.check_params(64, Block(bad));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.message().rfind("--int4-block: " + std::to_string(bad), 0), 0u) << s.message();
  }
}

TEST(TierInt4Test, DecodeStaysWithinTheRowBound) {
  const Tier& t = *FindTier("int4");
  for (uint32_t block : {32u, 16u, 8u}) {
    const TierParams p = Block(block);
    const size_t n = 8, d = 64;
    std::vector<float> src = test_util::TestTable(n, d, 12 + block);
    auto stored = test_util::EncodeTable(t, src, n, d, p);
    std::vector<float> back = test_util::DecodeTable(t, stored, n, d, p);
    std::vector<float> bound(d);
    float worst = 0;
    for (size_t r = 0; r < n; ++r) {
      const uint8_t* row[kMaxStreamed];
      for (int i = 0; i < t.num_streamed; ++i)
        row[i] = reinterpret_cast<const uint8_t*>(stored[i].data()) + r * TierRowBytes(t, i, d, p);
      t.row_bound(row, d, p, bound.data());
      for (size_t j = 0; j < d; ++j) {
        const float err = std::fabs(back[r * d + j] - src[r * d + j]);
        ASSERT_LE(err, bound[j]) << block << ": " << r << "," << j;
        worst = std::max(worst, err / bound[j]);
      }
    }
    // The bound is about half a quantisation step, not loose enough to pass anything.
    EXPECT_GT(worst, 0.3f) << block;
  }
}

TEST(TierInt4Test, GraphUsesOnlyOpset20OpsAndMatchesDecode) {
  const Tier& t = *FindTier("int4");
  for (uint32_t block : {32u, 8u}) {
    const TierParams p = Block(block);
    const size_t n = 6, d = 64;
    auto stored = test_util::EncodeTable(t, test_util::TestTable(n, d, 30 + block), n, d, p);
    onnx::ModelProto m = test_util::TierModel(t, stored, n, d, p);
    for (const std::string& op : test_util::NodeOps(m))
      EXPECT_TRUE(op == "Gather" || op == "Reshape" || op == "BitwiseAnd" || op == "BitShift" ||
                  op == "Concat" || op == "Cast" || op == "Sub" || op == "Mul" || op == "Add")
          << op;
    // Gather first: every conversion runs on the gathered rows only.
    EXPECT_EQ(m.graph().node(0).op_type(), "Gather");

    std::vector<float> decoded = test_util::DecodeTable(t, stored, n, d, p);
    test_util::TempDir dir;
    std::vector<int64_t> ids = {5, 0, 3, 3, 1};
    auto out = test_util::RunTierGraph(m, dir.path(), ids);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->size(), ids.size() * d);
    for (size_t k = 0; k < ids.size(); ++k)
      for (size_t j = 0; j < d; ++j)
        ASSERT_EQ(Bits((*out)[k * d + j]), Bits(decoded[ids[k] * d + j])) << block << ": " << k << "," << j;
  }
}

}  // namespace
}  // namespace embed2onnx
