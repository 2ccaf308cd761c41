// Status and Result<T>: how every fallible call in embed2onnx reports failure.
//
// A Status is either OK or carries a code and a one-line message. Messages name the
// thing that is wrong (a file, a tensor, a flag) and what was expected, so the CLI can
// print them as they are after "embed2onnx: error: ". The library never throws across
// its API and never fails silently.
//
// Thread-safety: values; copy freely.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace embed2onnx {

class Status {
 public:
  enum class Code { kOk = 0, kInvalidArgument, kNotFound, kCorruption, kIOError, kNotSupported, kMismatch };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }
  // A verified output does not match what it should hold.
  static Status Mismatch(std::string msg) { return Status(Code::kMismatch, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>". OK stays OK.
  Status WithPrefix(const std::string& prefix) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  // REQUIRES: !status.ok() when constructing from a Status.

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace embed2onnx

// Returns early from the calling function when `expr` yields a non-OK Status.
#define E2O_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::embed2onnx::Status e2o_status_ = (expr); \
    if (!e2o_status_.ok()) return e2o_status_; \
  } while (0)

#define E2O_CONCAT_INNER(a, b) a##b
#define E2O_CONCAT(a, b) E2O_CONCAT_INNER(a, b)
// `E2O_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define E2O_ASSIGN_OR_RETURN(lhs, expr) \
  E2O_ASSIGN_OR_RETURN_IMPL(E2O_CONCAT(e2o_result_, __LINE__), lhs, expr)
#define E2O_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
