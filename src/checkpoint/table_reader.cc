// TableReader: reads rows of one 2-D tensor with pread, and nothing else of the file.
#include <unistd.h>

#include <optional>

#include "checkpoint/dtype.h"
#include "checkpoint/json_util.h"
#include "embed2onnx/checkpoint.h"
#include "util/file_io.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace {
std::string FormatShape(const std::vector<uint64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}
}  // namespace

Result<std::unique_ptr<TableReader>> TableReader::Open(const TensorInfo& info) {
  return CatchAll(info.file, [&]() -> Result<std::unique_ptr<TableReader>> {
    const std::string where = info.file + ": tensor " + Quote(info.name);
    const std::string what = info.dtype + " " + FormatShape(info.shape);
    if (info.shape.size() != 2) {
      return Status::InvalidArgument(where + " is " + what + " (rank " + std::to_string(info.shape.size()) +
                                     "); an embedding table has rank 2");
    }
    if (info.shape[0] == 0 || info.shape[1] == 0) {
      return Status::InvalidArgument(where + " is " + what + ": an embedding table cannot be empty");
    }
    std::optional<DType> dtype = DTypeFromName(info.dtype);
    if (!dtype || !DTypeOf(*dtype).table) {
      return Status::InvalidArgument(where + " is " + what + ": tables must be " + TableDTypeList());
    }

    std::unique_ptr<TableReader> reader(new TableReader());
    reader->info_ = info;
    reader->rows_ = info.shape[0];
    reader->cols_ = info.shape[1];
    reader->dtype_ = *dtype;
    // Checkpoint guarantees this; a hand-made TensorInfo might not, and every read
    // below trusts it.
    uint64_t row_bytes, bytes;
    if (__builtin_mul_overflow(reader->cols_, reader->bytes_per_element(), &row_bytes) ||
        __builtin_mul_overflow(reader->rows_, row_bytes, &bytes) || bytes != info.byte_size) {
      return Status::InvalidArgument(where + ": byte_size " + std::to_string(info.byte_size) +
                                     " does not match " + what);
    }

    E2O_ASSIGN_OR_RETURN(OpenedFile file, OpenRegularFile(info.file));
    if (info.file_offset > file.size || info.byte_size > file.size - info.file_offset) {
      return Status::IOError(where + ": the file is now " + std::to_string(file.size) +
                             " bytes, too short for the tensor's bytes at offset " +
                             std::to_string(info.file_offset) + " (file changed since it was opened?)");
    }
    reader->fd_ = file.fd.release();
    return reader;
  });
}

TableReader::~TableReader() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t TableReader::bytes_per_element() const { return DTypeOf(dtype_).bytes; }

Status TableReader::ReadRows(uint64_t first, uint64_t count, void* out) const {
  return CatchAll(info_.file, [&]() -> Status {
    // Worded without first + count, which may overflow.
    const std::string rows_text = std::to_string(count) + " rows from row " + std::to_string(first);
    if (count > rows_ || first > rows_ - count) {
      return Status::InvalidArgument(info_.file + ": tensor " + Quote(info_.name) + ": " + rows_text +
                                     " are out of range: the table has " + std::to_string(rows_) + " rows");
    }
    if (count == 0) return Status::Ok();
    // In range, so first + count cannot overflow, and both products are at most
    // byte_size, checked at Open.
    const std::string context = "tensor " + Quote(info_.name) + ", rows [" + std::to_string(first) + ", " +
                                std::to_string(first + count) + ")";
    return PReadFull(fd_, out, count * row_bytes(), info_.file_offset + first * row_bytes(), info_.file,
                     context);
  });
}

}  // namespace embed2onnx
