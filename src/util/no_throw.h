// CatchAll: the exception boundary between the library and its callers.
//
// The library never throws across its API (status.h). Inside, third-party code still
// can: std::bad_alloc from a vector sized by a hostile file, nlohmann::json's type_error
// on a string that is not UTF-8, std::filesystem_error, protobuf. Every public entry
// point (each function of include/embed2onnx/*.h that can fail) runs its body through
// CatchAll, so that such an exception becomes a Status whose message starts with `what`
// (the file, folder or flag the call was about), and the stack unwinds normally: staged
// files are removed by their owners' destructors instead of being left by std::terminate.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Returns fn() (a Status or a Result<T>), or the exception it threw as a Status:
// IOError "<what>: out of memory" for std::bad_alloc, Corruption "<what>: <e.what()>"
// for any other std::exception, Corruption "<what>: unexpected error" for anything else.
template <typename Fn>
auto CatchAll(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::IOError(what + ": out of memory");
  } catch (const std::exception& e) {
    return Status::Corruption(what + ": " + e.what());
  } catch (...) {
    return Status::Corruption(what + ": unexpected error");
  }
}

}  // namespace embed2onnx
