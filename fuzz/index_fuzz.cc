// Fuzzes the sharded-checkpoint index parser. The input is the text of a
// model.safetensors.index.json; no shard is opened.
//
// Invariants: errors name the index; an accepted index assigns at least one tensor,
// each tensor to exactly one shard, and every shard name is a plain file name that
// cannot leave the index's folder.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "checkpoint/index.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embed2onnx;
  using namespace embed2onnx::fuzz;
  const std::string path = "fuzz/model.safetensors.index.json";
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  Result<ShardAssignment> parsed = ParseIndexJson(path, text);
  Report("index", parsed.status());
  CheckErrorNames(parsed.status(), path);
  if (!parsed.ok()) return 0;

  FUZZ_CHECK(!parsed->empty(), "an index with no shard accepted");
  std::set<std::string> seen;
  for (const auto& [shard, tensors] : *parsed) {
    FUZZ_CHECK(!shard.empty() && shard != "." && shard != "..", "shard name '%s' accepted", shard.c_str());
    FUZZ_CHECK(shard.find('/') == std::string::npos && shard.find('\\') == std::string::npos &&
                   shard.find("..") == std::string::npos && shard.find('\0') == std::string::npos,
               "shard name '%s' leaves the folder", shard.c_str());
    FUZZ_CHECK(!tensors.empty(), "shard %s listed with no tensor", shard.c_str());
    for (const std::string& t : tensors) {
      FUZZ_CHECK(seen.insert(t).second, "tensor '%s' assigned twice", t.c_str());
    }
  }
  return 0;
}
