// The POSIX file helpers: error codes, messages that name the file, exact byte counts.
#include "util/file_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;
using test_util::TempDir;
using test_util::WriteFile;

class FileIoTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(FileIoTest, ShortReadReportsTruncationNamingFileAndContext) {
  const std::string path = dir_.Join("short.bin");
  WriteFile(path, std::string(10, 'x'));
  Result<OpenedFile> file = OpenRegularFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->size, 10u);

  char buf[16];
  Status st = PReadFull(file->fd.get(), buf, sizeof buf, 0, path, "tensor 'w'");
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_TRUE(FailsNaming(st, path, "tensor 'w': truncated: short read at offset 0: got 10 of 16 bytes"));

  // Without a context the path alone leads; a read starting past the end gets nothing.
  st = PReadFull(file->fd.get(), buf, 1, 10, path);
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_TRUE(FailsNaming(st, path, ": truncated: short read at offset 10: got 0 of 1 bytes"));
}

TEST_F(FileIoTest, OffsetsPastOffTAreRefusedBeforeReading) {
  const std::string path = dir_.Join("f.bin");
  WriteFile(path, "abc");
  Result<OpenedFile> file = OpenRegularFile(path);
  ASSERT_TRUE(file.ok());
  char c;
  Status st = PReadFull(file->fd.get(), &c, 1, UINT64_MAX, path);
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_TRUE(FailsNaming(st, path, "offset 18446744073709551615 is out of range"));
  // offset + n wraps around 2^64: refused too, not read at a small offset.
  st = PReadFull(file->fd.get(), &c, 2, UINT64_MAX - 1, path);
  EXPECT_TRUE(FailsNaming(st, path, "is out of range"));
}

TEST_F(FileIoTest, MissingFileIsNotFound) {
  const std::string path = dir_.Join("absent.json");
  Result<OpenedFile> file = OpenRegularFile(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(file.status(), path, "no such file"));

  Result<std::string> text = ReadFileToString(path, 100);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(text.status(), path, "no such file"));
}

TEST_F(FileIoTest, DirectoryIsRefused) {
  Result<OpenedFile> file = OpenRegularFile(dir_.path());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(FailsNaming(file.status(), dir_.path(), "not a regular file"));

  Result<std::string> text = ReadFileToString(dir_.path(), 1 << 20);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Status::Code::kInvalidArgument);
}

// Opening a FIFO for reading blocks until a writer comes; it must be refused at once.
TEST_F(FileIoTest, FifoIsRefusedWithoutBlocking) {
  const std::string path = dir_.Join("pipe");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  Result<OpenedFile> file = OpenRegularFile(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(FailsNaming(file.status(), path, "not a regular file"));
}

TEST_F(FileIoTest, PWriteFullThenPReadFullRoundTrips) {
  const std::string path = dir_.Join("rw.bin");
  std::string data(3 << 20, '\0');  // a few MB: more than one read on some systems
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) >> 3);
  {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_GE(fd.get(), 0);
    ASSERT_TRUE(PWriteFull(fd.get(), data.data(), data.size(), 7, path).ok());
    ASSERT_TRUE(fd.Close(path).ok());
    EXPECT_EQ(fd.get(), -1);
    EXPECT_TRUE(fd.Close(path).ok());  // closing twice is harmless
  }
  Result<OpenedFile> file = OpenRegularFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->size, 7 + data.size());  // the hole before offset 7 counts

  std::string back(data.size(), '\0');
  ASSERT_TRUE(PReadFull(file->fd.get(), back.data(), back.size(), 7, path).ok());
  EXPECT_EQ(back, data);
  char hole[7];
  ASSERT_TRUE(PReadFull(file->fd.get(), hole, sizeof hole, 0, path).ok());
  EXPECT_EQ(std::string(hole, sizeof hole), std::string(7, '\0'));
}

TEST_F(FileIoTest, PWriteFullInPiecesWritesTheSameBytes) {
  // Pieces that do not divide the length, one that does, and one larger than it.
  std::string data(100003, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + (i >> 9));
  for (uint64_t piece : {uint64_t{1}, uint64_t{4096}, uint64_t{32768}, uint64_t{100003}, uint64_t{1} << 20}) {
    const std::string path = dir_.Join("piece" + std::to_string(piece) + ".bin");
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_GE(fd.get(), 0);
    ASSERT_TRUE(PWriteFull(fd.get(), data.data(), data.size(), 65536, path, piece).ok());
    ASSERT_TRUE(fd.Close(path).ok());
    Result<OpenedFile> file = OpenRegularFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_EQ(file->size, 65536 + data.size()) << "piece " << piece;
    std::string back(data.size(), '\0');
    ASSERT_TRUE(PReadFull(file->fd.get(), back.data(), back.size(), 65536, path).ok());
    EXPECT_EQ(back, data) << "piece " << piece;
  }
}

TEST_F(FileIoTest, WriteErrorNamesTheFile) {
  const std::string path = dir_.Join("ro.bin");
  WriteFile(path, "abc");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  Status st = PWriteFull(fd.get(), "x", 1, 0, path);
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_TRUE(FailsNaming(st, path, "write failed at offset 0"));
}

TEST_F(FileIoTest, ReadFileToStringRefusesFilesOverTheCap) {
  const std::string path = dir_.Join("index.json");
  const std::string text(100, '{');
  WriteFile(path, text);

  Result<std::string> over = ReadFileToString(path, 99);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(FailsNaming(over.status(), path, "100 bytes exceeds the 99-byte cap"));

  Result<std::string> at_cap = ReadFileToString(path, 100);
  ASSERT_TRUE(at_cap.ok()) << at_cap.status().ToString();
  EXPECT_EQ(*at_cap, text);
}

TEST_F(FileIoTest, UniqueFdMoveTransfersOwnership) {
  const std::string path = dir_.Join("m.bin");
  WriteFile(path, "abc");
  UniqueFd a(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  const int raw = a.get();
  ASSERT_GE(raw, 0);
  UniqueFd b(std::move(a));
  EXPECT_EQ(a.get(), -1);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_GE(::fcntl(raw, F_GETFD), 0);  // still open: nobody closed it on the way
}

}  // namespace
}  // namespace embed2onnx
