// embed_tokens_parity.json (SPEC §5): the keys of the original script's report, in its
// order, plus a few more (tool, tensor, dtype, sizes, sample ids, timings).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "embed2onnx/export.h"
#include "embed2onnx/status.h"
#include "schema/names.h"

namespace embed2onnx {

// Renders the report. `paths_base` is the folder tier paths are relative to.
std::string RenderReport(const ExportSummary& s, const std::string& variant, const std::string& paths_base,
                         const std::vector<int64_t>& sample_ids);

// The token keys of the report's "splice" (and export --json's): audio_token_id, source
// and token_text (the tokenizer's text for it, null without tokenizer files) when there is
// an audio token; image_token_id and image_token_text when there is an image token.
nlohmann::ordered_json SpliceTokenKeys(const ExportSummary& s);

// The report's schema_version (docs/format.md says what bumps it).
inline constexpr int kReportSchemaVersion = 1;

// `path` made absolute against the working folder and normalised.
std::string AbsolutePath(const std::string& path);

// `path` relative to `base` ("exports/x/embed_tokens.onnx"), both made absolute first.
std::string RelativePath(const std::string& path, const std::string& base);

}  // namespace embed2onnx
