// embed2onnx: the command line. Parses flags, calls the library, prints the result.
// Every failure ends as one line "embed2onnx: error: ..." on stderr and a non-zero exit.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "embed2onnx/export.h"
#include "embed2onnx/tiers.h"

using namespace embed2onnx;

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
    return 2;
  }
  Status s = Status::InvalidArgument("no command given");
  if (app.got_subcommand("export")) s = RunExport(export_args);
  if (app.got_subcommand("verify")) s = RunVerify(verify_args);
  if (app.got_subcommand("inspect")) s = RunInspect(inspect_args);
  if (!s.ok()) {
    std::fprintf(stderr, "embed2onnx: error: %s\n", s.message().c_str());
    return s.code() == Status::Code::kInvalidArgument && s.message().rfind("--", 0) == 0 ? 2 : 1;
  }
  return 0;
}
