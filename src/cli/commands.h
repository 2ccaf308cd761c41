// The subcommands: each registers its flags on the CLI11 app and runs from its args.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "embed2onnx/figures.h"
#include "embed2onnx/model_source.h"
#include "embed2onnx/status.h"
#include "util/exit_status.h"

namespace embed2onnx {

// --json's document for a command that failed before it had one of its own, on stdout:
// {"ok": false, "error": "<the error line's message>", "exit_status": N}.
void PrintJsonError(const std::string& message, ExitStatus status);

struct ExportArgs {
  std::string variant, root = ".", model_dir, out_dir, tensor, tiers;
  std::string hf_model;                  // --model ORG/NAME[@REV], the Hugging Face cache
  std::string output_dtype = "float32";  // --output-dtype
  bool tiers_given = false;              // --tiers was on the command line (an empty list is an error)
  int threads = 0;
  bool quiet = false;
  bool fsync = false;
  bool json = false;     // one JSON document on stdout instead of the summary
  bool dry_run = false;  // plan only: write nothing
  uint32_t int4_block = 0;
  std::string audio_token_id;                                 // --audio-token-id as given
  std::string image_token_id;                                 // --image-token-id as given
  bool audio_token_given = false, image_token_given = false;  // on the command line (even as "")
  bool no_splice = false;
  std::optional<int64_t> audio_token;  // --audio-token-id parsed by CheckExportArgs
  std::optional<int64_t> image_token;  // --image-token-id parsed by CheckExportArgs
  std::string numpy = NumpyRulesName(kDefaultNumpyRules);
  std::vector<std::string> tier_list;  // --tiers parsed by CheckExportArgs; empty: every tier
};
void AddExportCommand(CLI::App& app, ExportArgs* args);
// The flag checks CLI11 cannot express; a refusal is a usage error. Fills tier_list.
Status CheckExportArgs(ExportArgs* args);
// REQUIRES: CheckExportArgs(&args) returned OK. With --json, prints exactly one JSON
// document, on failure too. A dry run that would not fit returns the free-space error.
Status RunExport(const ExportArgs& args);

struct VerifyArgs {
  std::string export_dir, model_dir, tensor;  // model_dir, tensor: "" -> from the report
  std::string hf_model;                       // --model ORG/NAME[@REV]
  uint32_t random_ids = 256;
  int threads = 0;
  bool json = false;
};
void AddVerifyCommand(CLI::App& app, VerifyArgs* args);
// With --json, prints exactly one JSON document, on failure too (so does RunInspect).
Status RunVerify(const VerifyArgs& args);

struct InspectArgs {
  std::string file;
  std::string hf_model;  // --model ORG/NAME[@REV]: the checkpoint in the Hugging Face cache
  bool json = false;
};
// --model: the snapshot folder `spec` names in the Hugging Face cache, checked to hold
// weights (model_source.h). Fills `entry` when given.
Result<std::string> HfSnapshotDir(const std::string& spec, HfCacheEntry* entry = nullptr);
// The help text of --model, the same for every command.
extern const char kHfModelHelp[];

void AddInspectCommand(CLI::App& app, InspectArgs* args);
Status RunInspect(const InspectArgs& args);

}  // namespace embed2onnx
