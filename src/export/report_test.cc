// The report's paths and names: never a throw on bytes that are not UTF-8, and the exact
// bytes kept beside a readable form (util/json_text.h).
#include "export/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "util/json_text.h"

namespace embed2onnx {
namespace {

ExportSummary Summary(const std::string& checkpoint, const std::string& out_dir) {
  ExportSummary s;
  s.tensor = "model.embed_tokens.weight";
  s.dtype = "BF16";
  s.checkpoint = checkpoint;
  s.vocab = 4;
  s.hidden = 2;
  TierOutcome t;
  t.tier = "fp32";
  t.onnx_path = out_dir + "/embed_tokens.onnx";
  t.sidecar_path = out_dir + "/embed_tokens.onnx_data";
  t.parity_shape = {1, 3, 2};
  s.tiers.push_back(t);
  return s;
}

TEST(Report, PathsThatAreUtf8HaveNoHexTwin) {
  nlohmann::json r = nlohmann::json::parse(
      RenderReport(Summary("/m/ck/model.safetensors", "/x/out"), "", "/x/out", {0, 1, 3}));
  EXPECT_EQ(r["info"]["checkpoint"], "/m/ck/model.safetensors");
  EXPECT_FALSE(r["info"].contains("checkpoint_hex"));
  EXPECT_EQ(r["tiers"]["fp32"], "embed_tokens.onnx");
  EXPECT_FALSE(r.contains("tiers_hex"));
  EXPECT_EQ(r["files"]["fp32"]["sidecar"], "embed_tokens.onnx_data");
  EXPECT_FALSE(r["files"]["fp32"].contains("sidecar_hex"));
}

TEST(Report, PathsThatAreBytesComeBackExactly) {
  const std::string ck = "/m/ck\xff\xfe/model.safetensors";
  // Tier paths outside the folder they are relative to climb out through the odd name.
  const std::string text = RenderReport(Summary(ck, "/x/out\xff"), "", "/x/base", {0, 1, 3});
  ASSERT_TRUE(IsValidUtf8(text));
  nlohmann::json r = nlohmann::json::parse(text);
  EXPECT_EQ(r["info"]["checkpoint"], "/m/ck\xEF\xBF\xBD\xEF\xBF\xBD/model.safetensors");
  EXPECT_EQ(*ReadText(r["info"], "checkpoint"), ck);
  EXPECT_EQ(r["tiers"]["fp32"], "../out\xEF\xBF\xBD/embed_tokens.onnx");
  EXPECT_EQ(*FromHex(r["tiers_hex"]["fp32"].get<std::string>(), "tiers_hex"), "../out\xff/embed_tokens.onnx");
  EXPECT_EQ(*ReadText(r["files"]["fp32"], "sidecar"), "../out\xff/embed_tokens.onnx_data");
  EXPECT_EQ(r["info"]["tensor"], "model.embed_tokens.weight");
}

}  // namespace
}  // namespace embed2onnx
