#include "onnx/graph_util.h"

#include <cstring>
#include <iterator>

namespace embed2onnx {

namespace {
using TP = onnx::TensorProto;

constexpr OnnxElemRow kOnnxElems[] = {
    {.type = TP::FLOAT, .bytes = 4, .kind = OnnxKind::kFloat},
    {.type = TP::FLOAT16, .bytes = 2, .kind = OnnxKind::kFloat},
    {.type = TP::BFLOAT16, .bytes = 2, .kind = OnnxKind::kFloat},
    {.type = TP::DOUBLE, .bytes = 8, .kind = OnnxKind::kFloat},
    {.type = TP::INT8, .bytes = 1, .kind = OnnxKind::kSigned},
    {.type = TP::INT16, .bytes = 2, .kind = OnnxKind::kSigned},
    {.type = TP::INT32, .bytes = 4, .kind = OnnxKind::kSigned},
    {.type = TP::INT64, .bytes = 8, .kind = OnnxKind::kSigned},
    {.type = TP::UINT8, .bytes = 1, .kind = OnnxKind::kUnsigned},
    {.type = TP::UINT16, .bytes = 2, .kind = OnnxKind::kUnsigned},
    {.type = TP::BOOL, .bytes = 1, .kind = OnnxKind::kBool},
};

// A type listed twice would make the lookup's answer depend on row order.
constexpr bool TypesAreDistinct() {
  for (size_t i = 0; i < std::size(kOnnxElems); ++i) {
    if (kOnnxElems[i].bytes == 0 || kOnnxElems[i].type == TP::UNDEFINED) return false;
    for (size_t j = i + 1; j < std::size(kOnnxElems); ++j)
      if (kOnnxElems[i].type == kOnnxElems[j].type) return false;
  }
  return true;
}
static_assert(TypesAreDistinct(), "each ONNX element type has one row, with a size");
}  // namespace

const OnnxElemRow* FindOnnxElem(int32_t t) {
  for (const OnnxElemRow& r : kOnnxElems)
    if (r.type == t) return &r;
  return nullptr;
}

uint32_t OnnxElemBytes(int32_t t) {
  const OnnxElemRow* r = FindOnnxElem(t);
  return r ? r->bytes : 0;
}

bool OnnxIsFloat(int32_t t) {
  const OnnxElemRow* r = FindOnnxElem(t);
  return r && r->kind == OnnxKind::kFloat;
}

bool OnnxIsInteger(int32_t t) {
  const OnnxElemRow* r = FindOnnxElem(t);
  return r && (r->kind == OnnxKind::kSigned || r->kind == OnnxKind::kUnsigned);
}

std::string OnnxElemName(int32_t t) {
  if (onnx::TensorProto::DataType_IsValid(t))
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t));
  return "type " + std::to_string(t);
}

void SetModelHeader(onnx::ModelProto* m) {
  m->set_ir_version(kOnnxIrVersion);
  onnx::OperatorSetIdProto* opset = m->add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
}

onnx::NodeProto* AddNode(onnx::GraphProto* g, const std::string& op,
                         std::initializer_list<std::string> inputs,
                         std::initializer_list<std::string> outputs, const std::string& name) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

void SetIntAttr(onnx::NodeProto* node, const std::string& name, int64_t value) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void SetStringAttr(onnx::NodeProto* node, const std::string& name, const std::string& value) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

namespace {
void SetShape(onnx::ValueInfoProto* v, int32_t elem, std::initializer_list<const char*> params,
              int64_t last) {
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (const char* p : params) shape->add_dim()->set_dim_param(p);
  if (last > 0) shape->add_dim()->set_dim_value(last);
}
}  // namespace

void AddLookupIO(onnx::GraphProto* g, int64_t hidden) {
  onnx::ValueInfoProto* in = g->add_input();
  in->set_name(kInputName);
  SetShape(in, onnx::TensorProto::INT64, {"B", "N"}, 0);
  onnx::ValueInfoProto* out = g->add_output();
  out->set_name(kOutputName);
  SetShape(out, onnx::TensorProto::FLOAT, {"B", "N"}, hidden);
}

void AddRawInitializer(onnx::GraphProto* g, const std::string& name, int32_t elem_type,
                       const std::vector<int64_t>& dims, std::string raw) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(std::move(raw));
}

void AddInt64Initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& values) {
  // raw_data is little-endian, which is what this machine stores.
  std::string raw(values.size() * sizeof(int64_t), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  AddRawInitializer(g, name, onnx::TensorProto::INT64, dims, std::move(raw));
}

void AddFloatInitializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<float>& values) {
  std::string raw(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  AddRawInitializer(g, name, onnx::TensorProto::FLOAT, dims, std::move(raw));
}

}  // namespace embed2onnx
