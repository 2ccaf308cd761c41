// Reading Hugging Face safetensors checkpoints: one `model.safetensors`, or the shards
// named by `model.safetensors.index.json`.
//
// Format (all of it untrusted): 8-byte little-endian u64 header length N, then N bytes
// of UTF-8 JSON, an object: tensor name -> {"dtype": "BF16"|..., "shape": [d0, ...],
// "data_offsets": [begin, end]} with offsets relative to the first byte after the
// header, plus an optional "__metadata__" object of strings. Data is little-endian,
// row-major.
//
// Contract: Open* validates everything before returning: the header length against a
// cap and the file size, the JSON, every entry's dtype, shape (non-negative, products
// without overflow), offsets (begin <= end, inside the file, end - begin == product of
// shape * dtype size). A sharded checkpoint's index is validated too: `weight_map` is an
// object of string -> string, shard names are plain file names (no '/', '\\', "..",
// not absolute), every shard exists and holds the tensors the index assigns to it.
// Any violation is a non-OK Status whose message starts with the offending file path
// (Corruption for bad bytes, NotFound for a missing file or folder). Tensors whose bytes
// overlap are refused; gaps between tensors are accepted. The index is authoritative:
// a shard's tensors that the index does not list are ignored.
// Only headers are read here; tensor bytes are read on demand by TableReader.
//
// Thread-safety: a Checkpoint is immutable after Open; TableReader::ReadRows may be
// called from several threads at once (it uses pread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Every safetensors element type with a whole number of bytes per element, by size.
// Sub-byte types (F4, F6_*) have no such size and are refused as unknown. One table
// (src/checkpoint/dtype.h) gives each its name, size and, for those a table may be
// stored in (BF16, F16, F32), its widening to float32. kCount is not a type but the
// number of them, which that table's length is checked against.
enum class DType : uint8_t {
  kBool,
  kU8,
  kI8,
  kF8E4M3,
  kF8E5M2,
  kF8E8M0,
  kI16,
  kU16,
  kBF16,
  kF16,
  kI32,
  kU32,
  kF32,
  kI64,
  kU64,
  kF64,
  kCount
};
// The dtype of an embedding table: one whose row in the dtype table allows tables.
// Other dtypes are parsed (so their sizes are checked) but cannot be exported.
using TableDType = DType;

// Bytes per element of a safetensors dtype name ("BF16" -> 2), or 0 if unknown: knows
// every DType by its header name (BOOL, U8, I8, F8_E4M3, ..., F64).
uint64_t SafetensorsDTypeSize(const std::string& dtype);

struct TensorInfo {
  std::string name;
  std::string dtype;            // as written in the header, e.g. "BF16"
  std::vector<uint64_t> shape;  // may be empty for a scalar
  std::string file;             // path of the file that holds it
  uint64_t file_offset = 0;     // absolute offset of the first data byte in `file`
  uint64_t byte_size = 0;       // == product(shape) * SafetensorsDTypeSize(dtype)
};

class Checkpoint {
 public:
  // Opens `dir`: `model.safetensors` if present, else `model.safetensors.index.json`,
  // else the only `*.safetensors` file in the folder. No checkpoint -> NotFound naming
  // the folder.
  static Result<Checkpoint> OpenDir(const std::string& dir);
  // Opens one safetensors file.
  static Result<Checkpoint> OpenFile(const std::string& path);
  // Opens a `model.safetensors.index.json` and the shards beside it.
  static Result<Checkpoint> OpenIndex(const std::string& index_path);

  // What was opened: the .safetensors file or the index file.
  const std::string& source() const { return source_; }
  // Every tensor of every file, sorted by name.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr if absent.
  const TensorInfo* Find(const std::string& name) const;

 private:
  std::string source_;
  std::vector<TensorInfo> tensors_;
};

// Reads the raw bytes of rows of a 2-D table, and nothing else of the file.
class TableReader {
 public:
  // REQUIRES: `info` comes from a Checkpoint. Refuses (InvalidArgument, naming the
  // tensor) a rank other than 2, a zero dimension, or a dtype other than BF16/F16/F32.
  // The reader keeps its own descriptor, so it outlives the Checkpoint.
  static Result<std::unique_ptr<TableReader>> Open(const TensorInfo& info);
  ~TableReader();  // closes the file
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  uint64_t rows() const { return rows_; }
  uint64_t cols() const { return cols_; }
  TableDType dtype() const { return dtype_; }
  uint64_t bytes_per_element() const;
  uint64_t row_bytes() const { return cols_ * bytes_per_element(); }
  const TensorInfo& info() const { return info_; }

  // Copies rows [first, first + count) as stored (little-endian) into `out`, which
  // holds count * row_bytes() bytes. Rows past the end are an InvalidArgument; a short
  // read (the file shrank after Open) or an I/O error is an IOError naming the file.
  // count == 0 reads nothing. Safe to call concurrently.
  Status ReadRows(uint64_t first, uint64_t count, void* out) const;

 private:
  TableReader() = default;
  TensorInfo info_;
  int fd_ = -1;
  uint64_t rows_ = 0, cols_ = 0;
  TableDType dtype_ = TableDType::kF32;
};

}  // namespace embed2onnx
