// --output-dtype float16: every tier's graph outputs FLOAT16, its float32 result rounded
// once to nearest even (fp16w: its stored rows, with no Cast at all), and declares so.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "numerics/half.h"
#include "tiers/tier.h"
#include "tiers/tier_test_util.h"

namespace embed2onnx {
namespace {

TierParams HalfOutput() {
  TierParams p;
  p.int4_block = 8;
  p.output_elem = onnx::TensorProto::FLOAT16;
  return p;
}

// The graph evaluated on `ids`, as the fp16 bits it outputs.
std::vector<uint16_t> RunHalfGraph(const onnx::ModelProto& m, const std::string& dir,
                                   const std::vector<int64_t>& ids) {
  const std::string path = dir + "/m.onnx";
  test_util::WriteFile(path, m.SerializeAsString());
  auto model = LoadedModel::Load(path);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return {};
  auto out = EvaluateLookup(**model, MakeIdsTensor(ids, 1, static_cast<int64_t>(ids.size())));
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return {};
  EXPECT_EQ(out->elem_type, onnx::TensorProto::FLOAT16);
  std::vector<uint16_t> v(out->count());
  std::memcpy(v.data(), out->data.data(), v.size() * 2);
  return v;
}

TEST(TierOutputTest, OutputNamesRoundTrip) {
  EXPECT_EQ(OutputElemFromName("float32"), onnx::TensorProto::FLOAT);
  EXPECT_EQ(OutputElemFromName("float16"), onnx::TensorProto::FLOAT16);
  EXPECT_EQ(OutputElemFromName("fp16"), 0);
  EXPECT_STREQ(OutputDTypeName(onnx::TensorProto::FLOAT16), "float16");
  EXPECT_STREQ(OutputDTypeName(onnx::TensorProto::FLOAT), "float32");
  EXPECT_EQ(OutputDTypeName(onnx::TensorProto::BFLOAT16), nullptr);
}

TEST(TierOutputTest, EveryTierOutputsItsFloat32ResultRoundedToHalf) {
  const size_t n = 8, d = 16;
  std::vector<float> src = test_util::TestTable(n, d, 11);
  // Row 5 stresses the final rounding: a tie that goes to even, a subnormal, -0.0 and
  // a value past fp16's range.
  src[5 * d + 0] = 1.0f + 1.0f / 2048;
  src[5 * d + 1] = 3e-7f;
  src[5 * d + 2] = -0.0f;
  src[5 * d + 3] = 70000.0f;
  const TierParams p = HalfOutput();
  std::vector<int64_t> ids = {5, 0, 7, 2, 5, 3};
  for (const Tier& t : AllTiers()) {
    SCOPED_TRACE(t.name);
    auto stored = test_util::EncodeTable(t, src, n, d, p);
    std::vector<float> decoded = test_util::DecodeTable(t, stored, n, d, p);
    onnx::ModelProto m = test_util::TierModel(t, stored, n, d, p);
    EXPECT_EQ(m.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT16);
    const onnx::NodeProto& last = m.graph().node(m.graph().node_size() - 1);
    EXPECT_EQ(last.output(0), kOutputName);
    if (std::string(t.name) == "fp16w") {
      // The stored rows are the output: a Cast to float32 and back would only cost time.
      EXPECT_EQ(test_util::NodeOps(m), (std::vector<std::string>{"Gather"}));
    } else {
      EXPECT_EQ(last.op_type(), "Cast");
      ASSERT_EQ(last.attribute_size(), 1);
      EXPECT_EQ(last.attribute(0).i(), onnx::TensorProto::FLOAT16);
    }
    test_util::TempDir dir;
    std::vector<uint16_t> got = RunHalfGraph(m, dir.path(), ids);
    ASSERT_EQ(got.size(), ids.size() * d);
    for (size_t k = 0; k < ids.size(); ++k)
      for (size_t j = 0; j < d; ++j)
        ASSERT_EQ(got[k * d + j], FloatToHalf(decoded[static_cast<size_t>(ids[k]) * d + j]))
            << "id " << ids[k] << " col " << j;
  }
  // The edge values themselves, through the exact tier.
  test_util::TempDir dir;
  const Tier& fp32 = *FindTier("fp32");
  std::vector<uint16_t> row = RunHalfGraph(
      test_util::TierModel(fp32, test_util::EncodeTable(fp32, src, n, d, p), n, d, p), dir.path(), {5});
  ASSERT_EQ(row.size(), d);
  EXPECT_EQ(row[0], 0x3c00u);  // the tie goes to the even neighbour, 1.0
  EXPECT_EQ(row[1], 0x0005u);  // 3e-7 is 5.03 * 2^-24: a subnormal, kept
  EXPECT_EQ(row[2], 0x8000u);  // -0.0 keeps its sign
  EXPECT_EQ(row[3], 0x7c00u);  // beyond 65504: +inf
}

TEST(TierOutputTest, Float32OutputGraphsAreUnchanged) {
  // The default writes what it wrote before the option: no extra node, FLOAT declared.
  const size_t n = 4, d = 8;
  TierParams p;
  p.int4_block = 8;
  for (const Tier& t : AllTiers()) {
    SCOPED_TRACE(t.name);
    onnx::ModelProto m =
        test_util::TierModel(t, test_util::EncodeTable(t, test_util::TestTable(n, d, 3), n, d, p), n, d, p);
    EXPECT_EQ(m.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
    for (const auto& node : m.graph().node()) EXPECT_NE(node.name(), "EmbedTokens_Cast_output_fp16");
  }
}

}  // namespace
}  // namespace embed2onnx
