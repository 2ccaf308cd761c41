#include "export/output_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class OutputDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("e2o_outdir_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  std::function<void(const std::string&)> quiet_ = [](const std::string&) {};
};

TEST_F(OutputDirTest, FilesAppearOnlyAtCommit) {
  fs::path dir = root_ / "a" / "b";
  auto out = OutputDir::Open(dir.string(), quiet_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::string tmp = *(*out)->Stage("x.onnx");
  std::ofstream(tmp) << "new";
  EXPECT_FALSE(fs::exists(dir / "x.onnx"));
  ASSERT_TRUE((*out)->Commit(false).ok());
  EXPECT_EQ(Slurp(dir / "x.onnx"), "new");
  EXPECT_FALSE(fs::exists(tmp));
}

TEST_F(OutputDirTest, FailedRunLeavesPreviousFilesAndRemovesWhatItCreated) {
  std::ofstream(root_ / "x.onnx") << "old";
  {
    auto out = OutputDir::Open(root_.string(), quiet_);
    ASSERT_TRUE(out.ok());
    std::ofstream(*(*out)->Stage("x.onnx")) << "half-written";
    std::ofstream(*(*out)->Stage("y.onnx")) << "half-written";
  }  // no Commit: the run failed
  EXPECT_EQ(Slurp(root_ / "x.onnx"), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 1);
  {
    auto out = OutputDir::Open((root_ / "new" / "deeper").string(), quiet_);
    ASSERT_TRUE(out.ok());
  }
  EXPECT_FALSE(fs::exists(root_ / "new"));  // folders it made are gone again
}

TEST_F(OutputDirTest, StaleTemporariesOfAKilledRunAreRemoved) {
  std::ofstream(root_ / (std::string(kTempPrefix) + "999-embed_tokens.onnx_data")) << "junk";
  std::ofstream(root_ / "keep.txt") << "mine";
  std::vector<std::string> notes;
  auto out = OutputDir::Open(root_.string(), [&](const std::string& n) { notes.push_back(n); });
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(fs::exists(root_ / (std::string(kTempPrefix) + "999-embed_tokens.onnx_data")));
  EXPECT_TRUE(fs::exists(root_ / "keep.txt"));
  ASSERT_EQ(notes.size(), 1u);
}

TEST_F(OutputDirTest, SecondRunWaitsForTheLock) {
  auto first = OutputDir::Open(root_.string(), quiet_);
  ASSERT_TRUE(first.ok());
  // flock belongs to the open folder description, so a second Open in another thread
  // contends exactly as a second process would (a forked child would share ours).
  std::atomic<bool> waited{false}, opened{false};
  std::thread second([&] {
    auto out = OutputDir::Open(root_.string(), [&](const std::string&) { waited = true; });
    opened = out.ok();
  });
  for (int i = 0; i < 200 && !waited; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(waited);
  EXPECT_FALSE(opened);  // still blocked while we hold the folder
  first->reset();        // releases the lock
  second.join();
  EXPECT_TRUE(opened);
}

// A failed run removes the folders it created; a run waiting for its lock on one of them
// must not end up writing into a removed folder.
TEST_F(OutputDirTest, WaiterRecreatesTheFolderAFailedRunRemoved) {
  fs::path dir = root_ / "made" / "by_first";
  auto first = OutputDir::Open(dir.string(), quiet_);  // creates both folders
  ASSERT_TRUE(first.ok());
  std::atomic<bool> waited{false};
  std::unique_ptr<OutputDir> second;
  std::string error;
  std::thread waiter([&] {
    auto out = OutputDir::Open(dir.string(), [&](const std::string&) { waited = true; });
    if (out.ok())
      second = std::move(*out);
    else
      error = out.status().ToString();
  });
  for (int i = 0; i < 200 && !waited; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(waited);
  first->reset();  // the first run fails: its folders go, then its lock
  waiter.join();
  ASSERT_TRUE(second) << error;
  std::ofstream(*second->Stage("x.onnx")) << "new";
  ASSERT_TRUE(second->Commit(false).ok());
  EXPECT_EQ(Slurp(dir / "x.onnx"), "new");
}

}  // namespace
}  // namespace embed2onnx
