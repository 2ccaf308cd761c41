// Which files a report says an earlier export left: ours, the original script's, and
// reports that make us remove nothing.
#include "export/earlier_export.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

using Names = std::set<std::string>;

TEST(EarlierExportTest, OurReportListsGraphsSidecarsAndSpliceGraphs) {
  EarlierExport e = ParseEarlierReport(R"({
    "tiers": {"fp32": "embed_tokens.onnx", "int8": "exports/g/embed_tokens_int8.onnx"},
    "files": {"fp32": {"sidecar": null, "onnx_bytes": 10},
              "int8": {"sidecar": "exports/g/embed_tokens_int8.onnx_data"}},
    "splice": {"graphs": {"int8": "exports/g/embed_tokens_int8_audio.onnx"}},
    "tool": {"name": "embed2onnx", "version": "0.1.0"}})");
  EXPECT_EQ(e.origin, ReportOrigin::kOurs);
  EXPECT_EQ(e.files, (Names{"embed_tokens.onnx", "embed_tokens_int8.onnx", "embed_tokens_int8.onnx_data",
                            "embed_tokens_int8_audio.onnx"}));
}

TEST(EarlierExportTest, OnlyNamesAGraphOrSidecarCanHaveCount) {
  EarlierExport e = ParseEarlierReport(R"({
    "tiers": {"fp32": "notes.txt", "a": "../..", "b": "dir/", "c": 7, "d": ".hidden.onnx",
              "int8": "embed_tokens_int8.onnx"},
    "files": {"int8": {"sidecar": "../../etc/passwd"}, "x": "not an object"},
    "tool": {"name": "embed2onnx"}})");
  EXPECT_EQ(e.origin, ReportOrigin::kOurs);
  EXPECT_EQ(e.files, (Names{"embed_tokens_int8.onnx"}));
}

TEST(EarlierExportTest, TheOriginalScriptsReportListsItsTiersAndTheirSidecars) {
  EarlierExport e = ParseEarlierReport(R"({"variant": "base", "info": {},
    "tiers": {"fp32": "exports/granite-speech-4.1-2b/embed_tokens.onnx",
              "int8": "exports/granite-speech-4.1-2b/embed_tokens_int8.onnx"},
    "parity": {}})");
  EXPECT_EQ(e.origin, ReportOrigin::kOriginal);
  EXPECT_EQ(e.files, (Names{"embed_tokens.onnx", "embed_tokens.onnx_data", "embed_tokens_int8.onnx",
                            "embed_tokens_int8.onnx_data"}));
}

TEST(EarlierExportTest, AnythingElseListsNothing) {
  for (const char* text : {
           "", "not json", "[1, 2]",
           R"({"tiers": {"fp32": "embed_tokens.onnx"}, "tool": {"name": "other-tool"}})",
           R"({"tiers": {"fp32": "embed_tokens.onnx"}, "tool": "embed2onnx"})",
           // Without a tool key it must look exactly like the original's.
           R"({"tiers": {"bf16w": "embed_tokens_bf16w.onnx"}})",
           R"({"tiers": {"fp32": "embed_tokens_int8.onnx"}})",
           R"({"tiers": {"fp32": "embed_tokens.onnx", "int8": "mine.onnx"}})",
           R"({"tiers": ["embed_tokens.onnx"]})",
           "{\"tiers\": {\"fp32\": \"\xff\xfe.onnx\"}}",  // invalid UTF-8
       }) {
    EarlierExport e = ParseEarlierReport(text);
    EXPECT_EQ(e.origin, ReportOrigin::kOther) << text;
    EXPECT_TRUE(e.files.empty()) << text;
  }
}

}  // namespace
}  // namespace embed2onnx
