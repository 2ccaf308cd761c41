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

using ojson = nlohmann::ordered_json;

std::vector<std::string> Keys(const ojson& j) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  return keys;
}

// `want` appear in `keys` in this order (other keys may sit between them).
::testing::AssertionResult InOrder(const std::vector<std::string>& keys,
                                   const std::vector<std::string>& want) {
  size_t at = 0;
  for (const std::string& k : keys)
    if (at < want.size() && k == want[at]) ++at;
  if (at == want.size()) return ::testing::AssertionSuccess();
  std::string got;
  for (const std::string& k : keys) got += k + " ";
  return ::testing::AssertionFailure() << "missing or out of order: '" << want[at] << "' in " << got;
}

ExportSummary FullSummary() {
  ExportSummary s;
  s.tensor = "language_model.model.embed_tokens.weight";
  s.dtype = "BF16";
  s.checkpoint = "granite-speech-4.1-2b";
  s.vocab = 100353;
  s.hidden = 2048;
  for (const char* tier : {"fp32", "int8", "int4"}) {
    TierOutcome t;
    t.tier = tier;
    t.onnx_path =
        std::string("/r/exports/g/") +
        (std::string(tier) == "fp32" ? "embed_tokens.onnx" : "embed_tokens_" + std::string(tier) + ".onnx");
    t.sidecar_path = t.onnx_path + "_data";
    t.parity_shape = {1, 8, 2048};
    t.parity.max_abs_err = std::string(tier) == "fp32" ? 0.0 : 0.25;
    s.tiers.push_back(t);
  }
  s.table_stats["int8_table_quant_stats"] = {0.5, 0.125, 0.375, false, 0};
  s.table_stats["int4_table_quant_stats"] = {1.5, 0.25, 1.0, true, 0.996};
  return s;
}

TEST(ReportTest, RelativePathIsRelativeToTheBase) {
  EXPECT_EQ(RelativePath("/r/exports/g/embed_tokens.onnx", "/r"), "exports/g/embed_tokens.onnx");
  EXPECT_EQ(RelativePath("/r/exports/g/embed_tokens.onnx", "/r/exports/g"), "embed_tokens.onnx");
  EXPECT_EQ(RelativePath("/r/exports/./g/../g/x.onnx", "/r/"), "exports/g/x.onnx");  // normalised first
  EXPECT_EQ(RelativePath("/a/x.onnx", "/b/c"), "../../a/x.onnx");
}

TEST(ReportTest, KeysOfTheOriginalComeFirstAndInItsOrder) {
  ojson r = ojson::parse(RenderReport(FullSummary(), "base", "/r", {0, 1, 100}));
  // SPEC §5: these keys, in this order; more may follow.
  EXPECT_TRUE(InOrder(Keys(r), {"variant", "info", "tiers", "parity", "int8_table_quant_stats"}));
  EXPECT_EQ(Keys(r)[0], "variant");
  EXPECT_EQ(r["variant"], "base");
  EXPECT_TRUE(InOrder(Keys(r["info"]), {"variant", "embed_attr", "vocab_size", "hidden_size"}));
  EXPECT_EQ(r["info"]["embed_attr"], "language_model.model.embed_tokens");  // the name without .weight
  EXPECT_EQ(r["info"]["vocab_size"], 100353);
  EXPECT_EQ(r["info"]["hidden_size"], 2048);
  EXPECT_EQ(Keys(r["tiers"]), (std::vector<std::string>{"fp32", "int8", "int4"}));  // export order
  EXPECT_EQ(r["tiers"]["fp32"], "exports/g/embed_tokens.onnx");
  EXPECT_EQ(r["tiers"]["int8"], "exports/g/embed_tokens_int8.onnx");
  EXPECT_TRUE(
      InOrder(Keys(r["parity"]["int8"]), {"shape", "dtype", "max_abs_err", "mean_abs_err", "p99_abs_err"}));
  EXPECT_EQ(r["parity"]["int8"]["shape"], (std::vector<int64_t>{1, 8, 2048}));
  EXPECT_EQ(r["parity"]["int8"]["dtype"], "float32");
  EXPECT_EQ(r["parity"]["int8"]["max_abs_err"], 0.25);
  EXPECT_EQ(r["sample_ids"], (std::vector<int64_t>{0, 1, 100}));
}

TEST(ReportTest, TableStatisticsCarryCosineOnlyWhereReported) {
  ojson r = ojson::parse(RenderReport(FullSummary(), "", "/r/exports/g", {}));
  EXPECT_TRUE(r["variant"].is_null());  // generic mode: no preset
  EXPECT_TRUE(r["info"]["variant"].is_null());
  EXPECT_EQ(r["tiers"]["fp32"], "embed_tokens.onnx");
  const ojson& i8 = r["int8_table_quant_stats"];
  EXPECT_TRUE(InOrder(Keys(i8), {"max_abs_err", "mean_abs_err", "p99_abs_err"}));
  EXPECT_EQ(i8["max_abs_err"], 0.5);
  EXPECT_EQ(i8["mean_abs_err"], 0.125);
  EXPECT_EQ(i8["p99_abs_err"], 0.375);
  EXPECT_FALSE(i8.contains("mean_row_cosine"));
  EXPECT_EQ(r["int4_table_quant_stats"]["mean_row_cosine"], 0.996);
}

TEST(ReportTest, WholeTableStatisticsFollowTheTierTableOrder) {
  // The map holds int4's key before int8's; the report lists them as the tiers go.
  ojson r = ojson::parse(RenderReport(FullSummary(), "", "/r/exports/g", {}));
  EXPECT_TRUE(InOrder(Keys(r), {"int8_table_quant_stats", "int4_table_quant_stats"}));
}

TEST(ReportTest, RecordsWhereVerifyFindsTheCheckpointAndTheSchemaVersion) {
  ExportSummary s = FullSummary();
  s.checkpoint = "/r/models/g/model.safetensors";
  s.checkpoint_name = "g";
  s.report_path = "/r/exports/g/embed_tokens_parity.json";
  s.int4_block = 16;
  s.left_out = {{"bf16w", "a reason"}};
  ojson r = ojson::parse(RenderReport(s, "base", "/r", {0}));
  EXPECT_EQ(r["info"]["checkpoint_relative"],
            "../../models/g/model.safetensors");  // from the report's folder
  EXPECT_EQ(r["info"]["checkpoint_absolute"], "/r/models/g/model.safetensors");
  EXPECT_EQ(r["info"]["checkpoint_name"], "g");
  EXPECT_EQ(r["schema_version"], kReportSchemaVersion);
  EXPECT_TRUE(r["schema_version"].is_number_integer());
  EXPECT_EQ(r["tier_params"]["int4"]["block"], 16);
  EXPECT_EQ(r["left_out"]["bf16w"], "a reason");
  // Without int4 or anything left out, neither key.
  s.int4_block = 0;
  s.left_out.clear();
  r = ojson::parse(RenderReport(s, "base", "/r", {0}));
  EXPECT_FALSE(r.contains("tier_params"));
  EXPECT_FALSE(r.contains("left_out"));
}

}  // namespace
}  // namespace embed2onnx
