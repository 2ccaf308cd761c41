// ExportTable's use of the disk: an export that cannot fit is refused before anything is
// created, naming the folder and both figures, and the bytes it plans bound what a real
// export writes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "export/export_disk.h"
#include "test_util/files.h"
#include "util/memory_disk.h"

namespace embed2onnx {
namespace {

constexpr int kV = 1000, kD = 64;

void WriteCheckpoint(const std::string& dir) { test_util::WriteF32Checkpoint(dir, kV, kD); }

class ExportDiskTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteCheckpoint(ckpt_.path()); }
  ExportOptions Options(const std::string& out_dir) {
    ExportOptions o;
    o.model_dir = ckpt_.path();
    o.out_dir = out_dir;
    o.tiers = {"fp32", "int8"};
    o.threads = 1;
    return o;
  }
  test_util::TempDir ckpt_;
};

TEST_F(ExportDiskTest, AnExportThatDoesNotFitIsRefusedBeforeTheFirstFile) {
  MemoryDisk disk;
  disk.AddFile("/out/embed_tokens.onnx", "the previous export");
  const auto before = disk.Snapshot("/out");
  disk.SetCapacity(200 * 1024);  // the fp32 sidecar alone is 250 KiB
  Result<ExportSummary> r = ExportTableOn(Options("/out"), &disk);
  ASSERT_FALSE(r.ok());
  std::smatch m;
  const std::string msg = r.status().message();
  ASSERT_TRUE(std::regex_match(msg, m,
                               std::regex("/out: not enough free space: this export writes ([0-9]+) bytes, "
                                          "([0-9]+) are free \\(.*\\)")))
      << msg;
  EXPECT_EQ(std::stoull(m[2]), 200 * 1024 - 4096u);
  EXPECT_GT(std::stoull(m[1]), 256000u);
  for (const std::string& line : disk.log()) EXPECT_NE(line.rfind("create ", 0), 0u) << line;
  EXPECT_EQ(disk.Snapshot("/out"), before);
  EXPECT_TRUE(disk.guarded().empty());
}

TEST_F(ExportDiskTest, ThePlannedBytesBoundWhatARealExportWrites) {
  MemoryDisk disk;
  disk.AddFolder("/out");
  disk.SetCapacity(0);
  Result<ExportSummary> refused = ExportTableOn(Options("/out"), &disk);
  std::smatch m;
  const std::string msg = refused.status().message();
  ASSERT_TRUE(std::regex_search(msg, m, std::regex("writes ([0-9]+) bytes"))) << msg;
  const uint64_t planned = std::stoull(m[1]);

  test_util::TempDir out;
  Result<ExportSummary> r = ExportTable(Options(out.path()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // fp32 and int8 of a 1000 x 64 table: no sidecar has a hole bigger than its last block's
  // slack, so whole blocks of each file's size are exactly what it takes.
  uint64_t written = 0;
  for (const auto& e : std::filesystem::directory_iterator(out.path()))
    written += (e.file_size() + 4095) / 4096 * 4096;
  EXPECT_GE(planned, written);
  EXPECT_LE(planned, written + 4096);  // the report's bound may cost one block more
}

TEST_F(ExportDiskTest, APathThatIsNotUtf8ExportsAndIsRecordedExactly) {
  // Paths are bytes on Linux: the export runs, and the report keeps the exact bytes in hex
  // beside a readable form.
  const std::string odd = ckpt_.Join("ckpt\xfe");
  std::filesystem::create_directory(odd);
  WriteCheckpoint(odd);
  test_util::TempDir out;
  ExportOptions o = Options(out.path() + "/new");
  o.model_dir = odd;
  Result<ExportSummary> r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::ifstream in(o.out_dir + "/embed_tokens_parity.json");
  const std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(report.find("\"checkpoint_hex\""), std::string::npos) << report;
  for (const auto& e : std::filesystem::directory_iterator(o.out_dir))
    EXPECT_EQ(e.path().filename().string().rfind(".embed2onnx-tmp-", 0), std::string::npos) << e.path();
}

}  // namespace
}  // namespace embed2onnx
