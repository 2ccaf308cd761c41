#include "onnx/graph_util.h"

#include <cstring>

namespace embed2onnx {

uint32_t OnnxElemBytes(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT:
      return 4;
    case onnx::TensorProto::UINT8:
      return 1;
    case onnx::TensorProto::INT8:
      return 1;
    case onnx::TensorProto::INT32:
      return 4;
    case onnx::TensorProto::INT64:
      return 8;
    case onnx::TensorProto::FLOAT16:
      return 2;
    case onnx::TensorProto::BFLOAT16:
      return 2;
    case onnx::TensorProto::UINT16:
      return 2;
    case onnx::TensorProto::INT16:
      return 2;
    case onnx::TensorProto::DOUBLE:
      return 8;
    default:
      return 0;
  }
}

std::string OnnxElemName(int32_t t) {
  if (onnx::TensorProto::DataType_IsValid(t))
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t));
  return "type " + std::to_string(t);
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
  std::memcpy(raw.data(), values.data(), raw.size());
  AddRawInitializer(g, name, onnx::TensorProto::INT64, dims, std::move(raw));
}

}  // namespace embed2onnx
