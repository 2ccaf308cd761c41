// TableReader: what it refuses to open, and reads of exact rows, out-of-range rows and
// a file that shrinks under it.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "embed2onnx/checkpoint.h"
#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;
using test_util::SafetensorsBytes;
using test_util::TempDir;
using test_util::WriteFile;

// BF16 table [3, 4]: byte i of the data is i, so row r holds bytes 8r .. 8r + 7.
class SafetensorsTableReader : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Join("model.safetensors");
    std::string data;
    for (int i = 0; i < 24; ++i) data += static_cast<char>(i);
    data += std::string(16 + 32 + 16 + 16, '\0');
    WriteFile(path_, SafetensorsBytes(R"({"table":{"dtype":"BF16","shape":[3,4],"data_offsets":[0,24]},)"
                                      R"("vec":{"dtype":"F32","shape":[4],"data_offsets":[24,40]},)"
                                      R"("cube":{"dtype":"F32","shape":[2,2,2],"data_offsets":[40,72]},)"
                                      R"("ids":{"dtype":"I32","shape":[2,2],"data_offsets":[72,88]},)"
                                      R"("hollow":{"dtype":"F16","shape":[0,4],"data_offsets":[88,88]},)"
                                      R"("half":{"dtype":"F16","shape":[2,4],"data_offsets":[88,104]}})",
                                      data));
    Result<Checkpoint> ckpt = Checkpoint::OpenFile(path_);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
    ckpt_ = std::move(ckpt).value();
  }

  Result<std::unique_ptr<TableReader>> Open(const std::string& name) {
    const TensorInfo* info = ckpt_->Find(name);
    if (info == nullptr) return Status::NotFound(name);
    return TableReader::Open(*info);
  }

  TempDir dir_;
  std::string path_;
  std::optional<Checkpoint> ckpt_;
};

TEST_F(SafetensorsTableReader, RefusesRankOne) {
  auto reader = Open("vec");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(FailsNaming(reader.status(), path_, "tensor 'vec' is F32 [4] (rank 1)"));
}

TEST_F(SafetensorsTableReader, RefusesRankThree) {
  auto reader = Open("cube");
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(FailsNaming(reader.status(), path_, "tensor 'cube' is F32 [2, 2, 2] (rank 3)"));
}

TEST_F(SafetensorsTableReader, RefusesIntegerDType) {
  auto reader = Open("ids");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(
      FailsNaming(reader.status(), path_, "tensor 'ids' is I32 [2, 2]: tables must be BF16, F16 or F32"));
}

TEST_F(SafetensorsTableReader, RefusesEmptyDimension) {
  auto reader = Open("hollow");
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(FailsNaming(reader.status(), path_,
                          "tensor 'hollow' is F16 [0, 4]: an embedding table cannot be empty"));
}

TEST_F(SafetensorsTableReader, RefusesInconsistentHandMadeInfo) {
  TensorInfo info = *ckpt_->Find("table");
  info.byte_size = 25;
  auto reader = TableReader::Open(info);
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(FailsNaming(reader.status(), path_, "byte_size 25 does not match BF16 [3, 4]"));
}

TEST_F(SafetensorsTableReader, ReadsExactRows) {
  auto reader = Open("table");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const TableReader& r = **reader;
  EXPECT_EQ(r.rows(), 3u);
  EXPECT_EQ(r.cols(), 4u);
  EXPECT_EQ(r.dtype(), TableDType::kBF16);
  EXPECT_EQ(r.bytes_per_element(), 2u);
  EXPECT_EQ(r.row_bytes(), 8u);

  std::vector<unsigned char> two(16, 0xEE);
  ASSERT_TRUE(r.ReadRows(1, 2, two.data()).ok());
  for (int i = 0; i < 16; ++i) EXPECT_EQ(two[i], 8 + i) << "byte " << i;

  std::vector<unsigned char> sentinel(1, 0xEE);
  EXPECT_TRUE(r.ReadRows(3, 0, sentinel.data()).ok());  // empty read at the end: nothing touched
  EXPECT_EQ(sentinel[0], 0xEE);

  auto half = Open("half");
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_EQ((*half)->dtype(), TableDType::kF16);
}

TEST_F(SafetensorsTableReader, ReaderOutlivesCheckpoint) {
  auto reader = Open("table");
  ASSERT_TRUE(reader.ok());
  ckpt_.reset();
  std::vector<unsigned char> row(8);
  ASSERT_TRUE((*reader)->ReadRows(2, 1, row.data()).ok());
  EXPECT_EQ(row[0], 16);
  EXPECT_EQ(row[7], 23);
}

TEST_F(SafetensorsTableReader, RefusesRowsOutOfRange) {
  auto reader = Open("table");
  ASSERT_TRUE(reader.ok());
  std::vector<unsigned char> buf(64);
  Status past = (*reader)->ReadRows(2, 2, buf.data());
  EXPECT_EQ(past.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(
      FailsNaming(past, path_, "tensor 'table': 2 rows from row 2 are out of range: the table has 3 rows"));
  EXPECT_FALSE((*reader)->ReadRows(3, 1, buf.data()).ok());
  EXPECT_FALSE((*reader)->ReadRows(0, 4, buf.data()).ok());
  // first + count wraps around 2^64: still refused.
  EXPECT_FALSE((*reader)->ReadRows(UINT64_MAX, 2, buf.data()).ok());
}

TEST_F(SafetensorsTableReader, FileTruncatedAfterOpenIsIOError) {
  auto reader = Open("table");
  ASSERT_TRUE(reader.ok());
  // Keep the header and the first row and a half.
  const uint64_t keep = (*reader)->info().file_offset + 12;
  std::filesystem::resize_file(path_, keep);

  std::vector<unsigned char> buf(8);
  EXPECT_TRUE((*reader)->ReadRows(0, 1, buf.data()).ok());  // still all there
  Status cut = (*reader)->ReadRows(1, 1, buf.data());
  EXPECT_EQ(cut.code(), Status::Code::kIOError);
  EXPECT_TRUE(FailsNaming(cut, path_, "short read"));
  EXPECT_TRUE(FailsNaming(cut, path_, "got 4 of 8 bytes"));
}

TEST_F(SafetensorsTableReader, FileTruncatedBeforeOpenIsIOError) {
  TensorInfo info = *ckpt_->Find("table");
  std::filesystem::resize_file(path_, info.file_offset + 10);
  auto reader = TableReader::Open(info);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), Status::Code::kIOError);
  EXPECT_TRUE(FailsNaming(reader.status(), path_, "too short for the tensor's bytes"));
}

}  // namespace
}  // namespace embed2onnx
