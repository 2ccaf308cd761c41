#include "checkpoint/dtype.h"

namespace embed2onnx {

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
