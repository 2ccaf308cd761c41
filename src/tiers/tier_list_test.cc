#include <gtest/gtest.h>

#include "embed2onnx/tiers.h"
#include "tiers/tier.h"

namespace embed2onnx {
namespace {

TEST(TierListTest, ParsesCommaListInOrderWithoutDuplicates) {
  auto r = ParseTierList(" int8, fp32 ,int8");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<std::string>{"int8", "fp32"}));
}

TEST(TierListTest, UnknownNameIsRefusedByName) {
  auto r = ParseTierList("fp32,bogus");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'bogus'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("--tiers"), std::string::npos);
}

TEST(TierListTest, CloseNameGetsSuggestion) {
  auto r = ParseTierList("fp16");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("did you mean 'fp16w'"), std::string::npos) << r.status().message();
}

TEST(TierListTest, EmptyListIsRefused) {
  EXPECT_FALSE(ParseTierList(" , ").ok());
  EXPECT_FALSE(ParseTierList("").ok());
}

TEST(TierListTest, AllIsEveryTierInTableOrder) {
  auto all = ParseTierList("all");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(*all, TierNames());
  auto mixed = ParseTierList("int8, all");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->front(), "int8");
  EXPECT_EQ(mixed->size(), TierNames().size());
}

TEST(TierTableTest, NamesFilesAndHelpComeFromOneTable) {
  EXPECT_EQ(TierNames(), (std::vector<std::string>{"fp32", "fp16w", "bf16w", "int8", "int4"}));
  std::string help = TierHelpText();
  for (const Tier& t : AllTiers()) {
    EXPECT_NE(help.find(t.file_name), std::string::npos);
    EXPECT_EQ(FindTier(t.name), &t);
    EXPECT_GE(t.num_streamed, 1);
  }
  EXPECT_EQ(FindTier("nope"), nullptr);
  EXPECT_EQ(std::string(FindTier("int8")->stats_key), "int8_table_quant_stats");
  EXPECT_EQ(TierRowBytes(*FindTier("int8"), 1, 2048, TierParams{}), 4u);  // one float scale per row
  EXPECT_EQ(TierRowBytes(*FindTier("fp16w"), 0, 2048, TierParams{}), 4096u);
}

}  // namespace
}  // namespace embed2onnx
