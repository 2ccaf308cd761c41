// Which files an earlier export left in an output folder, as its report lists them.
//
// A new export removes the graphs and sidecars of an earlier one that it does not
// rewrite, so that the folder describes itself (OutputDir::Commit); only files a report
// of ours or of the original Python script lists are ever removed.
//   - Ours (`tool.name` is "embed2onnx"): `tiers` (tier -> graph path),
//     `files.<tier>.sidecar` (sidecar path or null), `splice.graphs` (tier -> path).
//   - The original script's (no `tool` key): `tiers` holds its three tiers, fp32, fp16w
//     and int8, each saved with one sidecar "<graph>_data". It is recognised only when
//     every tier is one of those three and its path ends in that tier's file name.
// Paths in a report are relative to the folder or to a preset root, so only the last
// component counts, and only names a graph or a sidecar can have (".onnx",
// ".onnx_data"): a report never makes us remove anything else.
#pragma once

#include <set>
#include <string>

namespace embed2onnx {

enum class ReportOrigin { kOurs, kOriginal, kOther };

struct EarlierExport {
  ReportOrigin origin = ReportOrigin::kOther;
  std::set<std::string> files;  // plain file names in the folder; empty for kOther
};

// Never fails: text that is not such a report is kOther.
EarlierExport ParseEarlierReport(const std::string& text);

}  // namespace embed2onnx
