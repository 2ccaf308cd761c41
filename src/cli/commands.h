// The subcommands: each registers its flags on the CLI11 app and runs from its args.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

struct ExportArgs {
  std::string variant, root = ".", model_dir, out_dir, tensor, tiers;
  int threads = 0;
  bool quiet = false;
  bool fsync = false;
  uint32_t int4_block = 32;
};
void AddExportCommand(CLI::App& app, ExportArgs* args);
Status RunExport(const ExportArgs& args);

}  // namespace embed2onnx
