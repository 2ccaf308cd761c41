// TierWriter and OutputDir together on the in-memory disk: the planned layout is what
// lands, the free-space plan is exact, and every fault on the way (each call of each
// disk operation in turn) gives one Status naming a file in the folder, leaves nothing
// staged behind and the previous export byte for byte as it was.
#include "export/tier_writer.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cerrno>

#include "schema/names.h"
#include "util/memory_disk.h"

namespace embed2onnx {
namespace {

constexpr char kDir[] = "/out";
constexpr uint64_t kRows = 300, kCols = 64, kChunkRows = 64;

// Byte j of streamed tensor i in an export "seeded" with `seed`.
uint8_t PatternByte(int seed, int i, uint64_t j) { return static_cast<uint8_t>(seed * 31 + i * 131 + j * 7); }

TierParams Params() {
  TierParams p;
  p.int4_block = 32;
  return p;
}

// What ExportTable does to the output folder, with made-up row bytes and a small report
// of ours listing the files.
Status MiniExport(MemoryDisk* disk, const std::vector<std::string>& tiers, int seed) {
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<OutputDir> out, OutputDir::Open(
                                                           kDir, [](const std::string&) {}, disk));
  std::vector<std::unique_ptr<TierWriter>> writers;
  std::string report = R"({"tool": {"name": "embed2onnx"}, "tiers": {)", files;
  for (const std::string& name : tiers) {
    E2O_ASSIGN_OR_RETURN(std::unique_ptr<TierWriter> w,
                         TierWriter::Create(*FindTier(name), Params(), kRows, kCols, {"p", "1"}, out.get()));
    const std::string file = w->tier().file_name;
    report += (writers.empty() ? "\"" : ", \"") + name + "\": \"" + file + "\"";
    files += (writers.empty() ? "\"" : ", \"") + name + "\": {\"sidecar\": \"" + SidecarName(file) + "\"}";
    writers.push_back(std::move(w));
  }
  report += "}, \"files\": {" + files + "}}";
  std::vector<uint64_t> extents = {report.size()};
  for (auto& w : writers)
    for (uint64_t e : w->planned_extents()) extents.push_back(e);
  E2O_RETURN_IF_ERROR(out->CheckFreeSpace(extents));
  for (auto& w : writers) E2O_RETURN_IF_ERROR(w->Open());
  for (auto& w : writers) {
    const Tier& t = w->tier();
    std::vector<std::vector<uint8_t>> bufs(t.num_streamed);
    for (uint64_t first = 0; first < kRows; first += kChunkRows) {
      const uint64_t n = std::min(kChunkRows, kRows - first);
      const uint8_t* outs[kMaxStreamed];
      for (int i = 0; i < t.num_streamed; ++i) {
        const uint64_t rb = TierRowBytes(t, i, kCols, Params());
        bufs[i].resize(n * rb);
        for (uint64_t j = 0; j < n * rb; ++j) bufs[i][j] = PatternByte(seed, i, first * rb + j);
        outs[i] = bufs[i].data();
      }
      E2O_RETURN_IF_ERROR(w->WriteRows(first, n, outs));
    }
    E2O_RETURN_IF_ERROR(w->Finish());
  }
  E2O_RETURN_IF_ERROR(out->WriteStaged(kReportFileName, report));
  return out->Commit(/*durable=*/true);
}

// The disk's files under kDir that are not temporaries.
std::map<std::string, std::string> Landed(const MemoryDisk& disk) {
  std::map<std::string, std::string> out;
  for (const auto& [path, bytes] : disk.Snapshot(kDir))
    if (path.find("/.embed2onnx-tmp-") == std::string::npos) out[path] = bytes;
  return out;
}

const std::vector<std::string> kAllTiers = {"fp32", "fp16w", "bf16w", "int8", "int4"};
const std::vector<std::string> kNewTiers = {"int8", "fp32"};

// A disk holding a complete previous export of every tier, and a user's file.
std::unique_ptr<MemoryDisk> DiskWithPreviousExport() {
  auto disk = std::make_unique<MemoryDisk>();
  disk->AddFolder(kDir);
  Status s = MiniExport(disk.get(), kAllTiers, /*seed=*/1);
  EXPECT_TRUE(s.ok()) << s.ToString();
  disk->AddFile(std::string(kDir) + "/notes.txt", "mine");
  return disk;
}

TEST(TierWriterTest, ThePlannedLayoutIsWhatLands) {
  MemoryDisk disk;
  disk.AddFolder(kDir);
  ASSERT_TRUE(MiniExport(&disk, kAllTiers, 5).ok());
  for (const std::string& name : kAllTiers) {
    const Tier& t = *FindTier(name);
    const std::string onnx_path = std::string(kDir) + "/" + t.file_name;
    const std::string sidecar = disk.FileBytes(onnx_path + kSidecarSuffix);
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(disk.FileBytes(onnx_path))) << name;
    EXPECT_EQ(model.graph().name(), t.graph_name);
    for (int i = 0; i < t.num_streamed; ++i) {
      const onnx::TensorProto* init = nullptr;
      for (const onnx::TensorProto& x : model.graph().initializer())
        if (x.name() == t.streamed[i].name) init = &x;
      ASSERT_NE(init, nullptr) << name << " " << t.streamed[i].name;
      const uint64_t size = kRows * TierRowBytes(t, i, kCols, Params());
      std::string want(size, '\0');
      for (uint64_t j = 0; j < size; ++j) want[j] = static_cast<char>(PatternByte(5, i, j));
      if (init->data_location() != onnx::TensorProto::EXTERNAL) {
        EXPECT_EQ(init->raw_data(), want) << name << " inline " << init->name();
        continue;
      }
      std::map<std::string, std::string> ext;
      for (const auto& kv : init->external_data()) ext[kv.key()] = kv.value();
      EXPECT_EQ(ext.size(), 3u);
      EXPECT_EQ(ext["location"], std::string(t.file_name) + kSidecarSuffix);
      EXPECT_EQ(ext["length"], std::to_string(size));
      const uint64_t offset = std::stoull(ext["offset"]);
      EXPECT_EQ(offset % kSidecarAlignment, 0u);
      ASSERT_LE(offset + size, sidecar.size());
      EXPECT_EQ(sidecar.substr(offset, size), want) << name << " " << init->name();
      if (i + 1 == t.num_streamed) EXPECT_EQ(offset + size, sidecar.size());  // ends where the last ends
    }
  }
  EXPECT_TRUE(disk.guarded().empty());
}

TEST(TierWriterTest, EveryTemporaryIsGuardedBeforeItIsCreated) {
  MemoryDisk disk;
  disk.AddFolder(kDir);
  ASSERT_TRUE(MiniExport(&disk, kAllTiers, 5).ok());
  std::set<std::string> guarded;
  int creates = 0;
  for (const std::string& line : disk.log()) {
    if (line.rfind("guard ", 0) == 0) guarded.insert(line.substr(6));
    if (line.rfind("create ", 0) == 0) {
      ++creates;
      EXPECT_TRUE(guarded.count(line.substr(7))) << line;
    }
  }
  EXPECT_EQ(creates, 11);  // five graphs, five sidecars, the report
}

TEST(TierWriterTest, TheFreeSpacePlanIsExactAndCheckedBeforeAnyFileIsCreated) {
  // The blocks a whole export takes, measured.
  uint64_t used = 0;
  {
    MemoryDisk disk;
    disk.AddFolder(kDir);
    ASSERT_TRUE(MiniExport(&disk, kAllTiers, 2).ok());
    used = UINT64_MAX - disk.Space(kDir)->free_bytes;
  }
  MemoryDisk fits;
  fits.AddFolder(kDir);
  fits.SetCapacity(used);
  EXPECT_TRUE(MiniExport(&fits, kAllTiers, 2).ok());

  MemoryDisk short_by_one;
  short_by_one.AddFolder(kDir);
  short_by_one.SetCapacity(used - 4096);
  Status s = MiniExport(&short_by_one, kAllTiers, 2);
  EXPECT_EQ(s.message(), std::string(kDir) + ": not enough free space: this export writes " +
                             std::to_string(used) + " bytes, " + std::to_string(used - 4096) +
                             " are free (the files it replaces are freed only once it is in place)");
  EXPECT_EQ(short_by_one.Calls(DiskOp::kCreate), 0u);
  EXPECT_EQ(short_by_one.Calls(DiskOp::kWrite), 0u);
}

TEST(TierWriterTest, FilesAboutToBeReplacedDoNotCountAsFree) {
  // The same export again needs its whole size beside the old one, though it replaces it.
  for (uint64_t short_by : {uint64_t{1}, uint64_t{0}}) {
    auto disk = DiskWithPreviousExport();
    const auto before = disk->Snapshot(kDir);
    const uint64_t used = UINT64_MAX - disk->Space(kDir)->free_bytes;
    const uint64_t need = used - 4096;  // all but notes.txt
    disk->SetCapacity(used + need - short_by);
    Status s = MiniExport(disk.get(), kAllTiers, 3);
    if (short_by) {
      EXPECT_NE(s.message().find("not enough free space"), std::string::npos) << s.ToString();
      EXPECT_EQ(disk->Snapshot(kDir), before);
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }
}

// Runs the new export on a fresh copy of the previous one with one fault injected.
struct FaultRun {
  Status status;
  std::unique_ptr<MemoryDisk> disk;
};
FaultRun RunWithFault(DiskOp op, int nth, int err) {
  FaultRun r;
  r.disk = DiskWithPreviousExport();
  r.disk->FailOn(op, nth, err);
  r.status = MiniExport(r.disk.get(), kNewTiers, 2);
  return r;
}

TEST(TierWriterTest, EveryFaultLeavesThePreviousExportOrTheWholeNewOne) {
  auto reference = DiskWithPreviousExport();
  const auto previous = reference->Snapshot(kDir);
  std::array<uint64_t, static_cast<size_t>(DiskOp::kCount)> calls;
  for (int op = 0; op < static_cast<int>(DiskOp::kCount); ++op)
    calls[op] = reference->Calls(static_cast<DiskOp>(op));
  ASSERT_TRUE(MiniExport(reference.get(), kNewTiers, 2).ok());
  const auto landed = Landed(*reference);
  // Coherent: the new tiers and the user's file; every earlier tier is gone.
  std::set<std::string> names;
  for (const auto& [path, bytes] : landed) names.insert(path.substr(sizeof(kDir)));
  EXPECT_EQ(names,
            (std::set<std::string>{"embed_tokens.onnx", "embed_tokens.onnx_data", "embed_tokens_int8.onnx",
                                   "embed_tokens_int8.onnx_data", kReportFileName, "notes.txt"}));

  int failed = 0, survived = 0;
  for (int op = 0; op < static_cast<int>(DiskOp::kCount); ++op) {
    const uint64_t n = reference->Calls(static_cast<DiskOp>(op)) - calls[op];
    for (uint64_t k = 0; k < n; ++k) {
      const std::string what = std::string(DiskOpName(static_cast<DiskOp>(op))) + " #" + std::to_string(k);
      FaultRun r = RunWithFault(static_cast<DiskOp>(op), static_cast<int>(k), EIO);
      EXPECT_TRUE(r.disk->guarded().empty()) << what;
      if (r.status.ok()) {
        // Only a cleanup step may fail without failing the run: the export is whole,
        // and what is left is a second name of an old file, which the next run removes.
        ++survived;
        EXPECT_EQ(op, static_cast<int>(DiskOp::kRemove)) << what;
        EXPECT_EQ(Landed(*r.disk), landed) << what;
        for (const auto& [path, bytes] : r.disk->Snapshot(kDir))
          if (!landed.count(path)) EXPECT_NE(path.find("/.embed2onnx-tmp-"), std::string::npos) << what;
        continue;
      }
      ++failed;
      const std::string& msg = r.status.message();
      EXPECT_EQ(msg.rfind(kDir, 0), 0u) << what << ": " << msg;
      EXPECT_NE(msg.find("Input/output error"), std::string::npos) << what << ": " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << what;
      EXPECT_EQ(r.disk->Snapshot(kDir), previous) << what << ": " << msg;
    }
  }
  EXPECT_GT(failed, 50);
  // The removals of the second names kept for an undo: 4 replaced files, the report and
  // the 6 files of the earlier export's other tiers.
  EXPECT_EQ(survived, 11);
}

TEST(TierWriterTest, ARunOutOfSpaceMidWayLeavesThePreviousExport) {
  // The free-space check passes, then another writer takes the space: each write that
  // could find the disk full in turn.
  auto reference = DiskWithPreviousExport();
  const auto previous = reference->Snapshot(kDir);
  const uint64_t writes_before = reference->Calls(DiskOp::kWrite);
  ASSERT_TRUE(MiniExport(reference.get(), kNewTiers, 2).ok());
  const uint64_t writes = reference->Calls(DiskOp::kWrite) - writes_before;
  for (uint64_t k = 0; k < writes; ++k) {
    FaultRun r = RunWithFault(DiskOp::kWrite, static_cast<int>(k), ENOSPC);
    ASSERT_FALSE(r.status.ok());
    EXPECT_NE(r.status.message().find("No space left on device"), std::string::npos) << r.status.message();
    EXPECT_EQ(r.status.message().rfind(std::string(kDir) + "/.embed2onnx-tmp-", 0), 0u) << r.status.message();
    EXPECT_EQ(r.disk->Snapshot(kDir), previous) << "write #" << k;
  }
}

// A sidecar write that lands garbled without an error (each in turn) is found by the
// writer's read-back of that piece, named by sidecar, tier, initializer, offset and row,
// and the previous export stays as it was.
TEST(TierWriterTest, AWriteThatLandsGarbledIsFoundByItsReadBack) {
  auto reference = DiskWithPreviousExport();
  const auto previous = reference->Snapshot(kDir);
  int found = 0;
  for (int k = 0;; ++k) {
    auto disk = DiskWithPreviousExport();
    disk->CorruptWrite(k, kSidecarSuffix);
    Status s = MiniExport(disk.get(), kNewTiers, 2);
    if (s.ok()) break;  // past the last sidecar write
    ++found;
    EXPECT_EQ(s.code(), Status::Code::kMismatch) << s.message();
    EXPECT_EQ(s.message().rfind(std::string(kDir) + "/.embed2onnx-tmp-", 0), 0u) << s.message();
    EXPECT_NE(s.message().find(".onnx_data: tier "), std::string::npos) << s.message();
    EXPECT_EQ(disk->Snapshot(kDir), previous) << "write #" << k;
    if (k == 0)  // int8's codes, row 0: seed 2 makes the first byte 62
      EXPECT_NE(
          s.message().find("embed_tokens_int8.onnx_data: tier int8, initializer 'embed_tokens.weight_int8': "
                           "the byte read back at offset 0 (row 0) is 0x3f, written 0x3e"),
          std::string::npos)
          << s.message();
    ASSERT_LT(k, 1000);
  }
  // int8's codes and scales and fp32's table, each in five chunks of rows, a piece each.
  EXPECT_EQ(found, 15);
}

TEST(TierWriterTest, WithoutHardLinksACommitStillLands) {
  auto disk = DiskWithPreviousExport();
  for (int k = 0; k < 20; ++k) disk->FailOn(DiskOp::kLink, 0, EPERM);  // a file system without links
  ASSERT_TRUE(MiniExport(disk.get(), kNewTiers, 2).ok());
  auto reference = DiskWithPreviousExport();
  ASSERT_TRUE(MiniExport(reference.get(), kNewTiers, 2).ok());
  EXPECT_EQ(Landed(*disk), Landed(*reference));
}

}  // namespace
}  // namespace embed2onnx
