#include <gtest/gtest.h>

#include <set>
#include <string>

#include "onnx/graph_util.h"
#include "tiers/tier.h"

namespace embed2onnx {
namespace {

TEST(TierTableTest, TheOriginalThreeFilesKeepTheirNames) {
  // SPEC §3: the files the original script writes.
  EXPECT_EQ(std::string(FindTier("fp32")->file_name), "embed_tokens.onnx");
  EXPECT_EQ(std::string(FindTier("fp16w")->file_name), "embed_tokens_fp16w.onnx");
  EXPECT_EQ(std::string(FindTier("int8")->file_name), "embed_tokens_int8.onnx");
  EXPECT_EQ(std::string(FindTier("fp32")->graph_name), "embed_tokens_fp32");
}

TEST(TierTableTest, FindsTiersByFileName) {
  for (const Tier& t : AllTiers()) EXPECT_EQ(FindTierByFileName(t.file_name), &t) << t.name;
  EXPECT_EQ(FindTierByFileName("embed_tokens_int8.onnx_data"), nullptr);
  EXPECT_EQ(FindTierByFileName("int8"), nullptr);  // a tier name is not a file name
  EXPECT_EQ(FindTierByFileName(""), nullptr);
}

TEST(TierTableTest, FilePrefixIsWhatEveryFileNameStartsWith) {
  const std::string& prefix = TierFilePrefix();
  EXPECT_EQ(prefix, "embed_tokens");
  for (const Tier& t : AllTiers()) EXPECT_EQ(std::string(t.file_name).rfind(prefix, 0), 0u) << t.file_name;
}

TEST(TierTableTest, OnlyFp32OutputsTheSourceExactly) {
  std::set<std::string> exact;
  for (const Tier& t : AllTiers())
    if (t.exact_output) exact.insert(t.name);
  EXPECT_EQ(exact, (std::set<std::string>{"fp32"}));
}

TEST(TierTableTest, QuantisedTiersHaveStatsAndABound) {
  for (const Tier& t : AllTiers()) {
    const bool quantised = std::string(t.name) == "int8" || std::string(t.name) == "int4";
    EXPECT_EQ(t.stats_key != nullptr, quantised) << t.name;
    EXPECT_EQ(t.row_bound != nullptr, quantised) << t.name;
  }
  EXPECT_EQ(std::string(FindTier("int4")->stats_key), "int4_table_quant_stats");
  EXPECT_TRUE(FindTier("int4")->report_cosine);
  EXPECT_FALSE(FindTier("int8")->report_cosine);  // the original's report has no cosine
}

TEST(TierTableTest, EveryRowHasTheFunctionsItsKindNeeds) {
  for (const Tier& t : AllTiers()) {
    EXPECT_NE(t.encode, nullptr) << t.name;
    EXPECT_NE(t.decode, nullptr) << t.name;
    EXPECT_NE(t.build_graph, nullptr) << t.name;
    // A quantised tier is checked against its bound; the others must match exactly.
    EXPECT_EQ(t.stats_key != nullptr, t.row_bound != nullptr) << t.name;
  }
}

TEST(TierTableTest, StreamedInitializersAreDescribedConsistently) {
  std::set<std::string> names;
  for (const Tier& t : AllTiers()) {
    names.insert(t.name);
    ASSERT_GE(t.num_streamed, 1);
    ASSERT_LE(t.num_streamed, kMaxStreamed);
    for (int i = 0; i < t.num_streamed; ++i) {
      const StreamedInitializer& s = t.streamed[i];
      EXPECT_EQ(s.elem_bytes, OnnxElemBytes(s.elem_type)) << t.name << " " << s.name;
    }
    for (int i = t.num_streamed; i < kMaxStreamed; ++i) EXPECT_EQ(t.streamed[i].name, nullptr);
  }
  EXPECT_EQ(names.size(), AllTiers().size());
}

TEST(TierTableTest, RowSizesFollowTheRowShape) {
  TierParams p;
  p.int4_block = 16;
  const Tier& int4 = *FindTier("int4");
  EXPECT_EQ(TierRowElems(*FindTier("fp32"), 0, 2048, p), 2048u);  // kD
  EXPECT_EQ(TierRowElems(*FindTier("int8"), 1, 2048, p), 1u);     // kOne
  EXPECT_EQ(TierRowElems(int4, 0, 2048, p), 1024u);               // kInt4Codes
  EXPECT_EQ(TierRowDims(int4, 0, 2048, p), (std::vector<int64_t>{8, 128}));
  EXPECT_EQ(TierRowElems(int4, 1, 2048, p), 128u);  // kInt4Blocks
  EXPECT_EQ(TierRowDims(int4, 1, 2048, p), (std::vector<int64_t>{1, 128}));
  EXPECT_EQ(TierRowDims(*FindTier("int8"), 1, 2048, p), (std::vector<int64_t>{}));
  EXPECT_EQ(TierRowBytes(*FindTier("fp32"), 0, 2048, p), 8192u);
  EXPECT_EQ(TierRowBytes(int4, 2, 2048, p), 128u);  // int8 offsets
}

}  // namespace
}  // namespace embed2onnx
