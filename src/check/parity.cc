#include "check/parity.h"

#include <cmath>
#include <cstring>

#include "check/evaluator.h"
#include "numerics/error_stats.h"
#include "numerics/half.h"

namespace embed2onnx {

std::vector<int64_t> SampleIds(uint64_t vocab) {
  std::vector<int64_t> ids;
  const int64_t v = static_cast<int64_t>(vocab);
  for (int64_t id : {int64_t{0}, int64_t{1}, int64_t{100}, int64_t{1024}, int64_t{50000}, int64_t{100352},
                     int64_t{100351}, v - 1})
    if (id >= 0 && id < v) ids.push_back(id);
  return ids;
}

Status CheckGraphOnIds(const LoadedModel& model, const StoredTier& st, const std::vector<int64_t>& ids,
                       const float* source, ErrorFigures* parity, std::vector<int64_t>* shape,
                       NumpyRules rules) {
  const uint64_t d = st.cols;
  const int32_t out_elem = st.params.output_elem;
  const bool half = out_elem == onnx::TensorProto::FLOAT16;
  E2O_ASSIGN_OR_RETURN(HostTensor got,
                       EvaluateLookup(model, MakeIdsTensor(ids, 1, static_cast<int64_t>(ids.size()))));
  if (got.elem_type != out_elem || got.count() != ids.size() * d)
    return Status::Mismatch(st.file + ": the graph's output is not " + (half ? "float16" : "float32") +
                            " [1, " + std::to_string(ids.size()) + ", " + std::to_string(d) + "]");
  const size_t eb = half ? sizeof(uint16_t) : sizeof(float);
  std::vector<uint8_t> bufs[kMaxStreamed];
  std::vector<float> expect(d);
  std::vector<uint16_t> expect_half(half ? d : 0);
  for (size_t k = 0; k < ids.size(); ++k) {
    E2O_RETURN_IF_ERROR(st.ReadRows(static_cast<uint64_t>(ids[k]), 1, bufs));
    const uint8_t* row[kMaxStreamed];
    for (int i = 0; i < st.tier->num_streamed; ++i) row[i] = bufs[i].data();
    st.tier->decode(row, 1, d, st.params, expect.data());
    // A float16 output is the decoded float32 row rounded once, to nearest even.
    if (half) FloatsToHalf(expect.data(), expect_half.data(), d);
    const void* want = half ? static_cast<const void*>(expect_half.data()) : expect.data();
    if (std::memcmp(want, got.data.data() + k * d * eb, d * eb) != 0)
      return Status::Mismatch(st.file + ": graph output for id " + std::to_string(ids[k]) +
                              " differs from the decoding of its stored row");
  }
  if (shape) *shape = got.dims;
  if (source && parity) {
    // The figures compare what a consumer receives (the float16 values, widened exactly)
    // with the table.
    std::vector<float> out(ids.size() * d);
    if (half) {
      HalfsToFloat(reinterpret_cast<const uint16_t*>(got.data.data()), out.data(), out.size());
    } else {
      std::memcpy(out.data(), got.data.data(), out.size() * sizeof(float));
    }
    std::vector<float> err(ids.size() * d);
    for (size_t i = 0; i < err.size(); ++i) err[i] = std::fabs(out[i] - source[i]);
    *parity = SummarizeErrors(err, rules);
  }
  return Status::Ok();
}

}  // namespace embed2onnx
