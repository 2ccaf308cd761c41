// Fuzzes the ONNX read-back. The input is the bytes of an .onnx model.
//
// Each input goes through ParseModelBytes (bytes alone), then LoadedModel::Load as a
// file whose external data is a fixed 4 KiB sidecar, and every accepted initializer is
// read whole. Invariants: errors name the model; an accepted model reparses after
// serialisation; every initializer Load accepts has a known type, non-negative dims,
// exactly its byte size inline or a range inside the sidecar, and reads without error.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "onnx/graph_util.h"
#include "onnx/onnx_model.h"

namespace {
constexpr size_t kSidecarBytes = 4096;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embed2onnx;
  using namespace embed2onnx::fuzz;
  static MemFile* const model_file = new MemFile("model.onnx");
  static MemFile* const sidecar = [] {
    auto* f = new MemFile("model.onnx_data");
    std::vector<uint8_t> bytes(kSidecarBytes);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37);
    f->Set(bytes.data(), bytes.size());
    return f;
  }();

  const std::string name = "fuzz.onnx";
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  onnx::ModelProto proto;
  Status parsed = ParseModelBytes(bytes, name, &proto);
  Report("bytes", parsed);
  CheckErrorNames(parsed, name);
  if (parsed.ok()) {
    std::string again;
    FUZZ_CHECK(proto.SerializeToString(&again), "an accepted model does not serialise");
    onnx::ModelProto reparsed;
    Status st = ParseModelBytes(again, name, &reparsed);
    FUZZ_CHECK(st.ok(), "an accepted model, serialised again, is refused: %s", st.message().c_str());
  }

  model_file->Set(data, size);
  Result<std::unique_ptr<LoadedModel>> loaded = LoadedModel::Load(model_file->path(), sidecar->path());
  Report("file", loaded.status());
  if (!loaded.ok()) {
    // Errors about the external data name the sidecar, all others the model.
    const std::string& msg = loaded.status().message();
    FUZZ_CHECK(StartsWith(msg, model_file->path()) || StartsWith(msg, sidecar->path()),
               "error names neither file: %s", msg.c_str());
    return 0;
  }
  FUZZ_CHECK(parsed.ok(), "Load accepts what ParseModelBytes refuses: %s", parsed.message().c_str());
  const LoadedModel& m = **loaded;
  FUZZ_CHECK(static_cast<size_t>(m.proto().graph().initializer_size()) == m.initializers().size(),
             "initializers lost or duplicated");
  std::vector<char> buf;
  for (const auto& [init_name, d] : m.initializers()) {
    const uint64_t elem = OnnxElemBytes(d.elem_type);
    FUZZ_CHECK(elem > 0, "initializer of unknown type %d accepted", d.elem_type);
    uint64_t bytes_needed = elem;
    for (int64_t dim : d.dims) {
      FUZZ_CHECK(dim >= 0, "negative dim accepted");
      FUZZ_CHECK(!__builtin_mul_overflow(bytes_needed, static_cast<uint64_t>(dim), &bytes_needed),
                 "overflowing dims accepted");
    }
    FUZZ_CHECK(bytes_needed == d.byte_size, "byte_size %llu, dims need %llu",
               static_cast<unsigned long long>(d.byte_size), static_cast<unsigned long long>(bytes_needed));
    if (d.external) {
      FUZZ_CHECK(d.offset <= kSidecarBytes && d.byte_size <= kSidecarBytes - d.offset,
                 "external range outside the sidecar accepted");
    } else {
      FUZZ_CHECK(d.raw != nullptr && d.raw->size() == d.byte_size, "inline size mismatch accepted");
    }
    buf.resize(static_cast<size_t>(d.byte_size));
    Status st = d.Read(0, d.byte_size, buf.data());
    FUZZ_CHECK(st.ok(), "accepted initializer '%s' does not read: %s", init_name.c_str(),
               st.message().c_str());
    FUZZ_CHECK(!d.Read(d.byte_size, 1, buf.data()).ok(), "read past the end accepted");
  }
  return 0;
}
