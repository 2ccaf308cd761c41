// Small helpers over the real onnx::ModelProto classes (Debian's libonnx-dev).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace embed2onnx {

inline constexpr int64_t kOnnxIrVersion = 10;
inline constexpr int64_t kOnnxOpset = 20;
inline constexpr char kInputName[] = "input_ids";
inline constexpr char kOutputName[] = "inputs_embeds";

// The ONNX element types this project reads and writes, one row each: what the .onnx
// reader, the contract check and the reference evaluator know about a type comes from
// here. Others (strings, complex, 4-bit and 8-bit floats) are refused where met. BOOL
// (one byte, 0 or 1) is neither float nor integer: only the ops that take it see it.
enum class OnnxKind { kFloat, kSigned, kUnsigned, kBool };
struct OnnxElemRow {
  int32_t type = 0;  // onnx::TensorProto::DataType
  uint32_t bytes = 0;
  OnnxKind kind = OnnxKind::kFloat;
};
// nullptr for a type not in the table.
const OnnxElemRow* FindOnnxElem(int32_t elem_type);

// Bytes per element of an ONNX tensor type in the table (0 for others).
uint32_t OnnxElemBytes(int32_t elem_type);
// Whether the type is in the table and of that kind; an integer is signed or unsigned
// (not BOOL).
bool OnnxIsFloat(int32_t elem_type);
bool OnnxIsInteger(int32_t elem_type);
// "FLOAT", "INT8", ... for messages (any valid DataType, or "type <n>").
std::string OnnxElemName(int32_t elem_type);

// Appends a node; `ints` are INT attributes (name, value).
onnx::NodeProto* AddNode(onnx::GraphProto* g, const std::string& op,
                         std::initializer_list<std::string> inputs,
                         std::initializer_list<std::string> outputs, const std::string& name);
void SetIntAttr(onnx::NodeProto* node, const std::string& name, int64_t value);
void SetStringAttr(onnx::NodeProto* node, const std::string& name, const std::string& value);

// IR 10 and the one opset import of SPEC §2 (ai.onnx 20), on a model that has none yet.
void SetModelHeader(onnx::ModelProto* m);

// Declares input_ids INT64 [B, N] and inputs_embeds FLOAT [B, N, hidden].
void AddLookupIO(onnx::GraphProto* g, int64_t hidden);

// An inline initializer holding `raw` (little-endian bytes).
void AddRawInitializer(onnx::GraphProto* g, const std::string& name, int32_t elem_type,
                       const std::vector<int64_t>& dims, std::string raw);

// An inline INT64 initializer.
void AddInt64Initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& values);

// An inline FLOAT initializer.
void AddFloatInitializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<float>& values);

}  // namespace embed2onnx
