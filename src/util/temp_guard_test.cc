// SIGINT and SIGTERM remove the guarded paths and still end the process by the signal.
// Each case runs in a forked child, so the signals end the child, not the test.
#include "util/temp_guard.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "test_util/files.h"

namespace embed2onnx {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Runs `body` in a child; returns its wait status.
template <typename Fn>
int InChild(Fn body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

void Touch(const std::string& path) { std::ofstream(path) << "x"; }

bool Ignored(int sig) {
  struct sigaction cur;
  ::sigaction(sig, nullptr, &cur);
  return !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN;
}

// The test may have been started with a signal ignored (a background job); the cases
// that expect it to end the child need its default first. The handlers may already be
// installed by an earlier test in this process: those stay.
void Unignore(int sig) {
  if (Ignored(sig)) ::signal(sig, SIG_DFL);
}

class TempGuardTest : public ::testing::Test {
 protected:
  test_util::TempDir dir_;
  std::string folder_ = dir_.Join("made");
  std::string file_ = folder_ + "/.embed2onnx-tmp-1-x.onnx";
  std::string kept_ = dir_.Join("kept.onnx");

  // Guards a folder and a file in it, creates both and an unguarded file, then raises.
  void GuardCreateAndRaise(int sig) {
    if (!GuardPath(folder_, TempKind::kFolder).ok() || ::mkdir(folder_.c_str(), 0777) != 0) ::_exit(3);
    if (!GuardPath(file_, TempKind::kFile).ok()) ::_exit(3);
    Touch(file_);
    Touch(kept_);
    ::raise(sig);
  }
};

TEST_F(TempGuardTest, SigtermAndSigintRemoveGuardedPathsAndEndTheProcessBySignal) {
  for (int sig : {SIGTERM, SIGINT}) {
    int status = InChild([&] {
      Unignore(sig);
      GuardCreateAndRaise(sig);
      ::_exit(4);  // not reached: the signal ends the child
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << "signal " << sig << ": child exited with " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_FALSE(Exists(file_)) << "signal " << sig;
    EXPECT_FALSE(Exists(folder_)) << "signal " << sig;  // emptied, so removed too
    EXPECT_TRUE(Exists(kept_));                         // never guarded: never touched
    ::unlink(kept_.c_str());
  }
}

TEST_F(TempGuardTest, UnguardedPathsAndNonEmptyFoldersStay) {
  int status = InChild([&] {
    Unignore(SIGTERM);
    if (!GuardPath(folder_, TempKind::kFolder).ok() || ::mkdir(folder_.c_str(), 0777) != 0) ::_exit(3);
    const std::string renamed = folder_ + "/embed_tokens.onnx";
    if (!GuardPath(file_, TempKind::kFile).ok()) ::_exit(3);
    Touch(file_);
    ::rename(file_.c_str(), renamed.c_str());  // put into place: no longer ours to remove
    UnguardPath(file_);
    Touch(file_);  // a file of that name now is not this run's temporary
    ::raise(SIGTERM);
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(Exists(file_));
  EXPECT_TRUE(Exists(folder_ + "/embed_tokens.onnx"));
  EXPECT_TRUE(Exists(folder_));
}

TEST_F(TempGuardTest, AnIgnoredSignalStaysIgnored) {
  struct sigaction cur;
  ::sigaction(SIGINT, nullptr, &cur);
  if (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)
    GTEST_SKIP() << "an earlier test in this process installed the handlers";
  int status = InChild([&] {
    ::signal(SIGINT, SIG_IGN);  // as a shell starts a background job
    GuardCreateAndRaise(SIGINT);
    ::_exit(Exists(file_) ? 0 : 5);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(TempGuardTest, ADeferredSignalActsWhenTheDeferralEnds) {
  const std::string after = dir_.Join("after_raise");
  int status = InChild([&] {
    Unignore(SIGTERM);
    {
      SignalDeferral defer;
      GuardCreateAndRaise(SIGTERM);
      Touch(after);  // still running: the signal waits
      if (!Exists(file_)) ::_exit(6);
    }
    ::_exit(7);  // not reached
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_TRUE(Exists(after));
  EXPECT_FALSE(Exists(file_));
}

TEST_F(TempGuardTest, TheTableHasAFixedSize) {
  const int before = GuardedPathCount();
  std::vector<std::string> paths;
  Status s;
  for (int i = 0; i <= kMaxGuardedPaths && s.ok(); ++i) {
    paths.push_back(dir_.Join("t" + std::to_string(i)));
    s = GuardPath(paths.back(), TempKind::kFile);
  }
  EXPECT_TRUE(test_util::FailsNaming(s, paths.back(), "temporaries at once"));
  EXPECT_EQ(GuardedPathCount(), kMaxGuardedPaths);
  for (const std::string& p : paths) UnguardPath(p);
  EXPECT_EQ(GuardedPathCount(), before);
  EXPECT_TRUE(test_util::FailsNaming(GuardPath(std::string(5000, 'a'), TempKind::kFile), "aaaa", "too long"));
}

}  // namespace
}  // namespace embed2onnx
