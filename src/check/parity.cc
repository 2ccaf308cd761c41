#include "check/parity.h"

#include <cmath>
#include <cstring>

#include "check/evaluator.h"
#include "numerics/decode.h"

namespace embed2onnx {

std::vector<int64_t> SampleIds(uint64_t vocab) {
  std::vector<int64_t> ids;
  const int64_t v = static_cast<int64_t>(vocab);
  for (int64_t id : {int64_t{0}, int64_t{1}, int64_t{100}, int64_t{1024}, int64_t{50000}, int64_t{100352},
                     int64_t{100351}, v - 1})
    if (id >= 0 && id < v) ids.push_back(id);
  return ids;
}

Status ReadTableRows(const TableReader& table, const std::vector<int64_t>& ids, std::vector<float>* out) {
  const uint64_t d = table.cols();
  out->assign(ids.size() * d, 0.0f);
  std::vector<uint8_t> raw(table.row_bytes());
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] < 0 || static_cast<uint64_t>(ids[k]) >= table.rows())
      return Status::InvalidArgument("token id " + std::to_string(ids[k]) + " is out of range [0, " +
                                     std::to_string(table.rows() - 1) + "]");
    E2O_RETURN_IF_ERROR(table.ReadRows(static_cast<uint64_t>(ids[k]), 1, raw.data()));
    int64_t bad = DecodeToFloat(table.dtype(), raw.data(), out->data() + k * d, d);
    if (bad >= 0)
      return Status::InvalidArgument(table.info().file + ": tensor '" + table.info().name + "' row " +
                                     std::to_string(ids[k]) + " holds a non-finite value at column " +
                                     std::to_string(bad));
  }
  return Status::Ok();
}

Result<ParityResult> CheckParity(const LoadedModel& model, const TableReader& table,
                                 const std::vector<int64_t>& ids) {
  std::vector<float> ref;
  E2O_RETURN_IF_ERROR(ReadTableRows(table, ids, &ref));
  E2O_ASSIGN_OR_RETURN(HostTensor got,
                       EvaluateLookup(model, MakeIdsTensor(ids, 1, static_cast<int64_t>(ids.size()))));
  ParityResult r;
  r.shape = got.dims;
  if (got.elem_type != onnx::TensorProto::FLOAT || got.count() != ref.size())
    return Status::Mismatch(model.path() + ": output has " + std::to_string(got.count()) +
                            " values, expected " + std::to_string(ref.size()) + " float32");
  std::vector<float> err(ref.size());
  const float* out = reinterpret_cast<const float*>(got.data.data());
  for (size_t i = 0; i < ref.size(); ++i) err[i] = std::fabs(out[i] - ref[i]);
  r.error = SummarizeErrors(err);
  return r;
}

}  // namespace embed2onnx
