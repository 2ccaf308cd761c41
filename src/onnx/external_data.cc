#include "onnx/external_data.h"

namespace embed2onnx {

SidecarLayout PlanSidecar(std::vector<TensorPlacement> tensors, const std::string& location) {
  SidecarLayout layout;
  layout.location = location;
  uint64_t end = 0;
  for (TensorPlacement& t : tensors) {
    t.external = t.byte_size >= kExternalThreshold;
    if (!t.external) continue;
    t.offset = (end + kSidecarAlignment - 1) / kSidecarAlignment * kSidecarAlignment;
    end = t.offset + t.byte_size;
  }
  layout.sidecar_size = end;
  layout.tensors = std::move(tensors);
  return layout;
}

void AddPlacedInitializer(onnx::GraphProto* g, const TensorPlacement& p, const std::string& location,
                          const std::string& raw) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(p.name);
  t->set_data_type(p.elem_type);
  for (int64_t d : p.dims) t->add_dims(d);
  if (!p.external) {
    t->set_raw_data(raw);
    return;
  }
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [t](const char* key, const std::string& value) {
    onnx::StringStringEntryProto* e = t->add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add("location", location);
  add("offset", std::to_string(p.offset));
  add("length", std::to_string(p.byte_size));
}

}  // namespace embed2onnx
