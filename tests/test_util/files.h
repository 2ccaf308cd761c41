// Helpers for the unit tests of every stage: a temporary folder per test, and safetensors bytes
// assembled by hand, never through the reader under test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "embed2onnx/status.h"

namespace embed2onnx::test_util {

// The 8 little-endian bytes of `v`.
inline std::string Le64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

// A safetensors file: u64 length of `header_json`, the header, then `data`.
inline std::string SafetensorsBytes(const std::string& header_json, const std::string& data) {
  return Le64(header_json.size()) + header_json + data;
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// A checkpoint folder's model.safetensors holding one float32 [v, d] table,
// model.embed_tokens.weight, of small, distinct, finite values.
inline void WriteF32Checkpoint(const std::string& dir, int v, int d) {
  std::string data(static_cast<size_t>(v) * d * 4, '\0');
  for (int i = 0; i < v * d; ++i) {
    const float x = static_cast<float>((i * 37) % 2001 - 1000) / 4096.0f;
    std::memcpy(data.data() + 4 * static_cast<size_t>(i), &x, 4);
  }
  const std::string header = R"({"model.embed_tokens.weight": {"dtype": "F32", "shape": [)" +
                             std::to_string(v) + ", " + std::to_string(d) + R"(], "data_offsets": [0, )" +
                             std::to_string(data.size()) + "]}}";
  WriteFile(dir + "/model.safetensors", SafetensorsBytes(header, data));
}

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "e2o_ckpt_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (path_.empty()) return;
    KeepOnnxFiles();
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  // With E2O_KEEP_ONNX=DIR (tests/unit_official_check.sh), the .onnx files and their
  // sidecars this folder holds go to DIR/<this folder's name>/ before it is removed, so
  // the official checker can read every graph the unit tests wrote.
  void KeepOnnxFiles() const {
    const char* keep = std::getenv("E2O_KEEP_ONNX");
    if (keep == nullptr || *keep == '\0') return;
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path root(path_), into = fs::path(keep) / root.filename();
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!it->is_regular_file(ec) || !(name.ends_with(".onnx") || name.ends_with(".onnx_data"))) continue;
      const fs::path to = into / fs::relative(it->path(), root, ec);
      fs::create_directories(to.parent_path(), ec);
      fs::copy_file(it->path(), to, fs::copy_options::overwrite_existing, ec);
    }
  }

  std::string path_;
};

inline bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Asserts `status` failed with a message that starts with `path` and holds `phrase`.
inline ::testing::AssertionResult FailsNaming(const Status& status, const std::string& path,
                                              const std::string& phrase) {
  if (status.ok()) return ::testing::AssertionFailure() << "expected an error, got OK";
  const std::string& msg = status.message();
  if (!StartsWith(msg, path)) {
    return ::testing::AssertionFailure() << "message does not start with " << path << ": " << msg;
  }
  if (msg.find(phrase) == std::string::npos) {
    return ::testing::AssertionFailure() << "message lacks \"" << phrase << "\": " << msg;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace embed2onnx::test_util
