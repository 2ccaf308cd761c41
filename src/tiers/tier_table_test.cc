#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

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

// A tier's one-sweep errors equal decode then float32 fabs of the difference, bit for
// bit, on rows of several widths (vector bodies and scalar tails) and magnitudes.
TEST(TierTableTest, OneSweepErrorsEqualDecodeThenDifference) {
  int checked = 0;
  for (const Tier& t : AllTiers()) {
    if (!t.abs_errors) continue;
    EXPECT_NE(t.stats_key, nullptr) << t.name;  // errors are what the figures are made of
    ++checked;
    std::mt19937 rng(6);
    for (size_t d : {32u, 48u, 64u, 2048u}) {
      TierParams p;
      p.int4_block = 16;
      if (t.check_params && !t.check_params(d, p).ok()) continue;
      const size_t n = 5;
      std::normal_distribution<float> dist(0.0f, d == 48 ? 300.0f : 0.05f);
      std::vector<float> x(n * d);
      for (float& v : x) v = dist(rng);
      x[3] = 0.0f;
      std::vector<std::vector<uint8_t>> enc;
      uint8_t* outs[kMaxStreamed];
      const uint8_t* stored[kMaxStreamed];
      for (int i = 0; i < t.num_streamed; ++i) enc.emplace_back(n * TierRowBytes(t, i, d, p));
      for (int i = 0; i < t.num_streamed; ++i) stored[i] = outs[i] = enc[static_cast<size_t>(i)].data();
      t.encode(x.data(), n, d, p, outs);
      std::vector<float> want(n * d), got(n * d, -1.0f);
      t.decode(stored, n, d, p, want.data());
      for (size_t j = 0; j < want.size(); ++j) want[j] = std::fabs(want[j] - x[j]);
      t.abs_errors(stored, n, d, p, x.data(), got.data());
      for (size_t j = 0; j < want.size(); ++j) {
        uint32_t a, b;
        std::memcpy(&a, &want[j], 4);
        std::memcpy(&b, &got[j], 4);
        ASSERT_EQ(a, b) << t.name << " d " << d << " at " << j;
      }
    }
  }
  EXPECT_GE(checked, 1);  // int8's
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
