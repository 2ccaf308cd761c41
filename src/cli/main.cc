// embed2onnx: the command line. Parses flags, calls the library, prints the result.
// Every failure ends as one line "embed2onnx: error: ..." on stderr and a non-zero exit
// status from util/exit_status.h.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "embed2onnx/export.h"
#include "embed2onnx/tiers.h"
#include "util/exit_status.h"

using namespace embed2onnx;

namespace {
int Fail(const Status& s, ExitStatus status) {
  std::fprintf(stderr, "embed2onnx: error: %s\n", s.message().c_str());
  return static_cast<int>(status);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"embed2onnx " + std::string(Version()) +
               ": export an LLM's token-embedding table from a Hugging Face safetensors checkpoint as small, "
               "verified ONNX lookup graphs (input_ids -> inputs_embeds)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(Version()));
  ExportArgs export_args;
  AddExportCommand(app, &export_args);
  VerifyArgs verify_args;
  AddVerifyCommand(app, &verify_args);
  InspectArgs inspect_args;
  AddInspectCommand(app, &inspect_args);
  app.footer(ExitStatusHelp());
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "embed2onnx: error: %s (see embed2onnx --help)\n", e.what());
    return static_cast<int>(ExitStatus::kUsage);
  }
  // require_subcommand(1) leaves exactly one of these.
  Command command = Command::kInspect;
  Status s;
  if (app.got_subcommand("export")) {
    command = Command::kExport;
    s = CheckExportArgs(&export_args);
    if (!s.ok()) return Fail(s, ExitStatus::kUsage);
    s = RunExport(export_args);
  } else if (app.got_subcommand("verify")) {
    command = Command::kVerify;
    s = RunVerify(verify_args);
  } else {
    s = RunInspect(inspect_args);
  }
  return s.ok() ? static_cast<int>(ExitStatus::kSuccess) : Fail(s, ExitStatusFor(command, s));
}
