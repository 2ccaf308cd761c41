// The safetensors header parser: valid files, and a table of malformed ones, each of
// which must be refused with a message that starts with the file and says what is wrong.
#include "checkpoint/safetensors.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "embed2onnx/checkpoint.h"
#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;
using test_util::Le64;
using test_util::SafetensorsBytes;
using test_util::TempDir;
using test_util::WriteFile;

// One BF16 [4, 4] tensor: 32 bytes of data.
const std::string kGoodHeader = R"({"a.weight":{"dtype":"BF16","shape":[4,4],"data_offsets":[0,32]}})";
const std::string kData32(32, '\x11');

std::string OneTensor(const std::string& entry) { return R"({"a.weight":)" + entry + "}"; }

enum class Bad {
  kEmptyFile,
  kFiveBytes,
  kHeaderPastEof,
  kHeaderAbsurd,
  kEmptyHeader,
  kNotUtf8,
  kOverlongUtf8,
  kNotJson,
  kArrayNotObject,
  kEntryNotObject,
  kMissingDtype,
  kDtypeNotString,
  kUnknownDtype,
  kShapeMissing,
  kShapeNegative,
  kShapeFloat,
  kShapeString,
  kShapeOverflow,
  kByteSizeOverflow,
  kOffsetsMissing,
  kOffsetsReversed,
  kOffsetsPastEof,
  kOffsetsThree,
  kOffsetsNegative,
  kOffsetsFloat,
  kLengthMismatch,
  kDataTruncated,
  kMetadataNotObject,
  kMetadataValueNotString,
  kOverlap,
  kDuplicateName,
};

struct BadCase {
  Bad bad;
  const char* name;    // test name suffix
  const char* phrase;  // the message must contain it
};

const BadCase kBadCases[] = {
    {Bad::kEmptyFile, "EmptyFile", "file is 0 bytes, too short"},
    {Bad::kFiveBytes, "FiveBytes", "file is 5 bytes, too short"},
    {Bad::kHeaderPastEof, "HeaderPastEof", "header length 1000 runs past the end of the file"},
    {Bad::kHeaderAbsurd, "HeaderAbsurd", "header length 4611686018427387904 exceeds the 104857600-byte cap"},
    {Bad::kEmptyHeader, "EmptyHeader", "header is not valid JSON"},
    {Bad::kNotUtf8, "NotUtf8", "header is not valid UTF-8 (bad byte at offset 4)"},
    {Bad::kOverlongUtf8, "OverlongUtf8", "header is not valid UTF-8"},
    {Bad::kNotJson, "NotJson", "header is not valid JSON"},
    {Bad::kArrayNotObject, "ArrayNotObject", "header is not a JSON object"},
    {Bad::kEntryNotObject, "EntryNotObject", "tensor 'a.weight': entry is not an object"},
    {Bad::kMissingDtype, "MissingDtype", "tensor 'a.weight': dtype missing or not a string"},
    {Bad::kDtypeNotString, "DtypeNotString", "tensor 'a.weight': dtype missing or not a string"},
    {Bad::kUnknownDtype, "UnknownDtype", "tensor 'a.weight': unknown dtype 'Q4_K'"},
    {Bad::kShapeMissing, "ShapeMissing", "tensor 'a.weight': shape missing or not an array"},
    {Bad::kShapeNegative, "ShapeNegative", "shape [4,-4]: dimension 1 is not a non-negative integer"},
    {Bad::kShapeFloat, "ShapeFloat", "shape [4.5,4]: dimension 0 is not a non-negative integer"},
    {Bad::kShapeString, "ShapeString", "dimension 0 is not a non-negative integer"},
    {Bad::kShapeOverflow, "ShapeOverflow", "element count does not fit in 64 bits"},
    {Bad::kByteSizeOverflow, "ByteSizeOverflow", "byte size does not fit in 64 bits"},
    {Bad::kOffsetsMissing, "OffsetsMissing",
     "data_offsets must be an array of 2 unsigned integers, not missing"},
    {Bad::kOffsetsReversed, "OffsetsReversed", "data_offsets [32, 0]: begin > end"},
    {Bad::kOffsetsPastEof, "OffsetsPastEof", "data_offsets [32, 64] lie past the end of the file"},
    {Bad::kOffsetsThree, "OffsetsThree", "data_offsets must be an array of 2 unsigned integers"},
    {Bad::kOffsetsNegative, "OffsetsNegative", "data_offsets must be an array of 2 unsigned integers"},
    {Bad::kOffsetsFloat, "OffsetsFloat", "data_offsets must be an array of 2 unsigned integers"},
    {Bad::kLengthMismatch, "LengthMismatch",
     "tensor 'a.weight': data_offsets [0, 10] hold 10 bytes but shape [4, 4] of BF16 needs 32"},
    {Bad::kDataTruncated, "DataTruncated",
     "data_offsets [0, 32] lie past the end of the file: the data area holds 0"},
    {Bad::kMetadataNotObject, "MetadataNotObject", "__metadata__ is not an object of strings"},
    {Bad::kMetadataValueNotString, "MetadataValueNotString", "__metadata__ is not an object of strings"},
    {Bad::kOverlap, "Overlap", "tensors 'a.weight' and 'b.weight' overlap"},
    {Bad::kDuplicateName, "DuplicateName", "header has a duplicate key 'a.weight'"},
};

// Names the case in gtest's output instead of dumping its bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

// The whole file for `bad`.
std::string BadFile(Bad bad) {
  const std::string bf16 = R"("dtype":"BF16",)";
  switch (bad) {
    case Bad::kEmptyFile:
      return "";
    case Bad::kFiveBytes:
      return std::string("\x02\0\0\0\0", 5);
    case Bad::kHeaderPastEof:
      return Le64(1000) + kGoodHeader;
    case Bad::kHeaderAbsurd:
      return Le64(uint64_t{1} << 62) + kGoodHeader + kData32;
    case Bad::kEmptyHeader:
      return SafetensorsBytes("", kData32);
    case Bad::kNotUtf8:
      return SafetensorsBytes("{\"a.\xff\":{}}", "");
    case Bad::kOverlongUtf8:
      return SafetensorsBytes("{\"\xc0\xaf\":{}}", "");
    case Bad::kNotJson:
      return SafetensorsBytes(R"({"a.weight":{"dtype":"BF16",)", kData32);
    case Bad::kArrayNotObject:
      return SafetensorsBytes("[1, 2]", "");
    case Bad::kEntryNotObject:
      return SafetensorsBytes(OneTensor("5"), kData32);
    case Bad::kMissingDtype:
      return SafetensorsBytes(OneTensor(R"({"shape":[4,4],"data_offsets":[0,32]})"), kData32);
    case Bad::kDtypeNotString:
      return SafetensorsBytes(OneTensor(R"({"dtype":2,"shape":[4,4],"data_offsets":[0,32]})"), kData32);
    case Bad::kUnknownDtype:
      return SafetensorsBytes(OneTensor(R"({"dtype":"Q4_K","shape":[4,4],"data_offsets":[0,32]})"), kData32);
    case Bad::kShapeMissing:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("data_offsets":[0,32]})"), kData32);
    case Bad::kShapeNegative:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,-4],"data_offsets":[0,32]})"), kData32);
    case Bad::kShapeFloat:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4.5,4],"data_offsets":[0,32]})"), kData32);
    case Bad::kShapeString:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":["4",4],"data_offsets":[0,32]})"), kData32);
    case Bad::kShapeOverflow:  // 2^32 * 2^32 elements
      return SafetensorsBytes(
          OneTensor("{" + bf16 + R"("shape":[4294967296,4294967296],"data_offsets":[0,32]})"), kData32);
    case Bad::kByteSizeOverflow:  // 2^63 elements fit, 2^64 bytes do not
      return SafetensorsBytes(
          OneTensor("{" + bf16 + R"("shape":[9223372036854775808],"data_offsets":[0,32]})"), kData32);
    case Bad::kOffsetsMissing:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,4]})"), kData32);
    case Bad::kOffsetsReversed:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,4],"data_offsets":[32,0]})"), kData32);
    case Bad::kOffsetsPastEof:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,4],"data_offsets":[32,64]})"), kData32);
    case Bad::kOffsetsThree:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,4],"data_offsets":[0,32,64]})"), kData32);
    case Bad::kOffsetsNegative:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,4],"data_offsets":[-32,0]})"), kData32);
    case Bad::kOffsetsFloat:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,4],"data_offsets":[0,32.0]})"), kData32);
    case Bad::kLengthMismatch:
      return SafetensorsBytes(OneTensor("{" + bf16 + R"("shape":[4,4],"data_offsets":[0,10]})"), kData32);
    case Bad::kDataTruncated:
      return SafetensorsBytes(kGoodHeader, "");
    case Bad::kMetadataNotObject:
      return SafetensorsBytes(R"({"__metadata__":"pt",)" + kGoodHeader.substr(1), kData32);
    case Bad::kMetadataValueNotString:
      return SafetensorsBytes(R"({"__metadata__":{"format":1},)" + kGoodHeader.substr(1), kData32);
    case Bad::kOverlap:
      return SafetensorsBytes(R"({"a.weight":{"dtype":"BF16","shape":[16],"data_offsets":[0,32]},)"
                              R"("b.weight":{"dtype":"BF16","shape":[16],"data_offsets":[16,48]}})",
                              kData32 + std::string(16, '\0'));
    case Bad::kDuplicateName:
      return SafetensorsBytes(R"({"a.weight":{"dtype":"BF16","shape":[4,4],"data_offsets":[0,32]},)"
                              R"("a.weight":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})",
                              kData32);
  }
  return "";
}

class SafetensorsMalformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(SafetensorsMalformed, IsRefusedNamingFileAndProblem) {
  TempDir dir;
  const std::string path = dir.Join("model.safetensors");
  WriteFile(path, BadFile(GetParam().bad));

  Result<Checkpoint> ckpt = Checkpoint::OpenFile(path);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), path, GetParam().phrase));
  EXPECT_EQ(ckpt.status().code(), Status::Code::kCorruption) << ckpt.status().ToString();

  // The folder entry point reaches the same verdict.
  Result<Checkpoint> via_dir = Checkpoint::OpenDir(dir.path());
  ASSERT_FALSE(via_dir.ok());
  EXPECT_EQ(via_dir.status().message(), ckpt.status().message());
}

INSTANTIATE_TEST_SUITE_P(AllCases, SafetensorsMalformed, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(SafetensorsHeader, ValidFileGivesOffsetsAndSizes) {
  TempDir dir;
  const std::string path = dir.Join("m.safetensors");
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("z.bias":{"dtype":"F32","shape":[2],"data_offsets":[32,40]},)"
                             R"("a.weight":{"dtype":"BF16","shape":[4,4],"data_offsets":[0,32]}})";
  WriteFile(path, SafetensorsBytes(header, std::string(40, '\0')));

  Result<Checkpoint> ckpt = Checkpoint::OpenFile(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  EXPECT_EQ(ckpt->source(), path);
  ASSERT_EQ(ckpt->tensors().size(), 2u);
  EXPECT_EQ(ckpt->tensors()[0].name, "a.weight");  // sorted, metadata skipped
  EXPECT_EQ(ckpt->tensors()[1].name, "z.bias");

  const TensorInfo* bias = ckpt->Find("z.bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(bias->dtype, "F32");
  EXPECT_EQ(bias->shape, std::vector<uint64_t>({2}));
  EXPECT_EQ(bias->file, path);
  EXPECT_EQ(bias->file_offset, 8 + header.size() + 32);
  EXPECT_EQ(bias->byte_size, 8u);
  EXPECT_EQ(ckpt->Find("__metadata__"), nullptr);
  EXPECT_EQ(ckpt->Find("missing"), nullptr);
}

// The Python writer pads the header with spaces to an 8-byte boundary.
TEST(SafetensorsHeader, AcceptsTrailingSpacesScalarsEmptyTensorsAndGaps) {
  TempDir dir;
  const std::string path = dir.Join("m.safetensors");
  const std::string header = R"({"scalar":{"dtype":"F64","shape":[],"data_offsets":[0,8]},)"
                             R"("empty":{"dtype":"F32","shape":[0,7],"data_offsets":[8,8]},)"
                             R"("after_gap":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}      )";
  WriteFile(path, SafetensorsBytes(header, std::string(24, '\0')));

  Result<Checkpoint> ckpt = Checkpoint::OpenFile(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  ASSERT_NE(ckpt->Find("scalar"), nullptr);
  EXPECT_TRUE(ckpt->Find("scalar")->shape.empty());
  EXPECT_EQ(ckpt->Find("scalar")->byte_size, 8u);
  EXPECT_EQ(ckpt->Find("empty")->byte_size, 0u);
  EXPECT_EQ(ckpt->Find("after_gap")->file_offset, 8 + header.size() + 16);
}

TEST(SafetensorsHeader, ParserWorksFromMemory) {
  Result<std::vector<TensorInfo>> tensors =
      ParseSafetensorsHeader("mem", kGoodHeader, 8 + kGoodHeader.size() + 32);
  ASSERT_TRUE(tensors.ok()) << tensors.status().ToString();
  ASSERT_EQ(tensors->size(), 1u);
  EXPECT_EQ((*tensors)[0].file_offset, 8 + kGoodHeader.size());

  // One byte short of the data.
  EXPECT_TRUE(FailsNaming(ParseSafetensorsHeader("mem", kGoodHeader, 8 + kGoodHeader.size() + 31).status(),
                          "mem", "past the end of the file"));
}

// A clone without `git lfs pull` holds pointer files where the weights should be.
TEST(SafetensorsHeader, GitLfsPointerIsNamedAsSuch) {
  TempDir dir;
  const std::string path = dir.Join("model.safetensors");
  WriteFile(path,
            "version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 4965799096\n");
  Status s = ReadSafetensorsHeader(path).status();
  EXPECT_TRUE(FailsNaming(s, path, "Git LFS pointer")) << s.message();
  EXPECT_NE(s.message().find("git lfs pull"), std::string::npos);
  // Any other text starting "version " is still judged by its header length.
  WriteFile(path, "version 2 of something else entirely");
  EXPECT_TRUE(FailsNaming(ReadSafetensorsHeader(path).status(), path, "header length"));
}

TEST(SafetensorsHeader, HostileNamesAreEscapedInMessages) {
  TempDir dir;
  const std::string path = dir.Join("m.safetensors");
  WriteFile(path, SafetensorsBytes(R"({"a\u001b[31m'x":{"dtype":"Q"}})", ""));
  Result<Checkpoint> ckpt = Checkpoint::OpenFile(path);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), path, R"(tensor 'a\x1b[31m\'x': unknown dtype 'Q')"));
  EXPECT_EQ(ckpt.status().message().find('\x1b'), std::string::npos);
}

TEST(SafetensorsDType, SizesOfKnownAndUnknownNames) {
  EXPECT_EQ(SafetensorsDTypeSize("BF16"), 2u);
  EXPECT_EQ(SafetensorsDTypeSize("F16"), 2u);
  EXPECT_EQ(SafetensorsDTypeSize("F32"), 4u);
  EXPECT_EQ(SafetensorsDTypeSize("F64"), 8u);
  EXPECT_EQ(SafetensorsDTypeSize("I64"), 8u);
  EXPECT_EQ(SafetensorsDTypeSize("BOOL"), 1u);
  EXPECT_EQ(SafetensorsDTypeSize("F8_E4M3"), 1u);
  EXPECT_EQ(SafetensorsDTypeSize("F8_E8M0"), 1u);
  EXPECT_EQ(SafetensorsDTypeSize("bf16"), 0u);  // names are case-sensitive
  EXPECT_EQ(SafetensorsDTypeSize("F4"), 0u);    // sub-byte: no whole size
  EXPECT_EQ(SafetensorsDTypeSize(""), 0u);
}

}  // namespace
}  // namespace embed2onnx
