// embed2onnx: the command line. Parses flags, calls the library, prints the result.
// Every failure ends as one line "embed2onnx: error: ..." on stderr and a non-zero exit
// status from util/exit_status.h.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/flag_values.h"
#include "cli/help_format.h"
#include "embed2onnx/export.h"
#include "embed2onnx/tiers.h"
#include "util/edit_distance.h"
#include "util/exit_status.h"

using namespace embed2onnx;

namespace {
int Fail(const Status& s, ExitStatus status) {
  std::fprintf(stderr, "embed2onnx: error: %s\n", s.message().c_str());
  return static_cast<int>(status);
}

constexpr const char* kCommands[] = {"export", "verify", "inspect"};

bool IsCommand(const std::string& word) {
  for (const char* c : kCommands)
    if (word == c) return true;
  return false;
}

// "unknown command 'exprot' (did you mean 'export'?)", as git and ninja say it.
std::string UnknownCommand(const std::string& word) {
  std::string msg = "unknown command '" + word + "'";
  const char* best = nullptr;
  size_t best_d = 3;
  for (const char* c : kCommands) {
    size_t d = EditDistance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  if (best) msg += std::string(" (did you mean '") + best + "'?)";
  return msg + "; commands: export, verify, inspect, help (see embed2onnx --help)";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"embed2onnx " + std::string(Version()) +
               ": export an LLM's token-embedding table from a Hugging Face safetensors checkpoint as small, "
               "verified ONNX lookup graphs (input_ids -> inputs_embeds)."};
  app.name("embed2onnx");
  // Before the commands are added: each takes its formatter from the app.
  app.formatter(std::make_shared<WrappingFormatter>());
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "embed2onnx " + std::string(Version()));
  ExportArgs export_args;
  AddExportCommand(app, &export_args);
  VerifyArgs verify_args;
  AddVerifyCommand(app, &verify_args);
  InspectArgs inspect_args;
  AddInspectCommand(app, &inspect_args);
  for (CLI::App* cmd : app.get_subcommands([](CLI::App*) { return true; })) RefuseOptionNamesAsValues(cmd);
  app.footer(ExitStatusHelp());
  // `help [COMMAND]`, `version`, and a word that is no command, before CLI11 sees them.
  if (argc >= 2 && argv[1][0] != '-') {
    const std::string word = argv[1];
    if (word == "help") {
      if (argc == 2) {
        std::fputs(app.help().c_str(), stdout);
        return static_cast<int>(ExitStatus::kSuccess);
      }
      if (argc == 3 && IsCommand(argv[2])) {
        std::fputs(app.get_subcommand(argv[2])->help("embed2onnx").c_str(), stdout);
        return static_cast<int>(ExitStatus::kSuccess);
      }
      return Fail(Status::InvalidArgument(argc == 3 ? UnknownCommand(argv[2]) : "help takes one command"),
                  ExitStatus::kUsage);
    }
    if (word == "version" && argc == 2) {
      std::printf("embed2onnx %s\n", Version());
      return static_cast<int>(ExitStatus::kSuccess);
    }
    if (!IsCommand(word)) return Fail(Status::InvalidArgument(UnknownCommand(word)), ExitStatus::kUsage);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // An error inside a command points to that command's help.
    const std::string where = argc >= 2 && IsCommand(argv[1]) ? std::string(argv[1]) + " --help" : "--help";
    const std::string msg = std::string(e.what()) + " (see embed2onnx " + where + ")";
    // A script that asked for JSON gets its one document even when the flags are refused.
    if (argc >= 2 && IsCommand(argv[1]))
      for (int i = 2; i < argc; ++i)
        if (std::string(argv[i]) == "--json") PrintJsonError(msg, ExitStatus::kUsage);
    std::fprintf(stderr, "embed2onnx: error: %s\n", msg.c_str());
    return static_cast<int>(ExitStatus::kUsage);
  }
  // require_subcommand(1) leaves exactly one of these.
  Command command = Command::kInspect;
  Status s;
  if (app.got_subcommand("export")) {
    command = Command::kExport;
    s = CheckExportArgs(&export_args);
    if (!s.ok()) {
      if (export_args.json) PrintJsonError(s.message(), ExitStatus::kUsage);
      return Fail(s, ExitStatus::kUsage);
    }
    s = RunExport(export_args);
  } else if (app.got_subcommand("verify")) {
    command = Command::kVerify;
    s = RunVerify(verify_args);
  } else {
    s = RunInspect(inspect_args);
  }
  return s.ok() ? static_cast<int>(ExitStatus::kSuccess) : Fail(s, ExitStatusFor(command, s));
}
