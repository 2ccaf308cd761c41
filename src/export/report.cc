#include "export/report.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tiers/tier.h"
#include "util/json_text.h"

namespace embed2onnx {

namespace {
nlohmann::ordered_json Figures(const ErrorFigures& f) {
  nlohmann::ordered_json j = {
      {"max_abs_err", f.max_abs_err}, {"mean_abs_err", f.mean_abs_err}, {"p99_abs_err", f.p99_abs_err}};
  if (f.has_cosine) j["mean_row_cosine"] = f.mean_row_cosine;
  return j;
}

std::string EmbedAttr(const std::string& tensor) {
  const std::string suffix = ".weight";
  if (tensor.size() > suffix.size() &&
      tensor.compare(tensor.size() - suffix.size(), suffix.size(), suffix) == 0)
    return tensor.substr(0, tensor.size() - suffix.size());
  return tensor;
}
}  // namespace

std::string RelativePath(const std::string& path, const std::string& base) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(path, ec).lexically_normal();
  fs::path b = fs::absolute(base, ec).lexically_normal();
  fs::path rel = p.lexically_relative(b);
  return rel.empty() ? p.string() : rel.string();
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

nlohmann::ordered_json SpliceTokenKeys(const ExportSummary& s) {
  using json = nlohmann::ordered_json;
  json keys = json::object();
  if (!s.audio_token_source.empty()) {
    keys[report_key::kSpliceAudioTokenId] = s.audio_token_id;
    keys[report_key::kSpliceSource] = s.audio_token_source;
    keys["token_text"] = s.audio_token_text.empty() ? json() : json(JsonText(s.audio_token_text));
  }
  if (s.image_token_id) {
    keys[report_key::kSpliceImageTokenId] = *s.image_token_id;
    keys["image_token_text"] = s.image_token_text.empty() ? json() : json(JsonText(s.image_token_text));
  }
  return keys;
}

std::string RenderReport(const ExportSummary& s, const std::string& variant, const std::string& paths_base,
                         const std::vector<int64_t>& sample_ids) {
  using json = nlohmann::ordered_json;
  json variant_value = variant.empty() ? json(nullptr) : json(variant);
  json report;
  report["variant"] = variant_value;
  // Paths are bytes: one that is not UTF-8 is written readable plus exact ("<key>_hex",
  // util/json_text.h); ReadText gives the bytes back.
  json info = {{"variant", variant_value}};
  SetText(info, "embed_attr", EmbedAttr(s.tensor));
  info["vocab_size"] = s.vocab;
  info["hidden_size"] = s.hidden;
  SetText(info, "tensor", s.tensor);
  info["dtype"] = s.dtype;
  SetText(info, "checkpoint", s.checkpoint);
  // Where verify finds the checkpoint again: relative to the report's own folder (valid
  // when export and checkpoint move together), and absolute (when only the export moves).
  const std::string report_dir = std::filesystem::path(s.report_path).parent_path().string();
  SetText(info, report_key::kCheckpointRelative,
          RelativePath(s.checkpoint, report_dir.empty() ? "." : report_dir));
  SetText(info, report_key::kCheckpointAbsolute, AbsolutePath(s.checkpoint));
  SetText(info, "checkpoint_name", s.checkpoint_name);
  // config.json (SPEC §9), when there is one: what the LLM does with the table that the
  // table itself cannot say.
  if (s.config.present) {
    json config = json::object();
    SetText(config, "path", RelativePath(s.config.path, paths_base));
    config["model_type"] = s.config.model_type;
    info["tie_word_embeddings"] = s.config.tie_word_embeddings ? json(*s.config.tie_word_embeddings) : json();
    info["audio_token_id"] = s.config.audio_token_id ? json(*s.config.audio_token_id) : json();
    info["embedding_multiplier"] =
        s.config.embedding_multiplier ? json(*s.config.embedding_multiplier) : json();
    info["config"] = config;
  }
  if (!s.hf_repo.empty()) {
    SetText(info, report_key::kHfRepo, s.hf_repo);
    SetText(info, report_key::kHfRevision, s.hf_revision);
    info[report_key::kHfCommit] = s.hf_commit;
  }
  report["info"] = info;
  report[report_key::kOutputDType] = s.output_dtype;
  json tiers = json::object(), tiers_hex = json::object(), parity = json::object(), files = json::object();
  for (const TierOutcome& t : s.tiers) {
    const std::string onnx = RelativePath(t.onnx_path, paths_base);
    tiers[t.tier] = JsonText(onnx);
    if (!IsValidUtf8(onnx)) tiers_hex[t.tier] = ToHex(onnx);
    json p = {{"shape", t.parity_shape}, {"dtype", s.output_dtype}};
    p.update(Figures(t.parity));
    parity[t.tier] = p;
    json f = {{"onnx_bytes", t.onnx_bytes}, {"sidecar", nullptr}};
    if (!t.sidecar_path.empty()) SetText(f, "sidecar", RelativePath(t.sidecar_path, paths_base));
    f["sidecar_bytes"] = t.sidecar_bytes;
    files[t.tier] = f;
  }
  report["tiers"] = tiers;
  // Beside "tiers" rather than inside it: its values stay plain paths (SPEC §5).
  if (!tiers_hex.empty()) report["tiers_hex"] = tiers_hex;
  report["parity"] = parity;
  // In the tier table's order (the map's own order is the keys').
  for (const TierOutcome& t : s.tiers) {
    const Tier* tier = FindTier(t.tier);
    if (!tier || !tier->stats_key) continue;
    auto it = s.table_stats.find(tier->stats_key);
    if (it != s.table_stats.end()) report[it->first] = Figures(it->second);
  }
  // Values a tier stores as +-inf (numpy's astype semantics), only when there are any.
  for (const TierOutcome& t : s.tiers)
    if (t.overflow.count > 0)
      report[t.tier + report_key::kOverflowSuffix] = {
          {report_key::kOverflowCount, t.overflow.count},
          {report_key::kOverflowMaxAbsSource, t.overflow.max_abs_source}};
  // The splice graphs (SPEC §8): "graphs" holds paths only, as "tiers" does.
  // The audio keys only when there is an audio token, the image keys only when there is
  // an image token.
  if (s.splice_tokens().any()) {
    json graphs = json::object(), bytes = json::object();
    for (const TierOutcome& t : s.tiers) {
      if (t.splice_path.empty()) continue;
      SetText(graphs, t.tier, RelativePath(t.splice_path, paths_base));
      bytes[t.tier] = t.splice_bytes;
    }
    json splice = SpliceTokenKeys(s);
    splice[report_key::kSpliceGraphs] = graphs;
    splice["bytes"] = bytes;
    report[report_key::kSplice] = splice;
  }
  if (s.output_overflow.count > 0)
    report[report_key::kOutputOverflow] = {
        {report_key::kOverflowCount, s.output_overflow.count},
        {report_key::kOverflowMaxAbsSource, s.output_overflow.max_abs_source}};
  report["sample_ids"] = sample_ids;
  report["files"] = files;
  if (s.int4_block != 0) report["tier_params"] = {{"int4", {{"block", s.int4_block}}}};
  if (!s.left_out.empty()) {
    json left = json::object();
    for (const auto& [tier, why] : s.left_out) left[tier] = JsonText(why);
    report["left_out"] = left;
  }
  report["tool"] = {{"name", kToolName}, {"version", Version()}, {"numpy", NumpyRulesName(s.numpy)}};
  report[report_key::kSchemaVersion] = kReportSchemaVersion;
  report["timings_s"] = {{"stream", s.seconds_stream},
                         {"stream_write_pass", s.seconds_pass1},
                         {"stream_p99_pass", s.seconds_pass2},
                         {"verify", s.seconds_verify},
                         {"total", s.seconds_total},
                         {"stages",
                          {{"read", s.stages.read},
                           {"encode_per_thread", s.stages.encode},
                           {"figures", s.stages.figures},
                           {"write", s.stages.write},
                           {"write_per_thread", s.stages.write_lanes}}}};
  return DumpJson(report, 2) + "\n";
}

}  // namespace embed2onnx
