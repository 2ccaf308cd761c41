// Removing this run's temporaries when SIGINT or SIGTERM ends the process.
//
// A signal handler may only make async-signal-safe calls, so the paths live in a
// fixed-size table of C strings filled in before each temporary is created. The handler
// unlink()s every file in it, rmdir()s every folder (deepest first; a folder something
// else appeared in stays), restores the disposition the signal had before and raises
// it again, so the process ends the way the signal says (exit status 128+signo in a
// shell) or runs the host's own handler.
//
// The handlers are installed when the first path is guarded, and only for a signal that
// is not ignored (a run started with SIGINT ignored, e.g. a background job of a
// script, keeps ignoring it). A SignalDeferral holds both signals back while it lives
// (a commit, which must not stop halfway): a signal that arrives meanwhile is acted on
// when the last deferral ends.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <string>

#include "embed2onnx/status.h"
#include "util/disk.h"

namespace embed2onnx {

inline constexpr int kMaxGuardedPaths = 64;

// Registers `path`. REQUIRES: before the file or folder exists. IOError when the table
// is full or the path too long to store.
Status GuardPath(const std::string& path, TempKind kind);
// Forgets `path` (once it is renamed into place or removed).
void UnguardPath(const std::string& path);
// How many paths are guarded now (for tests).
int GuardedPathCount();

class SignalDeferral {
 public:
  SignalDeferral();
  ~SignalDeferral();  // may end the process: cleanup, then the signal that arrived
  SignalDeferral(const SignalDeferral&) = delete;
  SignalDeferral& operator=(const SignalDeferral&) = delete;
};

}  // namespace embed2onnx
