#include "util/exit_status.h"

namespace embed2onnx {

ExitStatus ExitStatusFor(Command command, const Status& status) {
  using Code = Status::Code;
  if (status.ok()) return ExitStatus::kSuccess;
  const Code code = status.code();
  switch (command) {
    case Command::kExport:
      // Its flags were accepted: it failed on what it read or on what it wrote.
      return ExitStatus::kFailure;
    case Command::kVerify:
      // Every verdict on a file arrives as a Mismatch; any other code stopped the run
      // before a verdict (the checkpoint or the folder could not be read), which a
      // script must not take for "the export is bad".
      return code == Code::kMismatch ? ExitStatus::kFailure : ExitStatus::kUsage;
    case Command::kInspect:
      // The file was there and readable but is not a sound model; a missing or
      // unreadable file is a check that never ran.
      return code == Code::kCorruption || code == Code::kNotSupported || code == Code::kMismatch
                 ? ExitStatus::kFailure
                 : ExitStatus::kUsage;
  }
  return ExitStatus::kFailure;
}

std::string ExitStatusHelp() {
  return "Exit status:\n"
         "  0        success\n"
         "  1        verify/inspect found the export wrong or damaged; export failed on its input or "
         "its read-back\n"
         "  2        usage error (bad or missing flags); verify/inspect could not run (export folder or "
         "checkpoint\n"
         "           missing or unreadable)\n"
         "  128+N    interrupted by signal N\n";
}

}  // namespace embed2onnx
