// `embed2onnx export`: the Granite presets (--variant) or any checkpoint (--model-dir).
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "embed2onnx/checkpoint.h"
#include "embed2onnx/export.h"
#include "embed2onnx/model_source.h"
#include "embed2onnx/presets.h"
#include "embed2onnx/tensor_finder.h"
#include "embed2onnx/tiers.h"
#include "util/human_bytes.h"

namespace embed2onnx {

const char kHfModelHelp[] =
    "ORG/NAME[@REV]: the checkpoint as `hf download` left it in the local Hugging Face cache "
    "($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub); REV is a branch, tag or full commit "
    "(default main). Never downloads";

Result<std::string> HfSnapshotDir(const std::string& spec, HfCacheEntry* entry) {
  E2O_ASSIGN_OR_RETURN(HfCacheEntry e, ResolveHfCheckpoint(spec, HfHubCacheDirFromEnv()));
  if (entry) *entry = e;
  return e.snapshot;
}

namespace {
// --variant's name for every preset in turn.
constexpr char kAllVariants[] = "all";

// Progress on a terminal: one line redrawn at most ten times a second, per tier the
// bytes written so far, and the overall rate.
std::function<void(const ExportOptions::Progress&)> ProgressPrinter() {
  using Clock = std::chrono::steady_clock;
  auto start = std::make_shared<Clock::time_point>(Clock::now());
  auto last = std::make_shared<Clock::time_point>(Clock::time_point{});
  return [start, last](const ExportOptions::Progress& p) {
    auto now = Clock::now();
    bool done = p.bytes_done == p.bytes_total;
    if (!done && now - *last < std::chrono::milliseconds(100)) return;
    *last = now;
    double secs = std::chrono::duration<double>(now - *start).count();
    std::string line = p.pass == 1 ? "  writing" : "  exact p99 pass";
    for (const auto& [tier, bytes] : p.tier_bytes) line += fmt::format("  {} {}", tier, HumanBytes(bytes));
    line += fmt::format("  ({:.0f}%, {}/s)", 100.0 * p.bytes_done / std::max<uint64_t>(p.bytes_total, 1),
                        HumanBytes(static_cast<uint64_t>(p.bytes_done / std::max(secs, 1e-3))));
    std::fprintf(stderr, "\r%-110s%s", line.c_str(), done ? "\n" : "");
    if (done) *start = now;
  };
}

void PrintSummary(const ExportSummary& s, const std::string& label) {
  std::printf("%s: %s [%llu x %llu] %s from %s\n", label.c_str(), s.tensor.c_str(),
              static_cast<unsigned long long>(s.vocab), static_cast<unsigned long long>(s.hidden),
              s.dtype.c_str(), s.checkpoint.c_str());
  if (!s.hf_repo.empty())
    std::printf("  Hugging Face cache: %s@%s, commit %s\n", s.hf_repo.c_str(), s.hf_revision.c_str(),
                s.hf_commit.c_str());
  if (s.output_dtype != "float32") std::printf("  every graph outputs %s\n", s.output_dtype.c_str());
  std::printf("  %-6s %-48s %11s %11s %12s %12s\n", "tier", "file", "onnx", "sidecar", "parity max",
              "parity mean");
  for (const TierOutcome& t : s.tiers)
    std::printf("  %-6s %-48s %11s %11s %12.3e %12.3e\n", t.tier.c_str(), t.onnx_path.c_str(),
                HumanBytes(t.onnx_bytes).c_str(),
                t.sidecar_path.empty() ? "-" : HumanBytes(t.sidecar_bytes).c_str(), t.parity.max_abs_err,
                t.parity.mean_abs_err);
  for (const auto& [key, f] : s.table_stats)
    std::printf("  %s: max %.3e  mean %.3e  p99 %.3e%s\n", key.c_str(), f.max_abs_err, f.mean_abs_err,
                f.p99_abs_err,
                f.has_cosine ? fmt::format("  mean row cosine {:.6f}", f.mean_row_cosine).c_str() : "");
  if (!s.audio_token_source.empty()) {
    std::printf("  splice graphs for audio token %lld (%s):\n", static_cast<long long>(s.audio_token_id),
                s.audio_token_source.c_str());
    for (const TierOutcome& t : s.tiers)
      if (!t.splice_path.empty())
        std::printf("  %-6s %-48s %11s\n", t.tier.c_str(), t.splice_path.c_str(),
                    HumanBytes(t.splice_bytes).c_str());
  }
  std::printf("  report %s  (%.2f s: write pass %.2f s, exact-p99 pass %.2f s, read-back %.2f s)\n",
              s.report_path.c_str(), s.seconds_total, s.seconds_pass1, s.seconds_pass2, s.seconds_verify);
}
}  // namespace

void AddExportCommand(CLI::App& app, ExportArgs* a) {
  CLI::App* cmd =
      app.add_subcommand("export", "Export the embedding table as ONNX lookup graphs, then verify them.");
  cmd->footer("Tiers (--tiers, comma list; default all):\n" + TierHelpText() +
              "\nExamples:\n"
              "  embed2onnx export --variant all --root ~/granite\n"
              "      reads ~/granite/models/granite-speech-4.1-2b{,-plus,-nar}, writes "
              "~/granite/exports/<same names>\n"
              "  embed2onnx export --model-dir ./Llama-3.2-1B --out-dir ./llama-embed --tiers fp16w,int8\n"
              "  embed2onnx export --model-dir ./ckpt --out-dir ./out --tensor "
              "model.language_model.embed_tokens.weight\n");
  // The accepted names come from the preset table, plus "all" for every one of them.
  std::vector<std::string> variants;
  for (const Preset& p : GranitePresets()) variants.push_back(p.variant);
  std::string listed;
  for (const std::string& v : variants) listed += v + ", ";
  variants.push_back(kAllVariants);
  auto* variant =
      cmd->add_option("--variant", a->variant,
                      "Granite Speech 4.1 2B preset: " + listed + "or " + kAllVariants + " (in that order)")
          ->check(CLI::IsMember(variants));
  cmd->add_option("--root", a->root, "preset mode: folder holding models/ and exports/ (default: .)")
      ->needs(variant);
  auto* model =
      cmd->add_option("--model-dir", a->model_dir,
                      "any checkpoint folder: model.safetensors or model.safetensors.index.json + shards")
          ->excludes(variant);
  auto* out = cmd->add_option("--out-dir", a->out_dir, "where the graphs and report go (created if missing)")
                  ->excludes(variant);
  auto* hf = cmd->add_option("--model", a->hf_model, kHfModelHelp)->excludes(variant)->excludes(model);
  model->needs(out);
  hf->needs(out);  // and --out-dir needs one of the two (CheckExportArgs)
  cmd->add_option("--tensor", a->tensor,
                  "the table's tensor name (default: found among the well-known embedding names)");
  cmd->add_option("--tiers", a->tiers, "comma list of tiers to export, or all (the default)")
      ->each([a](const std::string&) { a->tiers_given = true; });
  cmd->add_option("--threads", a->threads,
                  "encoder threads (default: every core); output is identical for any count")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--int4-block", a->int4_block,
                  "values per int4 block, each with its own fp16 scale and zero point (even, divides the "
                  "table width; default 32, or the largest even divisor of the width below 32)");
  cmd->add_option("--output-dtype", a->output_dtype,
                  "element type of every graph's inputs_embeds: float32 (default) or float16, for fp16 LLM "
                  "bundles (each tier's float32 result rounded to nearest even; fp16w outputs its stored "
                  "rows)")
      ->check(CLI::IsMember({"float32", "float16"}));
  cmd->add_option("--numpy", a->numpy,
                  "whose numpy the report's means and p99s equal bit for bit: 2.4 (the default) or 1.24 "
                  "(8192-value sum buffers, p99 interpolated in float64)")
      ->check(CLI::IsMember({"2.4", "1.24"}));
  cmd->add_flag("--fsync", a->fsync,
                "flush every file to disk before renaming it into place (survives power loss; costs the "
                "time the disk needs to absorb the export)");
  cmd->add_option("--audio-token-id", a->audio_token_id,
                  "write a splice graph <tier file>_audio.onnx per tier (input_ids + audio_features -> "
                  "inputs_embeds) for this audio token id (default: config.json's for a Granite Speech "
                  "checkpoint, 100352 for the presets; see docs/splice.md)");
  cmd->add_flag("--no-splice", a->no_splice, "write no splice graphs")->excludes("--audio-token-id");
  cmd->add_flag("--quiet,-q", a->quiet, "print nothing but errors");
}

Status CheckExportArgs(ExportArgs* a) {
  if (a->variant.empty() && a->model_dir.empty() && a->hf_model.empty())
    return Status::InvalidArgument(
        "--variant or --model-dir/--out-dir (or --model/--out-dir) is required (see embed2onnx export "
        "--help)");
  if (!a->out_dir.empty() && a->model_dir.empty() && a->hf_model.empty())
    return Status::InvalidArgument("--out-dir needs --model-dir or --model (see embed2onnx export --help)");
  if (!a->audio_token_id.empty()) {
    // Whole decimal int64 >= 0; it may be >= V (a placeholder no text id can equal).
    const std::string& v = a->audio_token_id;
    size_t used = 0;
    long long id = -1;
    try {
      id = std::stoll(v, &used, 10);
    } catch (...) {
      used = 0;
    }
    if (used != v.size() || id < 0 || !std::isdigit(static_cast<unsigned char>(v[0])))
      return Status::InvalidArgument("--audio-token-id: '" + v +
                                     "' is not a token id (an integer from 0 to " +
                                     std::to_string(INT64_MAX) + ")");
    a->audio_token = id;
  }
  a->tier_list.clear();
  if (a->tiers_given) {
    E2O_ASSIGN_OR_RETURN(a->tier_list, ParseTierList(a->tiers));
  }
  return Status::Ok();
}

Status RunExport(const ExportArgs& a) {
  ExportOptions o;
  o.tiers = a.tier_list;
  o.threads = a.threads;
  o.fsync = a.fsync;
  o.int4_block = a.int4_block;
  ParseNumpyRules(a.numpy, &o.numpy);  // CLI11 admitted only the two names
  o.tensor = a.tensor;
  o.audio_token_id = a.audio_token;
  o.no_splice = a.no_splice;
  o.output_dtype = a.output_dtype;
  o.note = [quiet = a.quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "embed2onnx: %s\n", line.c_str());
  };
  if (!a.quiet && ::isatty(STDERR_FILENO)) o.progress = ProgressPrinter();
  if (!a.hf_model.empty()) {
    HfCacheEntry e;
    E2O_ASSIGN_OR_RETURN(o.model_dir, HfSnapshotDir(a.hf_model, &e));
    o.hf_repo = e.repo_id;
    o.hf_revision = e.revision;
    o.hf_commit = e.commit;
  } else {
    o.model_dir = a.model_dir;
  }
  if (!o.model_dir.empty()) {
    o.out_dir = a.out_dir;
    o.paths_relative_to = a.out_dir;
    E2O_ASSIGN_OR_RETURN(ExportSummary s, ExportTable(o));
    if (!a.quiet) PrintSummary(s, "export");
    return Status::Ok();
  }
  std::vector<const Preset*> presets;
  if (a.variant == kAllVariants) {
    for (const Preset& p : GranitePresets()) presets.push_back(&p);
  } else {
    presets.push_back(FindPreset(a.variant));
  }
  // Every variant's checkpoint is checked before the first export starts, so a
  // missing or broken one does not leave the run half done.
  // The table is found as ExportTable finds it, and opened, which checks its rank, size
  // and dtype; config.json, when there is one, must agree with it.
  for (const Preset* p : presets) {
    E2O_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::OpenDir(a.root + "/" + p->model_subdir));
    const TensorInfo* info = nullptr;
    if (a.tensor.empty()) {
      E2O_ASSIGN_OR_RETURN(info, FindOneOf(ckpt, p->tensors));
    } else {
      E2O_ASSIGN_OR_RETURN(info, FindEmbeddingTable(ckpt, a.tensor));
    }
    E2O_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> table, TableReader::Open(*info));
    E2O_ASSIGN_OR_RETURN(ModelConfig config, ReadModelConfig(a.root + "/" + p->model_subdir));
    E2O_RETURN_IF_ERROR(CheckConfigAgainstTable(config, table->rows(), table->cols()));
  }
  for (const Preset* p : presets) {
    o.model_dir = a.root + "/" + p->model_subdir;
    o.out_dir = a.root + "/" + p->export_subdir;
    o.paths_relative_to = a.root;
    o.variant = p->variant;
    o.preset_tensors = p->tensors;
    o.producer_name = kGraniteProducerName;
    o.producer_version = kGraniteProducerVersion;
    o.preset_audio_token_id = p->audio_token_id;
    E2O_ASSIGN_OR_RETURN(ExportSummary s, ExportTable(o));
    if (!a.quiet) PrintSummary(s, "variant " + p->variant);
  }
  return Status::Ok();
}

}  // namespace embed2onnx
