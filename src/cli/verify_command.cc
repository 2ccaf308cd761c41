// `embed2onnx verify` and `embed2onnx inspect`.
#include <fmt/core.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "embed2onnx/inspect.h"
#include "embed2onnx/inspect_checkpoint.h"
#include "embed2onnx/verify.h"
#include "util/json_text.h"

namespace embed2onnx {

void AddVerifyCommand(CLI::App& app, VerifyArgs* a) {
  CLI::App* cmd = app.add_subcommand(
      "verify", "Check every embed_tokens*.onnx in an export folder against the checkpoint it came from.");
  cmd->footer(
      "Checks the graph contract, every stored row against the checkpoint (exact tiers bit for bit, "
      "int8/int4\n"
      "within their quantisation bound, their report statistics recomputed), and the graph's output on the\n"
      "sample ids and --random ids. Accepts exports of the original Python script. Exit 0 only if all "
      "pass.\n\n"
      "Example:\n  embed2onnx verify exports/granite-speech-4.1-2b --model-dir models/granite-speech-4.1-2b "
      "--json\n");
  cmd->add_option("export_dir", a->export_dir, "folder holding embed_tokens*.onnx")->required();
  auto* model = cmd->add_option("--model-dir", a->model_dir, "the checkpoint the export came from");
  cmd->add_option("--model", a->hf_model, std::string(kHfModelHelp) + " (instead of --model-dir)")
      ->excludes(model);
  cmd->add_option("--tensor", a->tensor, "the table's tensor name (default: found as export does)");
  cmd->add_option("--random", a->random_ids, "random ids to evaluate besides the sample ids (default 256)");
  cmd->add_option("--threads", a->threads, "threads (default: every core)")->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", a->json, "print the result as JSON");
}

Status RunVerify(const VerifyArgs& a) {
  VerifyOptions o;
  o.export_dir = a.export_dir;
  o.model_dir = a.model_dir;
  if (!a.hf_model.empty()) {
    E2O_ASSIGN_OR_RETURN(o.model_dir, HfSnapshotDir(a.hf_model));
  } else if (a.model_dir.empty()) {
    return Status::InvalidArgument("verify needs --model-dir or --model (see embed2onnx verify --help)");
  }
  o.tensor = a.tensor;
  o.random_ids = a.random_ids;
  o.threads = a.threads;
  E2O_ASSIGN_OR_RETURN(VerifyResult r, VerifyExport(o));
  if (a.json) {
    // Paths, names and messages may hold bytes that are not UTF-8 (util/json_text.h).
    nlohmann::ordered_json j = {{"ok", r.ok()}};
    j["output_dtype"] = r.output_dtype;
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
    std::printf("verify %s against %s [%llu x %llu]%s\n", a.export_dir.c_str(), r.tensor.c_str(),
                static_cast<unsigned long long>(r.vocab), static_cast<unsigned long long>(r.hidden),
                r.output_dtype == "float32" ? "" : (", output " + r.output_dtype).c_str());
    for (const FileVerification& f : r.files) {
      std::string line = f.message;
      if (f.ok) {
        line = f.splice ? fmt::format("{}: splice graph, {} ids with audio rows", f.file, f.ids_evaluated)
                        : fmt::format("{}: {} rows, {} ids", f.file, f.rows_checked, f.ids_evaluated);
        if (f.has_stats)
          line += fmt::format(", max err {:.3e}{}", f.stats.max_abs_err,
                              f.stats_compared ? ", report stats match" : "");
        if (f.overflow.count > 0)
          line += fmt::format(", {} values stored as +-inf (largest |x| {:.9g})", f.overflow.count,
                              f.overflow.max_abs_source);
      }
      std::printf("  %-4s %-6s %s\n", f.ok ? "ok" : "FAIL", f.tier.c_str(), line.c_str());
    }
  }
  if (!r.ok()) {
    for (const FileVerification& f : r.files)
      if (!f.ok) return Status::Mismatch(f.message);
  }
  return Status::Ok();
}

void AddInspectCommand(CLI::App& app, InspectArgs* a) {
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Describe an .onnx file (IO, nodes, initializers, sidecar) or a checkpoint (tensors, the table).");
  cmd->footer(
      "A checkpoint (a folder, a .safetensors file or a model.safetensors.index.json) is listed tensor by "
      "tensor,\n"
      "with the one export would take as the table and why, and what config.json says of it.\n\n"
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
    std::string dir = a.file;
    if (!a.hf_model.empty()) {
      E2O_ASSIGN_OR_RETURN(dir, HfSnapshotDir(a.hf_model));
    }
    auto r = InspectCheckpoint(dir, a.json);
    if (!r.ok()) return r.status();
    std::fputs(r->c_str(), stdout);
    return Status::Ok();
  }
  if (a.file.empty())
    return Status::InvalidArgument("inspect needs a FILE or --model (see embed2onnx inspect --help)");
  std::string text;
  Status s = InspectModel(a.file, a.json, &text);
  std::fputs(text.c_str(), stdout);
  return s;
}

}  // namespace embed2onnx
