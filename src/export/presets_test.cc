#include "embed2onnx/presets.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

TEST(PresetsTest, BasePlusNarInThatOrder) {
  const std::vector<Preset>& p = GranitePresets();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].variant, "base");
  EXPECT_EQ(p[1].variant, "plus");
  EXPECT_EQ(p[2].variant, "nar");
}

TEST(PresetsTest, FoldersAndTensorsFollowSpec6) {
  const Preset* base = FindPreset("base");
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(base->model_subdir, "models/granite-speech-4.1-2b");
  EXPECT_EQ(base->export_subdir, "exports/granite-speech-4.1-2b");
  ASSERT_FALSE(base->tensors.empty());
  EXPECT_EQ(base->tensors[0], "language_model.model.embed_tokens.weight");
  const Preset* plus = FindPreset("plus");
  ASSERT_NE(plus, nullptr);
  EXPECT_EQ(plus->model_subdir, "models/granite-speech-4.1-2b-plus");
  EXPECT_EQ(plus->export_subdir, "exports/granite-speech-4.1-2b-plus");
  const Preset* nar = FindPreset("nar");
  ASSERT_NE(nar, nullptr);
  EXPECT_EQ(nar->model_subdir, "models/granite-speech-4.1-2b-nar");
  EXPECT_EQ(nar->export_subdir, "exports/granite-speech-4.1-2b-nar");
  // The older revision's name is preferred, the newer one accepted.
  ASSERT_GE(nar->tensors.size(), 2u);
  EXPECT_EQ(nar->tensors[0], "llm.model.embed_tokens.weight");
  EXPECT_EQ(nar->tensors[1], "language_model.model.embed_tokens.weight");
  // The transformers-native layouts (SPEC §9) are accepted too, after the published ones.
  EXPECT_EQ(nar->tensors.back(), "model.language_model.embed_tokens.weight");
  EXPECT_EQ(base->tensors.back(), "model.language_model.embed_tokens.weight");
  for (const Preset& p : GranitePresets()) EXPECT_EQ(p.audio_token_id, 100352) << p.variant;
}

TEST(PresetsTest, EachVariantFindsItsOwnRowAndNothingElseMatches) {
  for (const Preset& p : GranitePresets()) EXPECT_EQ(FindPreset(p.variant), &p);
  EXPECT_EQ(FindPreset("all"), nullptr);  // "all" is the CLI's, not a preset
  EXPECT_EQ(FindPreset("Base"), nullptr);
  EXPECT_EQ(FindPreset(""), nullptr);
}

TEST(PresetsTest, ProducerFieldsOfTheBundle) {
  EXPECT_STREQ(kGraniteProducerName, "granite-speech-4.1-onnx");
  EXPECT_STREQ(kGraniteProducerVersion, "embed_tokens-1");
}

}  // namespace
}  // namespace embed2onnx
