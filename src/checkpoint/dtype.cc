#include "checkpoint/dtype.h"

namespace embed2onnx {

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const DTypeRow& r : kDTypes)
    if (r.name == name) return r.type;
  return std::nullopt;
}

std::string TableDTypeList() {
  std::string list, last;
  for (const DTypeRow& r : kDTypes) {
    if (!r.table) continue;
    if (!last.empty()) list += (list.empty() ? "" : ", ") + last;
    last = r.name;
  }
  return list.empty() ? last : list + " or " + last;
}

}  // namespace embed2onnx
