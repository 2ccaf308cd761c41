// `embed2onnx export`: the Granite presets (--variant) or any checkpoint (--model-dir).
#include <fmt/core.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/help_format.h"
#include "embed2onnx/checkpoint.h"
#include "embed2onnx/export.h"
#include "embed2onnx/model_source.h"
#include "embed2onnx/presets.h"
#include "embed2onnx/tensor_finder.h"
#include "embed2onnx/tiers.h"
#include "export/report.h"
#include "schema/names.h"
#include "tiers/tier.h"
#include "util/human_bytes.h"
#include "util/json_text.h"
#include "util/text_layout.h"

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

// The terminal's width, for the progress line: the window size of stderr, else
// $COLUMNS, else 80.
size_t TerminalColumns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long n = std::strtol(c, &end, 10);
    if (end != c && *end == '\0' && n > 0 && n < 10000) return static_cast<size_t>(n);
  }
  return 80;
}

// Progress on a terminal: one line redrawn at most ten times a second, per tier the
// bytes written so far (as many tiers as fit), and the overall rate. The line never
// reaches the terminal's last column, so it cannot wrap; a shorter line blanks only what
// the longer one before it left.
std::function<void(const ExportOptions::Progress&)> ProgressPrinter() {
  using Clock = std::chrono::steady_clock;
  auto start = std::make_shared<Clock::time_point>(Clock::now());
  auto last = std::make_shared<Clock::time_point>(Clock::time_point{});
  auto drawn = std::make_shared<size_t>(0);
  return [start, last, drawn](const ExportOptions::Progress& p) {
    auto now = Clock::now();
    bool done = p.bytes_done == p.bytes_total;
    if (!done && now - *last < std::chrono::milliseconds(100)) return;
    *last = now;
    const size_t room = TerminalColumns() - 1;
    double secs = std::chrono::duration<double>(now - *start).count();
    const std::string tail =
        fmt::format("  ({:.0f}%, {}/s)", 100.0 * p.bytes_done / std::max<uint64_t>(p.bytes_total, 1),
                    HumanBytes(static_cast<uint64_t>(p.bytes_done / std::max(secs, 1e-3))));
    std::string line = p.pass == 1 ? "  writing" : "  exact p99 pass";
    for (const auto& [tier, bytes] : p.tier_bytes) {
      std::string part = fmt::format("  {} {}", tier, HumanBytes(bytes));
      if (line.size() + part.size() + tail.size() > room) break;
      line += part;
    }
    line = TruncateToWidth(line + tail, room);
    const size_t blank = *drawn > line.size() ? *drawn - line.size() : 0;
    std::fprintf(stderr, "\r%s%s%s", line.c_str(), std::string(blank, ' ').c_str(), done ? "\n" : "");
    *drawn = done ? 0 : line.size();
    if (done) *start = now;
  };
}

std::string Display(const std::string& path) { return JsonText(path); }

std::string FileName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The summary: the table and the two folders on lines of their own (a path is as long as
// it is), then rows of file names only, padded by display width, so that every row fits
// 100 columns whatever the paths.
void PrintSummary(const ExportSummary& s, const std::string& label) {
  std::printf("%s%s: %s, %llu x %llu, %s\n", s.dry_run ? "dry run, " : "", label.c_str(),
              Display(s.tensor).c_str(), static_cast<unsigned long long>(s.vocab),
              static_cast<unsigned long long>(s.hidden), s.dtype.c_str());
  std::printf("  from  %s\n", Display(s.checkpoint).c_str());
  std::printf(
      "  into  %s%s\n", Display(s.out_dir).c_str(),
      s.dry_run ? (s.out_dir_exists ? "  (nothing written)" : "  (would be created; nothing written)") : "");
  if (!s.hf_repo.empty())
    std::printf("  Hugging Face cache: %s@%s, commit %s\n", s.hf_repo.c_str(), s.hf_revision.c_str(),
                s.hf_commit.c_str());
  if (s.output_dtype != "float32") std::printf("  every graph outputs %s\n", s.output_dtype.c_str());
  size_t file_w = 4;
  for (const TierOutcome& t : s.tiers) {
    file_w = std::max(file_w, DisplayWidth(Display(FileName(t.onnx_path))));
    if (!t.splice_path.empty()) file_w = std::max(file_w, DisplayWidth(Display(FileName(t.splice_path))));
  }
  file_w = std::min<size_t>(file_w, 40);
  std::string head = "  " + PadRight("tier", 6) + " " + PadRight("file", file_w) + " " + PadLeft("onnx", 10) +
                     " " + PadLeft("sidecar", 10);
  if (!s.dry_run) head += " " + PadLeft("parity max", 11) + " " + PadLeft("parity mean", 11);
  std::printf("%s\n", head.c_str());
  uint64_t total = 0;
  size_t samples = 0;
  for (const TierOutcome& t : s.tiers) {
    total += t.onnx_bytes + t.sidecar_bytes + t.splice_bytes;
    if (t.parity_shape.size() >= 2) samples = static_cast<size_t>(t.parity_shape[1]);
    std::string row = "  " + PadRight(t.tier, 6) + " " + PadRight(Display(FileName(t.onnx_path)), file_w) +
                      " " + PadLeft(HumanBytes(t.onnx_bytes), 10) + " " +
                      PadLeft(t.sidecar_path.empty() ? "-" : HumanBytes(t.sidecar_bytes), 10);
    if (!s.dry_run) row += fmt::format(" {:>11.3e} {:>11.3e}", t.parity.max_abs_err, t.parity.mean_abs_err);
    std::printf("%s\n", row.c_str());
  }
  if (!s.dry_run)
    std::printf("  parity: each graph's output on the %zu sample ids against the table (max, mean |error|)\n",
                samples);
  bool stats_head = false;
  for (const TierOutcome& t : s.tiers) {
    const Tier* tier = FindTier(t.tier);
    if (!tier || !tier->stats_key || !s.table_stats.count(tier->stats_key)) continue;
    const ErrorFigures& f = s.table_stats.at(tier->stats_key);
    if (!stats_head) {
      std::printf("  %-22s %10s %10s %10s %16s\n", "whole-table error", "max", "mean", "p99",
                  "mean row cosine");
      stats_head = true;
    }
    const std::string name =
        t.tier + (tier->check_params ? fmt::format(" (block {})", s.int4_block) : std::string());
    std::string row = fmt::format("  {:<22} {:>10.3e} {:>10.3e} {:>10.3e}", name, f.max_abs_err,
                                  f.mean_abs_err, f.p99_abs_err);
    if (f.has_cosine) row += fmt::format(" {:>16.6f}", f.mean_row_cosine);
    std::printf("%s\n", row.c_str());
  }
  for (const TierOutcome& t : s.tiers)
    if (t.overflow.count > 0)
      std::printf("  %s: %llu values stored as +-inf (largest |x| %.9g)\n", t.tier.c_str(),
                  static_cast<unsigned long long>(t.overflow.count), t.overflow.max_abs_source);
  if (s.splice_tokens().any()) {
    std::string what, inputs = "input_ids";
    if (s.image_token_id) {
      what = fmt::format("image token {} (flag)", *s.image_token_id);
      inputs += !s.audio_token_source.empty() ? ", image_features" : " and image_features";
    }
    if (!s.audio_token_source.empty()) {
      what += fmt::format("{}audio token {} ({})", what.empty() ? "" : " and ", s.audio_token_id,
                          s.audio_token_source);
      inputs += " and audio_features";
    }
    std::printf("  splice graphs for %s, inputs %s:\n", what.c_str(), inputs.c_str());
    for (const TierOutcome& t : s.tiers)
      if (!t.splice_path.empty())
        std::printf("  %s %s %s\n", PadRight(t.tier, 6).c_str(),
                    PadRight(Display(FileName(t.splice_path)), file_w).c_str(),
                    PadLeft(HumanBytes(t.splice_bytes), 10).c_str());
  }
  for (const auto& [tier, why] : s.left_out)
    std::printf("%s\n", WrapText("  left out " + tier + ": " + why, kHelpWidth, 4).c_str());
  if (s.dry_run) {
    std::printf("  needs %s (%llu bytes in whole blocks), %s free: %s\n", HumanBytes(s.bytes_needed).c_str(),
                static_cast<unsigned long long>(s.bytes_needed), HumanBytes(s.bytes_free).c_str(),
                s.fits ? "fits" : "does NOT fit");
    return;
  }
  std::printf("  report %s, %s in all\n", kReportFileName, HumanBytes(total).c_str());
  std::printf("  took %.2f s: write pass %.2f s, exact-p99 pass %.2f s, read-back %.2f s\n", s.seconds_total,
              s.seconds_pass1, s.seconds_pass2, s.seconds_verify);
}

nlohmann::ordered_json FiguresJson(const ErrorFigures& f) {
  nlohmann::ordered_json j = {
      {"max_abs_err", f.max_abs_err}, {"mean_abs_err", f.mean_abs_err}, {"p99_abs_err", f.p99_abs_err}};
  if (f.has_cosine) j["mean_row_cosine"] = f.mean_row_cosine;
  return j;
}

// One export (one variant) in export --json's document.
nlohmann::ordered_json SummaryJson(const ExportSummary& s, const std::string& variant) {
  using json = nlohmann::ordered_json;
  json j = json::object();
  j["variant"] = variant.empty() ? json(nullptr) : json(variant);
  SetText(j, "tensor", s.tensor);
  j["dtype"] = s.dtype;
  j["vocab_size"] = s.vocab;
  j["hidden_size"] = s.hidden;
  SetText(j, "checkpoint", s.checkpoint);
  SetText(j, "checkpoint_name", s.checkpoint_name);
  SetText(j, "out_dir", s.out_dir);
  SetText(j, "report", s.report_path);
  j["output_dtype"] = s.output_dtype;
  if (!s.hf_repo.empty()) {
    SetText(j, "hf_repo", s.hf_repo);
    SetText(j, "hf_revision", s.hf_revision);
    j["hf_commit"] = s.hf_commit;
  }
  if (s.splice_tokens().any()) {
    j["splice"] = SpliceTokenKeys(s);
  }
  json tiers = json::array();
  uint64_t total = 0;
  for (const TierOutcome& t : s.tiers) {
    json e = {{"tier", t.tier}};
    SetText(e, "file", t.onnx_path);
    e["onnx_bytes"] = t.onnx_bytes;
    if (t.sidecar_path.empty()) {
      e["sidecar"] = nullptr;
    } else {
      SetText(e, "sidecar", t.sidecar_path);
    }
    e["sidecar_bytes"] = t.sidecar_bytes;
    if (!t.splice_path.empty()) {
      SetText(e, "splice", t.splice_path);
      e["splice_bytes"] = t.splice_bytes;
    }
    total += t.onnx_bytes + t.sidecar_bytes + t.splice_bytes;
    if (!s.dry_run) {
      json p = {{"shape", t.parity_shape}};
      p.update(FiguresJson(t.parity));
      e["parity"] = p;
      e["overflow"] = {{"count", t.overflow.count}, {"max_abs_source", t.overflow.max_abs_source}};
    }
    tiers.push_back(e);
  }
  j["tiers"] = tiers;
  j["bytes"] = total;
  if (!s.dry_run) {
    json stats = json::object();
    for (const TierOutcome& t : s.tiers) {
      const Tier* tier = FindTier(t.tier);
      if (tier && tier->stats_key && s.table_stats.count(tier->stats_key))
        stats[t.tier] = FiguresJson(s.table_stats.at(tier->stats_key));
    }
    j["table_stats"] = stats;
  }
  if (s.int4_block) j["tier_params"] = {{"int4", {{"block", s.int4_block}}}};
  json left = json::object();
  for (const auto& [tier, why] : s.left_out) left[tier] = JsonText(why);
  j["left_out"] = left;
  if (s.dry_run) {
    j["out_dir_exists"] = s.out_dir_exists;
    j["bytes_needed"] = s.bytes_needed;
    j["bytes_free"] = s.bytes_free;
    j["fits"] = s.fits;
  } else {
    j["timings_s"] = {{"stream", s.seconds_stream},
                      {"stream_write_pass", s.seconds_pass1},
                      {"stream_p99_pass", s.seconds_pass2},
                      {"verify", s.seconds_verify},
                      {"total", s.seconds_total}};
  }
  return j;
}

// The not-enough-space error a dry run returns, worded as the export's own check words it.
Status DoesNotFit(const ExportSummary& s) {
  return Status::IOError(s.out_dir + ": not enough free space: this export writes " +
                         std::to_string(s.bytes_needed) + " bytes, " + std::to_string(s.bytes_free) +
                         " are free (dry run: nothing was written)");
}
// The tiers for --help: name, file and what it stores, the last wrapped in its column.
std::string TierTable() {
  size_t file_w = 0;
  for (const Tier& t : AllTiers()) file_w = std::max(file_w, DisplayWidth(t.file_name));
  const size_t col = 2 + 7 + file_w + 2;
  std::string out;
  for (const Tier& t : AllTiers()) {
    std::string text = WrapText(t.summary, kHelpWidth - col);
    std::string indented;
    for (char c : text) indented += c == '\n' ? "\n" + std::string(col, ' ') : std::string(1, c);
    out += "  " + PadRight(t.name, 7) + PadRight(t.file_name, file_w + 2) + indented + "\n";
  }
  return out;
}
}  // namespace

void PrintJsonError(const std::string& message, ExitStatus status) {
  nlohmann::ordered_json j = {{"ok", false}};
  SetText(j, "error", message);
  j["exit_status"] = static_cast<int>(status);
  std::printf("%s\n", DumpJson(j, 2).c_str());
}

void AddExportCommand(CLI::App& app, ExportArgs* a) {
  CLI::App* cmd =
      app.add_subcommand("export", "Export the embedding table as ONNX lookup graphs, then verify them.");
  cmd->footer("Tiers (--tiers, comma list; default all):\n" + TierTable() +
              "\nExamples:\n"
              "  embed2onnx export --variant all --root ~/granite\n"
              "      reads ~/granite/models/granite-speech-4.1-2b{,-plus,-nar},\n"
              "      writes ~/granite/exports/<same names>\n"
              "  embed2onnx export --variant base --root ~/granite --dry-run\n"
              "  embed2onnx export --model-dir ./Llama-3.2-1B --out-dir ./llama-embed --tiers fp16w,int8\n"
              "  embed2onnx export --model-dir ./ckpt --out-dir ./out --json \\\n"
              "      --tensor model.language_model.embed_tokens.weight\n");
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
  cmd->add_option(
         "--threads", a->threads,
         "threads of the streaming pass (default: every core): the sidecar writers take up to half, "
         "the encoders the rest, and writers waiting for rows encode too; output is identical for any "
         "count")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--int4-block", a->int4_block,
                  "values per int4 block, each with its own scale and offset code (even, 4 to 256, "
                  "divides the table width). Default: 32, else the largest even divisor of the width from "
                  "8 to 32, else the smallest from 34 to 64; with none, int4 is left out (and said so)");
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
                  "inputs_embeds; <tier file>_image_audio.onnx with --image-token-id) for this audio token "
                  "id (default: config.json's for a Granite Speech "
                  "checkpoint, 100352 for the presets; see docs/splice.md)")
      ->each([a](const std::string&) { a->audio_token_given = true; });
  cmd->add_option("--image-token-id", a->image_token_id,
                  "the splice graphs also take image_features, rows put in at this token id's positions "
                  "(transformers' masked_scatter, as LLaVA-style models merge them); with no audio token "
                  "id they take image_features alone, <tier file>_image.onnx, else <tier "
                  "file>_image_audio.onnx. Never taken from config.json (see docs/splice.md)")
      ->each([a](const std::string&) { a->image_token_given = true; });
  cmd->add_flag("--no-splice", a->no_splice, "write no splice graphs")
      ->excludes("--audio-token-id")
      ->excludes("--image-token-id");
  cmd->add_flag("--json", a->json,
                "print one JSON document on stdout instead of the summary (files, bytes, parity, whole-table "
                "figures, timings; one entry per variant); notes and progress stay on stderr");
  cmd->add_flag("--dry-run,-n", a->dry_run,
                "say what export would write (files, sizes, tiers left out and why) and whether it fits "
                "on the disk, then stop: nothing is created or written, not even the output folder");
  cmd->add_flag("--quiet,-q", a->quiet, "print nothing but errors (and the --json document)");
}

namespace {
// Whole decimal int64 >= 0; it may be >= V (a placeholder no text id can equal).
Result<int64_t> ParseTokenId(const std::string& flag, const std::string& v) {
  size_t used = 0;
  long long id = -1;
  try {
    id = std::stoll(v, &used, 10);
  } catch (...) {
    used = 0;
  }
  if (used != v.size() || id < 0 || !std::isdigit(static_cast<unsigned char>(v[0])))
    return Status::InvalidArgument(flag + ": '" + v + "' is not a token id (an integer from 0 to " +
                                   std::to_string(INT64_MAX) + ")");
  return static_cast<int64_t>(id);
}
}  // namespace

Status CheckExportArgs(ExportArgs* a) {
  if (a->variant.empty() && a->model_dir.empty() && a->hf_model.empty())
    return Status::InvalidArgument(
        "--variant or --model-dir/--out-dir (or --model/--out-dir) is required (see embed2onnx export "
        "--help)");
  if (!a->out_dir.empty() && a->model_dir.empty() && a->hf_model.empty())
    return Status::InvalidArgument("--out-dir needs --model-dir or --model (see embed2onnx export --help)");
  if (a->audio_token_given) {
    E2O_ASSIGN_OR_RETURN(a->audio_token, ParseTokenId("--audio-token-id", a->audio_token_id));
  }
  if (a->image_token_given) {
    E2O_ASSIGN_OR_RETURN(a->image_token, ParseTokenId("--image-token-id", a->image_token_id));
  }
  if (a->audio_token && a->image_token && *a->audio_token == *a->image_token)
    return Status::InvalidArgument("--image-token-id: " + std::to_string(*a->image_token) +
                                   " is also --audio-token-id: one token id cannot mark two inputs' rows");
  a->tier_list.clear();
  if (a->tiers_given) {
    E2O_ASSIGN_OR_RETURN(a->tier_list, ParseTierList(a->tiers));
  }
  return Status::Ok();
}

namespace {
Status ExportAll(const ExportArgs& a, nlohmann::ordered_json* exports) {
  ExportOptions o;
  o.tiers = a.tier_list;
  o.threads = a.threads;
  o.fsync = a.fsync;
  o.int4_block = a.int4_block;
  ParseNumpyRules(a.numpy, &o.numpy);  // CLI11 admitted only the two names
  o.tensor = a.tensor;
  o.audio_token_id = a.audio_token;
  o.image_token_id = a.image_token;
  o.no_splice = a.no_splice;
  o.output_dtype = a.output_dtype;
  o.dry_run = a.dry_run;
  o.note = [quiet = a.quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "embed2onnx: %s\n", line.c_str());
  };
  if (!a.quiet && !a.dry_run && ::isatty(STDERR_FILENO)) o.progress = ProgressPrinter();
  auto report = [&](const ExportSummary& s, const std::string& variant, const std::string& label) -> Status {
    if (a.json) {
      exports->push_back(SummaryJson(s, variant));
    } else if (!a.quiet) {
      PrintSummary(s, label);
    }
    return s.fits ? Status::Ok() : DoesNotFit(s);
  };
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
    return report(s, "", "export");
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
  Status first_misfit;
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
    // A dry run plans every variant before saying which would not fit.
    Status fit = report(s, p->variant, "variant " + p->variant);
    if (!fit.ok() && first_misfit.ok()) first_misfit = fit;
  }
  return first_misfit;
}
}  // namespace

Status RunExport(const ExportArgs& a) {
  nlohmann::ordered_json exports = nlohmann::ordered_json::array();
  Status s = ExportAll(a, &exports);
  if (a.json) {
    // One document whatever happened: what was exported (or planned) before a failure
    // stays in it.
    nlohmann::ordered_json j = {{"ok", s.ok()}, {"dry_run", a.dry_run}};
    if (!s.ok()) {
      SetText(j, "error", s.message());
      j["exit_status"] = static_cast<int>(ExitStatusFor(Command::kExport, s));
    }
    j["exports"] = exports;
    std::printf("%s\n", DumpJson(j, 2).c_str());
  }
  return s;
}

}  // namespace embed2onnx
