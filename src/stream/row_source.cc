#include "stream/row_source.h"

#include <algorithm>
#include <cstring>

#include "numerics/decode.h"

namespace embed2onnx {

namespace {
uint64_t ElementBytes(TableDType t) { return t == TableDType::kF32 ? 4 : 2; }
}  // namespace

uint64_t RowSource::row_bytes() const { return cols() * ElementBytes(dtype()); }

MemorySource::MemorySource(TableDType dtype, uint64_t rows, uint64_t cols, std::vector<uint8_t> bytes,
                           std::string file, std::string tensor)
    : dtype_(dtype),
      rows_(rows),
      cols_(cols),
      bytes_(std::move(bytes)),
      file_(std::move(file)),
      tensor_(std::move(tensor)) {
  bytes_.resize(rows_ * cols_ * ElementBytes(dtype_));
}

MemorySource MemorySource::FromFloats(uint64_t rows, uint64_t cols, const std::vector<float>& values) {
  std::vector<uint8_t> bytes(rows * cols * sizeof(float));
  std::memcpy(bytes.data(), values.data(), std::min(bytes.size(), values.size() * sizeof(float)));
  return MemorySource(TableDType::kF32, rows, cols, std::move(bytes));
}

Status MemorySource::ReadRows(uint64_t first, uint64_t count, void* out) const {
  if (first > rows_ || count > rows_ - first)
    return Status::InvalidArgument(file_ + ": rows " + std::to_string(first) + "+" + std::to_string(count) +
                                   " are past the table's " + std::to_string(rows_));
  std::memcpy(out, bytes_.data() + first * row_bytes(), count * row_bytes());
  return Status::Ok();
}

Status NonFiniteWeight(const RowSource& source, uint64_t row, uint64_t col) {
  return Status::InvalidArgument(source.file() + ": tensor '" + source.tensor() + "' row " +
                                 std::to_string(row) + " column " + std::to_string(col) +
                                 " holds NaN or inf; a checkpoint's weights must be finite");
}

Status DecodeRows(const RowSource& source, uint64_t first, uint64_t count, const void* raw, float* out) {
  const uint64_t d = source.cols();
  const int64_t bad = DecodeToFloat(source.dtype(), raw, out, count * d);
  if (bad < 0) return Status::Ok();
  return NonFiniteWeight(source, first + static_cast<uint64_t>(bad) / d, static_cast<uint64_t>(bad) % d);
}

Status ReadRowsAsFloat(const RowSource& source, const std::vector<int64_t>& ids, std::vector<float>* out) {
  const uint64_t d = source.cols();
  out->assign(ids.size() * d, 0.0f);
  std::vector<uint8_t> raw(source.row_bytes());
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] < 0 || static_cast<uint64_t>(ids[k]) >= source.rows())
      return Status::InvalidArgument("token id " + std::to_string(ids[k]) + " is out of range [0, " +
                                     std::to_string(source.rows() - 1) + "]");
    const uint64_t row = static_cast<uint64_t>(ids[k]);
    E2O_RETURN_IF_ERROR(source.ReadRows(row, 1, raw.data()));
    E2O_RETURN_IF_ERROR(DecodeRows(source, row, 1, raw.data(), out->data() + k * d));
  }
  return Status::Ok();
}

}  // namespace embed2onnx
