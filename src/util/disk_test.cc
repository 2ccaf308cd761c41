// The two disks: the POSIX one against a real folder, the in-memory one against the
// same expectations, and the faults the in-memory one injects.
#include "util/disk.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>

#include "test_util/files.h"
#include "util/memory_disk.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;

// What both disks must do alike, run against a folder `root` that exists.
void ExerciseDisk(Disk* disk, const std::string& root) {
  const std::string a = root + "/a.bin", b = root + "/b.bin", sub = root + "/sub";
  auto f = disk->Create(a);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->WriteAt("world", 5, 6).ok());
  ASSERT_TRUE((*f)->WriteAt("hello ", 6, 0).ok());
  EXPECT_EQ(*(*f)->Size(), 11u);
  {  // What the writes left, read back through the file being written; not past its end.
    char back[6] = {};
    ASSERT_TRUE((*f)->ReadAt(back, 5, 4).ok());
    EXPECT_EQ(std::string(back, 5), "o wor");
    EXPECT_TRUE(
        FailsNaming((*f)->ReadAt(back, 6, 6), a,
                    "truncated: short read at offset 6: got 5 of 6 bytes (file ends early or changed?)"));
  }
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(*disk->ReadSmallFile(a, 100), "hello world");
  EXPECT_TRUE(FailsNaming(disk->ReadSmallFile(a, 4).status(), a, "exceeds the 4-byte cap"));
  {  // Reserving blocks keeps the size: it still says how far the file was written.
    auto r = disk->Create(root + "/r.bin");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*r)->Reserve(0, 100000).ok());
    ASSERT_TRUE((*r)->Reserve(0, 0).ok());
    EXPECT_EQ(*(*r)->Size(), 0u);
    ASSERT_TRUE((*r)->WriteAt("abc", 3, 4096).ok());
    EXPECT_EQ(*(*r)->Size(), 4099u);
    ASSERT_TRUE((*r)->Close().ok());
    ASSERT_TRUE(disk->Remove(root + "/r.bin").ok());
  }
  EXPECT_EQ(disk->ReadSmallFile(b, 100).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(*disk->Kind(a), EntryKind::kFile);
  EXPECT_EQ(*disk->Kind(b), EntryKind::kMissing);
  EXPECT_EQ(*disk->Kind(root), EntryKind::kFolder);
  // A path under a file cannot be told apart from nothing: an error, naming it.
  EXPECT_TRUE(FailsNaming(disk->Kind(a + "/x").status(), a + "/x", "cannot stat: Not a directory"));

  ASSERT_TRUE(disk->Link(a, b).ok());
  EXPECT_EQ(*disk->ReadSmallFile(b, 100), "hello world");
  ASSERT_TRUE(WriteWholeFile(disk, root + "/c.bin", "new").ok());
  ASSERT_TRUE(disk->Rename(root + "/c.bin", a).ok());
  EXPECT_EQ(*disk->ReadSmallFile(a, 100), "new");
  EXPECT_EQ(*disk->ReadSmallFile(b, 100), "hello world");  // the second name kept the old file
  EXPECT_TRUE(FailsNaming(disk->Rename(root + "/none", a), a, "cannot rename into place"));
  EXPECT_TRUE(FailsNaming(disk->Link(root + "/none", root + "/l"), root + "/none", "cannot link"));

  EXPECT_EQ(*disk->MakeFolder(sub), true);
  EXPECT_EQ(*disk->MakeFolder(sub), false);
  EXPECT_TRUE(FailsNaming(disk->MakeFolder(root + "/no/deeper").status(), root + "/no/deeper",
                          "cannot create folder: No such file or directory"));
  ASSERT_TRUE(WriteWholeFile(disk, sub + "/x", "x").ok());
  EXPECT_EQ(*disk->List(root), (std::vector<std::string>{"a.bin", "b.bin", "sub"}));
  EXPECT_TRUE(FailsNaming(disk->RemoveFolder(sub), sub, "cannot remove folder"));
  ASSERT_TRUE(disk->Remove(sub + "/x").ok());
  EXPECT_EQ(disk->Remove(sub + "/x").code(), Status::Code::kNotFound);
  ASSERT_TRUE(disk->RemoveFolder(sub).ok());
  EXPECT_TRUE(FailsNaming(disk->Create(sub + "/x").status(), sub + "/x", "cannot create"));
  EXPECT_TRUE(FailsNaming(disk->List(sub).status(), sub, "cannot list folder"));
  ASSERT_TRUE(disk->SyncFile(a).ok());

  auto space = disk->Space(root);
  ASSERT_TRUE(space.ok());
  EXPECT_GT(space->block_size, 0u);
  int waits = 0;
  auto lock = disk->LockFolder(root, [&] { ++waits; });
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_TRUE((*lock)->Sync().ok());
  EXPECT_EQ(waits, 0);
  EXPECT_EQ(disk->LockFolder(root + "/none", [] {}).status().code(), Status::Code::kNotFound);
}

TEST(PosixDiskTest, BehavesAsTheContractSays) {
  test_util::TempDir dir;
  ExerciseDisk(DefaultDisk(), dir.path());
}

// Where the file system can preallocate (ext4, xfs, btrfs, tmpfs), Reserve takes the
// blocks before a byte is written.
TEST(PosixDiskTest, ReserveAllocatesWhereTheFileSystemCan) {
  test_util::TempDir dir;
  const std::string probe = dir.path() + "/probe", path = dir.path() + "/reserved";
  const int fd = ::open(probe.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  const bool can = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
  ::close(fd);
  if (!can) GTEST_SKIP() << "this file system cannot preallocate";
  auto f = DefaultDisk()->Create(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Reserve(8192, 1 << 20).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{1} << 20);
}

// A folder /m on a disk of three 4 KiB blocks.
std::unique_ptr<MemoryDisk> ThreeBlockDisk() {
  auto disk = std::make_unique<MemoryDisk>(4096);
  disk->AddFolder("/m");
  disk->SetCapacity(3 * 4096);
  return disk;
}

TEST(MemoryDiskTest, ReserveTakesTheBlocksAheadAndFailsWhenTheyDoNotFit) {
  const std::unique_ptr<MemoryDisk> owned = ThreeBlockDisk();
  MemoryDisk& disk = *owned;
  auto f = disk.Create("/m/a");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Reserve(4095, 2).ok());  // two blocks: a byte of each
  EXPECT_EQ(disk.Space("/m")->free_bytes, 4096u);
  ASSERT_TRUE((*f)->WriteAt("xy", 2, 4095).ok());  // into blocks it has: nothing more
  EXPECT_EQ(disk.Space("/m")->free_bytes, 4096u);
  auto g = disk.Create("/m/b");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(
      FailsNaming((*g)->Reserve(0, 8192), "/m/b", "cannot allocate 8192 bytes: No space left on device"));
  EXPECT_EQ(*(*g)->Size(), 0u);
  disk.FailOn(DiskOp::kReserve, 0, EIO);
  EXPECT_TRUE(FailsNaming((*g)->Reserve(0, 10), "/m/b", "cannot allocate 10 bytes: Input/output error"));
  disk.FailOn(DiskOp::kReserve, 0, EOPNOTSUPP);  // cannot preallocate: the writes allocate
  EXPECT_TRUE((*g)->Reserve(0, 10).ok());
  EXPECT_EQ(disk.Space("/m")->free_bytes, 4096u);
}

TEST(MemoryDiskTest, BehavesAsThePosixOne) {
  MemoryDisk disk;
  disk.AddFolder("/m");
  ExerciseDisk(&disk, "/m");
}

TEST(MemoryDiskTest, TheNthCallOfAnOperationFails) {
  MemoryDisk disk;
  disk.AddFolder("/m");
  auto f = disk.Create("/m/x");
  ASSERT_TRUE(f.ok());
  disk.FailOn(DiskOp::kWrite, 2, EIO);
  EXPECT_TRUE((*f)->WriteAt("a", 1, 0).ok());
  EXPECT_TRUE((*f)->WriteAt("b", 1, 1).ok());
  EXPECT_TRUE(FailsNaming((*f)->WriteAt("c", 1, 2), "/m/x", "write failed at offset 2: Input/output error"));
  EXPECT_TRUE((*f)->WriteAt("d", 1, 3).ok());  // a fault fires once
  EXPECT_EQ(disk.Calls(DiskOp::kWrite), 4u);

  // A garbled write lands with its first byte's lowest bit flipped, and says nothing.
  disk.CorruptWrite(1, "g");
  auto g = disk.Create("/m/g");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE((*g)->WriteAt("ab", 2, 0).ok());
  ASSERT_TRUE((*g)->WriteAt("cd", 2, 2).ok());
  EXPECT_EQ(disk.FileBytes("/m/g"), "abbd");
  disk.FailOn(DiskOp::kReadBack, 0, EIO);
  char c;
  EXPECT_TRUE(FailsNaming((*g)->ReadAt(&c, 1, 1), "/m/g", "read failed at offset 1: Input/output error"));
  EXPECT_TRUE((*g)->ReadAt(&c, 1, 3).ok());
  EXPECT_EQ(c, 'd');

  // Only calls on paths holding the given part count.
  disk.FailOn(DiskOp::kRename, 0, EACCES, "y");
  ASSERT_TRUE(disk.Rename("/m/x", "/m/z").ok());
  EXPECT_TRUE(FailsNaming(disk.Rename("/m/z", "/m/y"), "/m/y", "Permission denied"));
  EXPECT_TRUE(disk.HasFile("/m/z"));
  disk.FailOn(DiskOp::kLink, 0, EPERM);
  EXPECT_EQ(disk.Link("/m/z", "/m/w").code(), Status::Code::kNotSupported);
}

TEST(MemoryDiskTest, CapacityCountsWrittenBlocksOnly) {
  const std::unique_ptr<MemoryDisk> owned = ThreeBlockDisk();
  MemoryDisk& disk = *owned;
  auto f = disk.Create("/m/sparse");
  ASSERT_TRUE(f.ok());
  // Two blocks written 64 KiB apart: the gap is a hole and takes nothing.
  ASSERT_TRUE((*f)->WriteAt("x", 1, 0).ok());
  ASSERT_TRUE((*f)->WriteAt("y", 1, 65536).ok());
  EXPECT_EQ(*(*f)->Size(), 65537u);
  EXPECT_EQ(disk.Space("/m")->free_bytes, 4096u);
  ASSERT_TRUE((*f)->WriteAt("z", 1, 4095).ok());  // inside a block it has
  EXPECT_TRUE(FailsNaming((*f)->WriteAt(std::string(4097, 'w').data(), 4097, 8192), "/m/sparse",
                          "write failed at offset 8192: No space left on device"));
  ASSERT_TRUE((*f)->WriteAt("w", 1, 8192).ok());  // one block still fits
  EXPECT_EQ(disk.Space("/m")->free_bytes, 0u);
  // A second name costs nothing; removing one name frees nothing.
  ASSERT_TRUE(disk.Link("/m/sparse", "/m/other").ok());
  ASSERT_TRUE(disk.Remove("/m/sparse").ok());
  EXPECT_EQ(disk.Space("/m")->free_bytes, 0u);
  ASSERT_TRUE(disk.Remove("/m/other").ok());
  EXPECT_EQ(disk.Space("/m")->free_bytes, 3 * 4096u);
}

TEST(MemoryDiskTest, CreateTruncatesTheFileUnderEveryName) {
  MemoryDisk disk;
  disk.AddFile("/m/a", "old bytes");
  ASSERT_TRUE(disk.Link("/m/a", "/m/b").ok());
  ASSERT_TRUE(WriteWholeFile(&disk, "/m/a", "new").ok());
  EXPECT_EQ(disk.FileBytes("/m/b"), "new");  // as O_TRUNC does to a hard-linked file
}

}  // namespace
}  // namespace embed2onnx
