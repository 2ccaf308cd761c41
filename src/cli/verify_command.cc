// `embed2onnx verify` and `embed2onnx inspect`.
#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "embed2onnx/inspect.h"
#include "embed2onnx/inspect_checkpoint.h"
#include "embed2onnx/verify.h"
#include "schema/names.h"
#include "util/file_io.h"
#include "util/json_text.h"

namespace embed2onnx {

namespace {
std::string FileName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
}  // namespace

void AddVerifyCommand(CLI::App& app, VerifyArgs* a) {
  CLI::App* cmd = app.add_subcommand(
      "verify", "Check every embed_tokens*.onnx in an export folder against the checkpoint it came from.");
  cmd->footer(
      "Checks the graph contract, every stored row against the checkpoint (exact tiers bit for\n"
      "bit, int8/int4 within their quantisation bound, their report statistics recomputed), and\n"
      "the graph's output on the sample ids and --random ids. Accepts exports of the original\n"
      "Python script. Exit 0 only if all pass.\n\n"
      "Without --model-dir the checkpoint is the one the folder's embed_tokens_parity.json\n"
      "records: its path relative to the report's folder, else its absolute path; if neither is\n"
      "there any more, one line says so (exit 2). With --json the result is one JSON document on\n"
      "stdout, on failure too.\n\n"
      "Examples:\n  embed2onnx verify exports/granite-speech-4.1-2b\n"
      "  embed2onnx verify exports/granite-speech-4.1-2b --model-dir models/granite-speech-4.1-2b --json\n");
  cmd->add_option("export_dir", a->export_dir, "folder holding embed_tokens*.onnx")->required();
  auto* model = cmd->add_option("--model-dir", a->model_dir,
                                "the checkpoint the export came from (default: the one its report records)");
  cmd->add_option("--model", a->hf_model, std::string(kHfModelHelp) + " (instead of --model-dir)")
      ->excludes(model);
  cmd->add_option(
      "--tensor", a->tensor,
      "the table's tensor name (default: the report's when the checkpoint is too, else found as export "
      "does)");
  cmd->add_option("--random", a->random_ids, "random ids to evaluate besides the sample ids (default 256)");
  cmd->add_option("--threads", a->threads, "threads (default: every core)")->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", a->json, "print the result as JSON");
}

namespace {
bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// The checkpoint folder and tensor a report records (docs/format.md, "Report"), for
// verify without --model-dir / --tensor. `*from` says where the checkpoint came from.
Status FromReport(const std::string& export_dir, std::string* model_dir, std::string* tensor,
                  std::string* from) {
  namespace fs = std::filesystem;
  const std::string path = export_dir + "/" + kReportFileName;
  auto text = ReadFileToString(path, 64 << 20);
  if (!text.ok()) {
    if (!Exists(export_dir)) return Status::NotFound(export_dir + ": no such folder");
    return Status::NotFound(path + ": no report to take the checkpoint from (" + text.status().message() +
                            "); give it with --model-dir");
  }
  nlohmann::json report = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const bool usable = report.is_object() && report.contains("info") && report["info"].is_object();
  if (!usable) {
    return Status::InvalidArgument(path +
                                   ": not a report with an \"info\" object; give the checkpoint with "
                                   "--model-dir");
  }
  const nlohmann::json& info = report["info"];
  // The tensor goes with the checkpoint: another checkpoint (--model-dir) may name its
  // table otherwise, so it is found there as export finds it.
  if (!model_dir->empty()) return Status::Ok();
  if (tensor->empty()) {
    auto t = ReadText(info, "tensor");
    if (t.ok()) *tensor = *t;
  }
  // The checkpoint file (model.safetensors or the index) relative to the report's folder,
  // then absolute; older reports have only "checkpoint", as it was given to export.
  std::vector<std::pair<std::string, std::string>> tried;  // path, what it is
  auto rel = ReadText(info, report_key::kCheckpointRelative);
  if (rel.ok()) tried.emplace_back((fs::path(export_dir) / *rel).lexically_normal().string(), "relative");
  auto abs = ReadText(info, report_key::kCheckpointAbsolute);
  if (abs.ok()) tried.emplace_back(*abs, "absolute");
  if (!rel.ok() && !abs.ok()) {
    auto given = ReadText(info, "checkpoint");
    if (!given.ok())
      return Status::InvalidArgument(path +
                                     ": the report records no checkpoint (an export of the original "
                                     "script?); give it with --model-dir");
    tried.emplace_back(*given, "as recorded");
  }
  for (const auto& [file, what] : tried) {
    if (!Exists(file)) continue;
    *model_dir = fs::path(file).parent_path().string();
    if (model_dir->empty()) *model_dir = ".";
    *from = JsonText(file) + " (from the report, " + what + ")";
    return Status::Ok();
  }
  std::string where;
  for (const auto& [file, what] : tried) where += (where.empty() ? "" : ", nor ") + JsonText(file);
  return Status::NotFound(path + ": the checkpoint it records has moved or is gone: not at " + where +
                          "; give its new place with --model-dir");
}

Status RunVerifyImpl(const VerifyArgs& a) {
  VerifyOptions o;
  o.export_dir = a.export_dir;
  o.model_dir = a.model_dir;
  if (!a.hf_model.empty()) {
    E2O_ASSIGN_OR_RETURN(o.model_dir, HfSnapshotDir(a.hf_model));
  }
  o.tensor = a.tensor;
  o.random_ids = a.random_ids;
  o.threads = a.threads;
  std::string from = o.model_dir;
  if (o.model_dir.empty()) E2O_RETURN_IF_ERROR(FromReport(a.export_dir, &o.model_dir, &o.tensor, &from));
  E2O_ASSIGN_OR_RETURN(VerifyResult r, VerifyExport(o));
  Status verdict;
  for (const FileVerification& f : r.files)
    if (!f.ok && verdict.ok()) verdict = Status::Mismatch(f.message);
  if (a.json) {
    // Paths, names and messages may hold bytes that are not UTF-8 (util/json_text.h).
    nlohmann::ordered_json j = {{"ok", r.ok()}};
    j["output_dtype"] = r.output_dtype;
    if (!verdict.ok()) {
      SetText(j, "error", verdict.message());
      j["exit_status"] = static_cast<int>(ExitStatusFor(Command::kVerify, verdict));
    }
    SetText(j, "checkpoint", o.model_dir);
    SetText(j, "tensor", r.tensor);
    j["vocab_size"] = r.vocab;
    j["hidden_size"] = r.hidden;
    j["files"] = nlohmann::ordered_json::array();
    for (const FileVerification& f : r.files) {
      nlohmann::ordered_json e = nlohmann::ordered_json::object();
      SetText(e, "file", f.file);
      e["tier"] = f.tier;
      e["splice"] = f.splice;
      e["ok"] = f.ok;
      SetText(e, "message", f.message);
      e["rows_checked"] = f.rows_checked;
      e["ids_evaluated"] = f.ids_evaluated;
      if (f.has_stats) {
        e["table_stats"] = {{"max_abs_err", f.stats.max_abs_err},
                            {"mean_abs_err", f.stats.mean_abs_err},
                            {"p99_abs_err", f.stats.p99_abs_err}};
        if (f.stats.has_cosine) e["table_stats"]["mean_row_cosine"] = f.stats.mean_row_cosine;
        e["report_stats_matched"] = f.stats_compared;
      }
      e["overflow"] = {{"count", f.overflow.count}, {"max_abs_source", f.overflow.max_abs_source}};
      j["files"].push_back(e);
    }
    std::printf("%s\n", DumpJson(j, 2).c_str());
  } else {
    std::printf("verify %s against %s [%llu x %llu]%s\n", JsonText(a.export_dir).c_str(),
                JsonText(r.tensor).c_str(), static_cast<unsigned long long>(r.vocab),
                static_cast<unsigned long long>(r.hidden),
                r.output_dtype == "float32" ? "" : (", output " + r.output_dtype).c_str());
    std::printf("  checkpoint %s\n", JsonText(from).c_str());
    for (const FileVerification& f : r.files) {
      std::string line = f.message;
      if (f.ok) {
        line =
            f.splice
                ? fmt::format("{}: splice graph, {} ids with feature rows", FileName(f.file), f.ids_evaluated)
                : fmt::format("{}: {} rows, {} ids", FileName(f.file), f.rows_checked, f.ids_evaluated);
        if (f.has_stats)
          line += fmt::format(", max err {:.3e}{}", f.stats.max_abs_err,
                              f.stats_compared ? ", report stats match" : "");
        if (f.overflow.count > 0)
          line += fmt::format(", {} values stored as +-inf (largest |x| {:.9g})", f.overflow.count,
                              f.overflow.max_abs_source);
      }
      std::printf("  %-4s %-6s %s\n", f.ok ? "ok" : "FAIL", f.tier.c_str(), JsonText(line).c_str());
    }
  }
  return verdict;
}
}  // namespace

Status RunVerify(const VerifyArgs& a) {
  Status s = RunVerifyImpl(a);
  // A mismatch printed its own document; a run that never got to one prints this.
  if (!s.ok() && a.json && s.code() != Status::Code::kMismatch)
    PrintJsonError(s.message(), ExitStatusFor(Command::kVerify, s));
  return s;
}

void AddInspectCommand(CLI::App& app, InspectArgs* a) {
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Describe an .onnx file (IO, nodes, initializers, sidecar) or a checkpoint (tensors, the table).");
  cmd->footer(
      "A checkpoint (a folder, a .safetensors file or a model.safetensors.index.json) is listed\n"
      "tensor by tensor, with the one export would take as the table and why, and what\n"
      "config.json says of it.\n\n"
      "Examples:\n"
      "  embed2onnx inspect exports/granite-speech-4.1-2b/embed_tokens_int8.onnx --json\n"
      "  embed2onnx inspect models/granite-speech-4.1-2b\n");
  auto* file =
      cmd->add_option("file", a->file, "the .onnx file, or a checkpoint folder, .safetensors or index");
  cmd->add_option("--model", a->hf_model, std::string(kHfModelHelp) + " (instead of FILE)")->excludes(file);
  cmd->add_flag("--json", a->json, "print as JSON");
}

Status RunInspect(const InspectArgs& a) {
  // What could be read is printed even when the file is refused: the refusal follows as
  // the one error line (and as "ok": false, "error" in the JSON).
  if (!a.hf_model.empty() || LooksLikeCheckpoint(a.file)) {
    auto dir = a.hf_model.empty() ? Result<std::string>(a.file) : HfSnapshotDir(a.hf_model);
    auto r = dir.ok() ? InspectCheckpoint(*dir, a.json) : Result<std::string>(dir.status());
    if (!r.ok()) {
      if (a.json) PrintJsonError(r.status().message(), ExitStatusFor(Command::kInspect, r.status()));
      return r.status();
    }
    std::fputs(r->c_str(), stdout);
    return Status::Ok();
  }
  if (a.file.empty())
    return Status::InvalidArgument("inspect needs a FILE or --model (see embed2onnx inspect --help)");
  std::string text;
  Status s = InspectModel(a.file, a.json, &text);
  if (a.json && text.empty() && !s.ok()) {
    PrintJsonError(s.message(), ExitStatusFor(Command::kInspect, s));
    return s;
  }
  std::fputs(text.c_str(), stdout);
  return s;
}

}  // namespace embed2onnx
