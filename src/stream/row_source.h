// Where a pass gets the table's rows: the seam between the streaming core and the
// checkpoint. TableSource reads a checkpoint's table (TableReader); MemorySource holds
// a table in memory, so the core can be tested without any file.
//
// Rows come as stored (BF16, F16 or F32, little-endian) and are widened to float32 by
// the pass; a non-finite weight is an input error (SPEC §4), and NonFiniteWeight() is
// its one wording, wherever it is found.
//
// Thread-safety: ReadRows may be called from several threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embed2onnx/checkpoint.h"
#include "embed2onnx/status.h"

namespace embed2onnx {

class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual uint64_t rows() const = 0;
  virtual uint64_t cols() const = 0;
  virtual TableDType dtype() const = 0;
  // For messages: the file that holds the table and the tensor's name.
  virtual const std::string& file() const = 0;
  virtual const std::string& tensor() const = 0;
  // Copies rows [first, first + count) as stored into `out` (count * row_bytes()).
  virtual Status ReadRows(uint64_t first, uint64_t count, void* out) const = 0;

  uint64_t row_bytes() const;
};

// A checkpoint's table. REQUIRES: `table` outlives the source.
class TableSource final : public RowSource {
 public:
  explicit TableSource(const TableReader& table) : table_(table) {}
  uint64_t rows() const override { return table_.rows(); }
  uint64_t cols() const override { return table_.cols(); }
  TableDType dtype() const override { return table_.dtype(); }
  const std::string& file() const override { return table_.info().file; }
  const std::string& tensor() const override { return table_.info().name; }
  Status ReadRows(uint64_t first, uint64_t count, void* out) const override {
    return table_.ReadRows(first, count, out);
  }

 private:
  const TableReader& table_;
};

// A table held in memory, rows * cols elements of `dtype` as stored.
class MemorySource final : public RowSource {
 public:
  MemorySource(TableDType dtype, uint64_t rows, uint64_t cols, std::vector<uint8_t> bytes,
               std::string file = "memory", std::string tensor = "table.weight");
  // A float32 table.
  static MemorySource FromFloats(uint64_t rows, uint64_t cols, const std::vector<float>& values);
  uint64_t rows() const override { return rows_; }
  uint64_t cols() const override { return cols_; }
  TableDType dtype() const override { return dtype_; }
  const std::string& file() const override { return file_; }
  const std::string& tensor() const override { return tensor_; }
  Status ReadRows(uint64_t first, uint64_t count, void* out) const override;

 private:
  TableDType dtype_;
  uint64_t rows_, cols_;
  std::vector<uint8_t> bytes_;
  std::string file_, tensor_;
};

// The one message for a NaN or inf in the table, naming file, tensor, row and column.
Status NonFiniteWeight(const RowSource& source, uint64_t row, uint64_t col);

// Widens `count` stored rows starting at row `first` (for the message) to float32;
// a non-finite value is NonFiniteWeight.
Status DecodeRows(const RowSource& source, uint64_t first, uint64_t count, const void* raw, float* out);

// Reads rows `ids` (each in range, else InvalidArgument) as float32, ids.size() * cols.
Status ReadRowsAsFloat(const RowSource& source, const std::vector<int64_t>& ids, std::vector<float>* out);

}  // namespace embed2onnx
