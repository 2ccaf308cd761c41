// CatchAll: the boundary between the checkpoint code and its callers.
//
// The library never throws across its API (status.h). Inside, std::bad_alloc can still
// escape from a vector sized by a hostile file, and nlohmann::json throws type_error if
// we ever misjudge a value's type. Every public entry point of this stage runs its body
// through CatchAll so that such an exception becomes a Status naming the file.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

template <typename Fn>
auto CatchAll(const std::string& path, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::IOError(path + ": out of memory");
  } catch (const std::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  } catch (...) {
    return Status::Corruption(path + ": unexpected error");
  }
}

}  // namespace embed2onnx
