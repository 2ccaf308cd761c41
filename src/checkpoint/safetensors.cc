#include "checkpoint/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "checkpoint/dtype.h"
#include "checkpoint/json_util.h"
#include "util/file_io.h"

namespace embed2onnx {

namespace {

constexpr char kMetadataKey[] = "__metadata__";

std::string FormatShape(const std::vector<uint64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

// Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "[" + string.
std::string FormatRange(uint64_t begin, uint64_t end) {
  std::string out = "[";
  out += std::to_string(begin);
  out += ", ";
  out += std::to_string(end);
  out += "]";
  return out;
}

Status CheckMetadata(const std::string& path, const nlohmann::json& metadata) {
  // The reference implementation reads it as a map of string to string; transformers
  // writes {"format": "pt"}. Anything else is not a file it wrote.
  if (!metadata.is_object()) {
    return Status::Corruption(path +
                              ": __metadata__ is not an object of strings: " + DumpForMessage(metadata));
  }
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) {
      return Status::Corruption(path + ": __metadata__ is not an object of strings: value of " + Quote(key) +
                                " is " + DumpForMessage(value));
    }
  }
  return Status::Ok();
}

// Validates one header entry. `data_size` is the number of bytes after the header.
Status ParseEntry(const std::string& path, const std::string& name, const nlohmann::json& entry,
                  uint64_t data_start, uint64_t data_size, TensorInfo* info) {
  const std::string where = path + ": tensor " + Quote(name);
  if (!entry.is_object())
    return Status::Corruption(where + ": entry is not an object: " + DumpForMessage(entry));

  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    return Status::Corruption(where + ": dtype missing or not a string");
  }
  const std::string& dtype = dtype_it->get_ref<const std::string&>();
  const uint64_t element_bytes = SafetensorsDTypeSize(dtype);
  if (element_bytes == 0) return Status::Corruption(where + ": unknown dtype " + Quote(dtype));

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) {
    return Status::Corruption(where + ": shape missing or not an array");
  }
  std::vector<uint64_t> shape;
  uint64_t elements = 1;
  for (size_t i = 0; i < shape_it->size(); ++i) {
    const nlohmann::json& dim = (*shape_it)[i];
    // Negative integers parse as number_integer and floats (also integers past 2^64)
    // as number_float: only number_unsigned is a dimension.
    if (!dim.is_number_unsigned()) {
      return Status::Corruption(where + ": shape " + DumpForMessage(*shape_it) + ": dimension " +
                                std::to_string(i) + " is not a non-negative integer");
    }
    const uint64_t d = dim.get<uint64_t>();
    if (__builtin_mul_overflow(elements, d, &elements)) {
      return Status::Corruption(where + ": shape " + DumpForMessage(*shape_it) +
                                " overflows: its element count does not fit in 64 bits");
    }
    shape.push_back(d);
  }
  uint64_t needed;
  if (__builtin_mul_overflow(elements, element_bytes, &needed)) {
    return Status::Corruption(where + ": shape " + FormatShape(shape) + " of " + dtype +
                              " overflows: its byte size does not fit in 64 bits");
  }

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
    return Status::Corruption(
        where + ": data_offsets must be an array of 2 unsigned integers, not " +
        (offsets_it == entry.end() ? std::string("missing") : DumpForMessage(*offsets_it)));
  }
  const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
  const uint64_t end = (*offsets_it)[1].get<uint64_t>();
  if (begin > end)
    return Status::Corruption(where + ": data_offsets " + FormatRange(begin, end) + ": begin > end");
  if (end > data_size) {
    return Status::Corruption(where + ": data_offsets " + FormatRange(begin, end) +
                              " lie past the end of the file: the data area holds " +
                              std::to_string(data_size) + " bytes");
  }
  if (end - begin != needed) {
    return Status::Corruption(where + ": data_offsets " + FormatRange(begin, end) + " hold " +
                              std::to_string(end - begin) + " bytes but shape " + FormatShape(shape) +
                              " of " + dtype + " needs " + std::to_string(needed));
  }

  info->name = name;
  info->dtype = dtype;
  info->shape = std::move(shape);
  info->file = path;
  info->file_offset = data_start + begin;  // <= file size: no overflow
  info->byte_size = needed;
  return Status::Ok();
}

// Two tensors sharing bytes would let one write alias another; no writer does that.
Status CheckNoOverlap(const std::string& path, const std::vector<TensorInfo>& tensors) {
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : tensors) {
    if (t.byte_size > 0) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->file_offset < b->file_offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& prev = *by_offset[i - 1];
    const TensorInfo& cur = *by_offset[i];
    if (cur.file_offset < prev.file_offset + prev.byte_size) {
      return Status::Corruption(path + ": tensors " + Quote(prev.name) + " and " + Quote(cur.name) +
                                " overlap in the file");
    }
  }
  return Status::Ok();
}

}  // namespace

uint64_t SafetensorsDTypeSize(const std::string& dtype) {
  std::optional<DType> t = DTypeFromName(dtype);
  return t ? DTypeOf(*t).bytes : 0;
}

Result<std::vector<TensorInfo>> ParseSafetensorsHeader(const std::string& path, std::string_view header_json,
                                                       uint64_t file_size) {
  const uint64_t data_start = 8 + static_cast<uint64_t>(header_json.size());
  if (header_json.size() > kMaxSafetensorsHeaderBytes || data_start > file_size) {
    return Status::Corruption(path + ": header of " + std::to_string(header_json.size()) +
                              " bytes does not fit a file of " + std::to_string(file_size) + " bytes");
  }
  nlohmann::json header;
  E2O_RETURN_IF_ERROR(ParseJsonObject(path, "header", header_json, &header));

  std::vector<TensorInfo> tensors;
  tensors.reserve(header.size());
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      E2O_RETURN_IF_ERROR(CheckMetadata(path, entry));
      continue;
    }
    TensorInfo info;
    E2O_RETURN_IF_ERROR(ParseEntry(path, name, entry, data_start, file_size - data_start, &info));
    tensors.push_back(std::move(info));
  }
  E2O_RETURN_IF_ERROR(CheckNoOverlap(path, tensors));
  std::sort(tensors.begin(), tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
  return tensors;
}

Result<std::vector<TensorInfo>> ReadSafetensorsHeader(const std::string& path) {
  E2O_ASSIGN_OR_RETURN(OpenedFile file, OpenRegularFile(path));
  if (file.size < 8) {
    return Status::Corruption(path + ": file is " + std::to_string(file.size) +
                              " bytes, too short for the 8-byte header length");
  }
  unsigned char prefix[8];
  E2O_RETURN_IF_ERROR(PReadFull(file.fd.get(), prefix, 8, 0, path, "header length"));
  // A Git LFS pointer (a clone without `git lfs pull`) is a short text file: say so rather
  // than reading "vers" as a header length.
  if (std::memcmp(prefix, "version ", 8) == 0) {
    char text[24] = {};
    const uint64_t n = std::min<uint64_t>(file.size, sizeof(text));
    E2O_RETURN_IF_ERROR(PReadFull(file.fd.get(), text, n, 0, path, "header length"));
    if (std::string_view(text, n).rfind("version https://git-lfs", 0) == 0)
      return Status::Corruption(path +
                                ": is a Git LFS pointer, not the weights: run `git lfs pull` in its "
                                "repository (or download the model with `hf download`)");
  }
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | prefix[i];  // little-endian
  // Both checks come before the allocation: the length is the first hostile number.
  if (header_bytes > kMaxSafetensorsHeaderBytes) {
    return Status::Corruption(path + ": header length " + std::to_string(header_bytes) + " exceeds the " +
                              std::to_string(kMaxSafetensorsHeaderBytes) + "-byte cap");
  }
  if (header_bytes > file.size - 8) {
    return Status::Corruption(path + ": header length " + std::to_string(header_bytes) +
                              " runs past the end of the file (" + std::to_string(file.size) + " bytes)");
  }
  std::string header(static_cast<size_t>(header_bytes), '\0');
  E2O_RETURN_IF_ERROR(PReadFull(file.fd.get(), header.data(), header_bytes, 8, path, "header"));
  return ParseSafetensorsHeader(path, header, file.size);
}

}  // namespace embed2onnx
