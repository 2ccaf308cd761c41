#include "util/temp_guard.h"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace embed2onnx {

namespace {

// The handler reads a slot only while it is armed; writers fill it while it is busy.
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
enum SlotState : int { kFree = 0, kBusy = 1, kArmed = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  bool folder = false;
  char path[PATH_MAX];
};

Slot g_slots[kMaxGuardedPaths];
// Serialises GuardPath and UnguardPath with each other; the handler never takes it.
std::mutex g_mutators;
std::atomic<int> g_deferrals{0};
std::atomic<int> g_pending{0};  // a signal that arrived during a deferral

constexpr int kSignals[] = {SIGINT, SIGTERM};
struct sigaction g_previous[2];  // written before the handler is installed, then read only

int SignalIndex(int sig) { return sig == SIGINT ? 0 : 1; }

// Async-signal-safe: unlink, rmdir and atomics only.
void RemoveGuarded() {
  bool done[kMaxGuardedPaths] = {};
  for (int i = 0; i < kMaxGuardedPaths; ++i) {
    Slot& s = g_slots[i];
    if (s.state.load(std::memory_order_acquire) == kArmed && !s.folder) {
      ::unlink(s.path);
      done[i] = true;
    }
  }
  // A parent folder empties only once its child is gone; the slots are in no particular
  // order, so pass over them until a pass removes nothing.
  for (bool progress = true; progress;) {
    progress = false;
    for (int i = 0; i < kMaxGuardedPaths; ++i) {
      Slot& s = g_slots[i];
      if (done[i] || s.state.load(std::memory_order_acquire) != kArmed || !s.folder) continue;
      if (::rmdir(s.path) == 0 || errno == ENOENT) done[i] = progress = true;
    }
  }
}

void ReRaise(int sig) {
  ::sigaction(sig, &g_previous[SignalIndex(sig)], nullptr);
  ::raise(sig);  // blocked inside the handler: delivered as it returns
}

extern "C" void OnInterrupt(int sig) {
  const int saved_errno = errno;
  if (g_deferrals.load() > 0) {
    g_pending.store(sig);
  } else {
    RemoveGuarded();
    ReRaise(sig);
  }
  errno = saved_errno;
}

void InstallHandlers() {
  for (int sig : kSignals) {
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    // An ignored signal cannot end the process: nothing to clean up, and the user (or
    // the shell that started us in the background) wants it ignored.
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN) continue;
    g_previous[SignalIndex(sig)] = old;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    for (int other : kSignals) sigaddset(&sa.sa_mask, other);  // no cleanup interrupts another
    sa.sa_flags = SA_RESTART;
    ::sigaction(sig, &sa, nullptr);
  }
}

}  // namespace

Status GuardPath(const std::string& path, TempKind kind) {
  if (path.size() >= PATH_MAX || path.find('\0') != std::string::npos)
    return Status::IOError(path + ": path too long to be removed on an interrupt");
  static std::once_flag installed;
  std::call_once(installed, InstallHandlers);
  std::lock_guard<std::mutex> lock(g_mutators);
  for (Slot& s : g_slots) {
    if (s.state.load(std::memory_order_relaxed) != kFree) continue;
    s.state.store(kBusy, std::memory_order_relaxed);
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.folder = kind == TempKind::kFolder;
    s.state.store(kArmed, std::memory_order_release);
    return Status::Ok();
  }
  return Status::IOError(path + ": more than " + std::to_string(kMaxGuardedPaths) +
                         " temporaries at once: cannot guard another against interrupts");
}

void UnguardPath(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutators);
  for (Slot& s : g_slots) {
    if (s.state.load(std::memory_order_relaxed) == kArmed && path == s.path) {
      s.state.store(kFree, std::memory_order_release);
      return;
    }
  }
}

int GuardedPathCount() {
  int n = 0;
  for (const Slot& s : g_slots) n += s.state.load() == kArmed;
  return n;
}

SignalDeferral::SignalDeferral() { g_deferrals.fetch_add(1); }

SignalDeferral::~SignalDeferral() {
  if (g_deferrals.fetch_sub(1) != 1) return;
  if (int sig = g_pending.exchange(0)) {
    RemoveGuarded();
    ReRaise(sig);
  }
}

}  // namespace embed2onnx
