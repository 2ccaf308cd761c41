// `embed2onnx export`: the Granite presets (--variant) or any checkpoint (--model-dir).
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/commands.h"
#include "embed2onnx/checkpoint.h"
#include "embed2onnx/export.h"
#include "embed2onnx/presets.h"
#include "embed2onnx/tensor_finder.h"
#include "embed2onnx/tiers.h"
#include "util/human_bytes.h"

namespace embed2onnx {

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
  model->needs(out);
  out->needs(model);
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
  cmd->add_option("--numpy", a->numpy,
                  "whose numpy the report's means and p99s equal bit for bit: 2.4 (the default) or 1.24 "
                  "(8192-value sum buffers, p99 interpolated in float64)")
      ->check(CLI::IsMember({"2.4", "1.24"}));
  cmd->add_flag("--fsync", a->fsync,
                "flush every file to disk before renaming it into place (survives power loss; costs the "
                "time the disk needs to absorb the export)");
  cmd->add_flag("--quiet,-q", a->quiet, "print nothing but errors");
}

Status CheckExportArgs(ExportArgs* a) {
  if (a->variant.empty() && a->model_dir.empty())
    return Status::InvalidArgument(
        "--variant or --model-dir/--out-dir is required (see embed2onnx export --help)");
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
  o.note = [quiet = a.quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "embed2onnx: %s\n", line.c_str());
  };
  if (!a.quiet && ::isatty(STDERR_FILENO)) o.progress = ProgressPrinter();
  if (!a.model_dir.empty()) {
    o.model_dir = a.model_dir;
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
  // and dtype.
  for (const Preset* p : presets) {
    E2O_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::OpenDir(a.root + "/" + p->model_subdir));
    const TensorInfo* info = nullptr;
    if (a.tensor.empty()) {
      E2O_ASSIGN_OR_RETURN(info, FindOneOf(ckpt, p->tensors));
    } else {
      E2O_ASSIGN_OR_RETURN(info, FindEmbeddingTable(ckpt, a.tensor));
    }
    E2O_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> table, TableReader::Open(*info));
  }
  for (const Preset* p : presets) {
    o.model_dir = a.root + "/" + p->model_subdir;
    o.out_dir = a.root + "/" + p->export_subdir;
    o.paths_relative_to = a.root;
    o.variant = p->variant;
    o.preset_tensors = p->tensors;
    o.producer_name = kGraniteProducerName;
    o.producer_version = kGraniteProducerVersion;
    E2O_ASSIGN_OR_RETURN(ExportSummary s, ExportTable(o));
    if (!a.quiet) PrintSummary(s, "variant " + p->variant);
  }
  return Status::Ok();
}

}  // namespace embed2onnx
