#include "export/earlier_export.h"

#include <nlohmann/json.hpp>

#include "schema/names.h"
#include "tiers/tier.h"

namespace embed2onnx {

namespace {
using json = nlohmann::json;

// The last path component of `value` if it names a graph or a sidecar, else "".
std::string ExportFileName(const json& value) {
  if (!value.is_string()) return "";
  const std::string& path = value.get_ref<const std::string&>();
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (name.empty() || name[0] == '.') return "";
  return name.ends_with(".onnx") || name.ends_with(std::string(".onnx") + kSidecarSuffix) ? name : "";
}

void AddNamesOf(const json& map, std::set<std::string>* files) {
  if (!map.is_object()) return;
  for (const auto& [key, value] : map.items()) {
    std::string name = ExportFileName(value);
    if (!name.empty()) files->insert(name);
  }
}

EarlierExport Ours(const json& report) {
  EarlierExport e;
  e.origin = ReportOrigin::kOurs;
  if (report.contains(report_key::kTiers)) AddNamesOf(report[report_key::kTiers], &e.files);
  if (report.contains(report_key::kFiles) && report[report_key::kFiles].is_object()) {
    for (const auto& [tier, entry] : report[report_key::kFiles].items()) {
      if (!entry.is_object() || !entry.contains("sidecar")) continue;
      std::string name = ExportFileName(entry["sidecar"]);
      if (!name.empty()) e.files.insert(name);
    }
  }
  if (report.contains("splice") && report["splice"].is_object() && report["splice"].contains("graphs"))
    AddNamesOf(report["splice"]["graphs"], &e.files);
  return e;
}

EarlierExport Original(const json& report) {
  EarlierExport e;
  if (!report.contains(report_key::kTiers) || !report[report_key::kTiers].is_object()) return e;
  std::set<std::string> files;
  for (const auto& [tier, value] : report[report_key::kTiers].items()) {
    const Tier* t = FindTier(tier);
    if (!t || (tier != "fp32" && tier != "fp16w" && tier != "int8")) return e;
    std::string name = ExportFileName(value);
    if (name != t->file_name) return e;
    files.insert(name);
    files.insert(SidecarName(name));
  }
  e.origin = ReportOrigin::kOriginal;
  e.files = std::move(files);
  return e;
}
}  // namespace

EarlierExport ParseEarlierReport(const std::string& text) {
  // No exceptions: invalid JSON (or UTF-8) gives a discarded value.
  json report = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded() || !report.is_object()) return {};
  if (!report.contains(report_key::kTool)) return Original(report);
  const json& tool = report[report_key::kTool];
  if (tool.is_object() && tool.contains(report_key::kToolNameField) &&
      tool[report_key::kToolNameField] == kToolName)
    return Ours(report);
  return {};
}

}  // namespace embed2onnx
