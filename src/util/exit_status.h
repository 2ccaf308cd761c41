// The command line's exit statuses, as an enum (ninja's ExitStatus), and the one
// function that picks one for a finished command. The status comes from the command
// and the Status code, never from a message's wording, so rewording an error cannot
// change what a script sees.
//
//   0  success
//   1  failure: verify or inspect found the export wrong or damaged; an export failed
//      on its input (the checkpoint, its table) or on reading back what it wrote
//   2  usage: bad or missing flags, unknown command; for verify and inspect also "the
//      check could not run" (no export folder or file, the checkpoint missing,
//      unreadable or moved)
//   128 + N  killed or interrupted by signal N (set by the signal, not here)
#pragma once

#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

enum class ExitStatus : int {
  kSuccess = 0,
  kFailure = 1,
  kUsage = 2,
};

enum class Command { kExport, kVerify, kInspect };

// The exit status of `command` having returned `status` after its flags were accepted.
// (A flag refused before the command runs is always ExitStatus::kUsage.)
ExitStatus ExitStatusFor(Command command, const Status& status);

// The table above, for the end of --help.
std::string ExitStatusHelp();

}  // namespace embed2onnx
