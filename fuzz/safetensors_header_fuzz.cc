// Fuzzes the safetensors header parser. The input is a whole .safetensors file.
//
// Each input is read twice:
//  1. as a file, through ReadSafetensorsHeader (length prefix, caps, preads, parse);
//  2. its header alone, through ParseSafetensorsHeader with a data area of 2^40 bytes,
//     so headers copied from real files (without their data) reach every entry check.
// Invariants: errors name the file; an accepted header's tensors are sorted, unique,
// of known dtype, sized exactly shape x dtype, inside the stated data area and not
// overlapping; a file accepted with its real size is accepted with a larger one too.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/safetensors.h"
#include "fuzz_util.h"

namespace embed2onnx::fuzz {
namespace {

constexpr uint64_t kLargeDataArea = uint64_t{1} << 40;

void CheckAccepted(const std::vector<TensorInfo>& tensors, const std::string& path, uint64_t header_bytes,
                   uint64_t file_size) {
  const uint64_t data_start = 8 + header_bytes;
  FUZZ_CHECK(data_start <= file_size, "header of %llu bytes accepted in a file of %llu",
             static_cast<unsigned long long>(header_bytes), static_cast<unsigned long long>(file_size));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    FUZZ_CHECK(t.file == path, "tensor file %s", t.file.c_str());
    FUZZ_CHECK(t.name != "__metadata__", "metadata returned as a tensor");
    FUZZ_CHECK(i == 0 || tensors[i - 1].name < t.name, "tensors not sorted and unique at %zu", i);
    const uint64_t element_bytes = SafetensorsDTypeSize(t.dtype);
    FUZZ_CHECK(element_bytes > 0, "unknown dtype %s accepted", t.dtype.c_str());
    uint64_t bytes = element_bytes;
    for (uint64_t d : t.shape)
      FUZZ_CHECK(!__builtin_mul_overflow(bytes, d, &bytes), "shape overflow accepted");
    FUZZ_CHECK(bytes == t.byte_size, "byte_size %llu, shape needs %llu",
               static_cast<unsigned long long>(t.byte_size), static_cast<unsigned long long>(bytes));
    FUZZ_CHECK(t.file_offset >= data_start, "tensor starts inside the header");
    FUZZ_CHECK(t.file_offset <= file_size && t.byte_size <= file_size - t.file_offset,
               "tensor [%llu, +%llu) outside a file of %llu bytes",
               static_cast<unsigned long long>(t.file_offset), static_cast<unsigned long long>(t.byte_size),
               static_cast<unsigned long long>(file_size));
  }
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : tensors) {
    if (t.byte_size > 0) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->file_offset < b->file_offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    FUZZ_CHECK(by_offset[i - 1]->file_offset + by_offset[i - 1]->byte_size <= by_offset[i]->file_offset,
               "tensors %s and %s overlap", by_offset[i - 1]->name.c_str(), by_offset[i]->name.c_str());
  }
}

bool SameTensors(const std::vector<TensorInfo>& a, const std::vector<TensorInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].dtype != b[i].dtype || a[i].shape != b[i].shape ||
        a[i].file_offset != b[i].file_offset || a[i].byte_size != b[i].byte_size) {
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace embed2onnx::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embed2onnx;
  using namespace embed2onnx::fuzz;
  static MemFile* const file = new MemFile("safetensors");

  file->Set(data, size);
  Result<std::vector<TensorInfo>> from_file = ReadSafetensorsHeader(file->path());
  Report("file", from_file.status());
  CheckErrorNames(from_file.status(), file->path());

  if (size < 8) {
    FUZZ_CHECK(!from_file.ok(), "a %zu-byte file accepted", size);
    return 0;
  }
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | data[i];
  if (header_bytes > size - 8) {
    FUZZ_CHECK(!from_file.ok(), "header length past the end accepted");
    return 0;
  }
  if (from_file.ok()) CheckAccepted(*from_file, file->path(), header_bytes, size);

  const std::string path = "fuzz.safetensors";
  const std::string_view header(reinterpret_cast<const char*>(data) + 8, header_bytes);
  const uint64_t large_size = 8 + header_bytes + kLargeDataArea;
  Result<std::vector<TensorInfo>> in_memory = ParseSafetensorsHeader(path, header, large_size);
  Report("header with 2^40 data bytes", in_memory.status());
  CheckErrorNames(in_memory.status(), path);
  if (in_memory.ok()) CheckAccepted(*in_memory, path, header_bytes, large_size);
  if (from_file.ok()) {
    FUZZ_CHECK(in_memory.ok(), "accepted in a %zu-byte file, refused with more data: %s", size,
               in_memory.status().message().c_str());
    FUZZ_CHECK(SameTensors(*from_file, *in_memory), "file and memory parses disagree");
  }
  return 0;
}
