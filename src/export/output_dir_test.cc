#include "export/output_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "schema/names.h"
#include "util/memory_disk.h"

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

// On the in-memory disk: one coherent export per folder.
class CoherentFolderTest : public ::testing::Test {
 protected:
  void SetUp() override { disk_.AddFolder("/out"); }
  // Stages `files` (name -> bytes) and commits; the notes it gave.
  Status Export(const std::map<std::string, std::string>& files) {
    notes_.clear();
    auto out = OutputDir::Open(
        "/out", [&](const std::string& n) { notes_.push_back(n); }, &disk_);
    if (!out.ok()) return out.status();
    for (const auto& [name, bytes] : files) E2O_RETURN_IF_ERROR((*out)->WriteStaged(name, bytes));
    return (*out)->Commit(false);
  }
  std::set<std::string> Names() {
    std::set<std::string> names;
    for (const auto& [path, bytes] : disk_.Snapshot("/out")) names.insert(path.substr(5));
    return names;
  }
  MemoryDisk disk_;
  std::vector<std::string> notes_;
};

constexpr char kOurs[] = R"({"tool": {"name": "embed2onnx"}, "tiers": {"int8": "embed_tokens_int8.onnx"},
  "files": {"int8": {"sidecar": "embed_tokens_int8.onnx_data"}}})";

TEST_F(CoherentFolderTest, TheOriginalScriptsFilesGoAndAUsersFilesStayNamed) {
  for (const char* f :
       {"embed_tokens.onnx", "embed_tokens.onnx_data", "embed_tokens_fp16w.onnx",
        "embed_tokens_fp16w.onnx_data", "embed_tokens_int8.onnx", "embed_tokens_int8.onnx_data"})
    disk_.AddFile(std::string("/out/") + f, "original");
  disk_.AddFile("/out/embed_tokens_parity.json", R"({"variant": "base", "tiers": {
    "fp32": "exports/g/embed_tokens.onnx", "fp16w": "exports/g/embed_tokens_fp16w.onnx",
    "int8": "exports/g/embed_tokens_int8.onnx"}})");
  disk_.AddFile("/out/notes.txt", "mine");
  disk_.AddFile("/out/my_model.onnx", "mine too");
  ASSERT_TRUE(Export({{"embed_tokens_int8.onnx", "new"},
                      {"embed_tokens_int8.onnx_data", "new"},
                      {kReportFileName, kOurs}})
                  .ok());
  EXPECT_EQ(Names(), (std::set<std::string>{"embed_tokens_int8.onnx", "embed_tokens_int8.onnx_data",
                                            kReportFileName, "my_model.onnx", "notes.txt"}));
  EXPECT_EQ(disk_.FileBytes("/out/embed_tokens_int8.onnx"), "new");
  ASSERT_EQ(notes_.size(), 2u);
  EXPECT_EQ(notes_[0],
            "/out: removed what the earlier export had and this one does not: embed_tokens.onnx, "
            "embed_tokens.onnx_data, embed_tokens_fp16w.onnx, embed_tokens_fp16w.onnx_data");
  EXPECT_EQ(notes_[1], "/out: left alone, not from an earlier export: my_model.onnx, notes.txt");
}

TEST_F(CoherentFolderTest, WithoutAReportOfOursOrTheOriginalsNothingIsRemoved) {
  disk_.AddFile("/out/embed_tokens.onnx", "someone's");
  disk_.AddFile("/out/embed_tokens_parity.json", R"({"tool": {"name": "other"}, "tiers": {
    "fp32": "embed_tokens.onnx"}})");
  ASSERT_TRUE(Export({{"embed_tokens_int8.onnx", "new"}, {kReportFileName, kOurs}}).ok());
  EXPECT_EQ(disk_.FileBytes("/out/embed_tokens.onnx"), "someone's");
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_EQ(notes_[0], "/out: left alone, not from an earlier export: embed_tokens.onnx");
}

TEST_F(CoherentFolderTest, ARunWithoutANewReportRetiresNothing) {
  disk_.AddFile("/out/embed_tokens.onnx", "old");
  disk_.AddFile("/out/embed_tokens_parity.json", R"({"tool": {"name": "embed2onnx"}, "tiers": {
    "fp32": "embed_tokens.onnx"}})");
  ASSERT_TRUE(Export({{"x.onnx", "new"}}).ok());
  EXPECT_EQ(disk_.FileBytes("/out/embed_tokens.onnx"), "old");  // the old report still lists it
}

TEST_F(CoherentFolderTest, AnEarlierReportThatCannotBeReadStopsTheCommit) {
  disk_.AddFile("/out/embed_tokens.onnx", "old");
  disk_.AddFile("/out/embed_tokens_parity.json", "{}");
  const auto before = disk_.Snapshot("/out");
  disk_.FailOn(DiskOp::kRead, 0, EIO);
  Status s = Export({{"embed_tokens_int8.onnx", "new"}, {kReportFileName, kOurs}});
  EXPECT_EQ(s.message(), "/out/embed_tokens_parity.json: cannot open: Input/output error");
  EXPECT_EQ(disk_.Snapshot("/out"), before);
}

TEST_F(CoherentFolderTest, LongListsAreCounted) {
  for (int i = 0; i < 25; ++i) disk_.AddFile("/out/f" + std::to_string(100 + i), "x");
  ASSERT_TRUE(Export({{kReportFileName, kOurs}}).ok());
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_NE(notes_[0].find("f119, and 5 more"), std::string::npos) << notes_[0];
}

TEST_F(CoherentFolderTest, AFailedRunRemovesTheFoldersItMadeAndWhatItStaged) {
  {
    auto out = OutputDir::Open(
        "/out/a/b", [](const std::string&) {}, &disk_);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->WriteStaged("x.onnx", "half").ok());
    EXPECT_EQ(disk_.guarded().size(), 3u);  // both folders and the file
  }
  EXPECT_TRUE(disk_.Snapshot("/out").empty());
  EXPECT_TRUE(disk_.guarded().empty());
}

}  // namespace
}  // namespace embed2onnx
