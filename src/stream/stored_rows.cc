#include "stream/stored_rows.h"

#include <fmt/core.h>

#include <cmath>
#include <cstring>

namespace embed2onnx {

Status StoredTier::ReadRows(uint64_t first, uint64_t n, std::vector<uint8_t>* bufs) const {
  for (int i = 0; i < tier->num_streamed; ++i) {
    const uint64_t rb = RowBytes(i);
    bufs[i].resize(n * rb);
    E2O_RETURN_IF_ERROR(init[i]->Read(first * rb, n * rb, bufs[i].data()));
  }
  return Status::Ok();
}

Result<StoredTier> FindStoredTier(const LoadedModel& model, const Tier& tier, uint64_t rows, uint64_t cols) {
  StoredTier st;
  st.tier = &tier;
  st.file = model.path();
  st.cols = cols;
  for (int i = 0; i < tier.num_streamed; ++i) {
    const StreamedInitializer& si = tier.streamed[i];
    auto it = model.initializers().find(si.name);
    if (it == model.initializers().end())
      return Status::Mismatch(st.file + ": initializer '" + si.name + "' is missing");
    const InitializerData& init = it->second;
    if (init.elem_type != si.elem_type)
      return Status::Mismatch(st.file + ": initializer '" + si.name + "' has the wrong element type");
    // int4: the block size follows from the scales' shape.
    if ((si.shape == RowShape::kBlocks || si.shape == RowShape::kInt4Blocks) && init.dims.size() >= 2 &&
        init.dims.back() > 0 && cols % static_cast<uint64_t>(init.dims.back()) == 0)
      st.params.int4_block = static_cast<uint32_t>(cols / static_cast<uint64_t>(init.dims.back()));
    st.init[i] = &init;
  }
  if (tier.check_params) {
    Status s = tier.check_params(cols, st.params);
    if (!s.ok()) return Status::Mismatch(st.file + ": " + s.message());
  }
  for (int i = 0; i < tier.num_streamed; ++i) {
    std::vector<int64_t> want = {static_cast<int64_t>(rows)};
    for (int64_t k : TierRowDims(tier, i, cols, st.params)) want.push_back(k);
    if (st.init[i]->dims != want)
      return Status::Mismatch(st.file + ": initializer '" + st.init[i]->name +
                              "' does not have the table's shape");
  }
  return st;
}

Status CompareStoredRows(const StoredTier& st, uint64_t first, uint64_t n, const float* source,
                         const uint8_t* const* expected, const uint8_t* const* stored) {
  const Tier& tier = *st.tier;
  uint64_t bad_row = n;
  int bad_init = -1;
  for (int i = 0; i < tier.num_streamed; ++i) {
    const uint64_t rb = st.RowBytes(i);
    if (std::memcmp(expected[i], stored[i], n * rb) == 0) continue;
    for (uint64_t r = 0; r < bad_row; ++r)
      if (std::memcmp(expected[i] + r * rb, stored[i] + r * rb, rb) != 0) {
        bad_row = r;
        bad_init = i;
        break;
      }
  }
  if (bad_init < 0) return Status::Ok();
  std::string msg = fmt::format(
      "{}: tier {}, initializer '{}', row {}: the stored bytes differ from the "
      "encoding of the checkpoint",
      st.file, tier.name, tier.streamed[bad_init].name, first + bad_row);
  if (tier.stats_key && tier.row_bound) {
    // Say also whether the decoded values still respect the bound.
    const uint64_t d = st.cols;
    std::vector<float> dec(d), bound(d);
    const uint8_t* row[kMaxStreamed];
    for (int i = 0; i < tier.num_streamed; ++i) row[i] = stored[i] + bad_row * st.RowBytes(i);
    tier.decode(row, 1, d, st.params, dec.data());
    tier.row_bound(row, d, st.params, bound.data());
    const float* x = source + bad_row * d;
    for (uint64_t j = 0; j < d; ++j)
      if (!(std::fabs(dec[j] - x[j]) <= bound[j])) {
        msg += fmt::format("; column {} decodes to {:.9g}, source {:.9g}, outside the bound {:.3g}", j,
                           dec[j], x[j], bound[j]);
        break;
      }
  }
  return Status::Mismatch(msg);
}

Status VerifySink::Consume(const EncodedChunk& chunk) {
  E2O_RETURN_IF_ERROR(st_.ReadRows(chunk.first, chunk.rows, scratch_));
  const uint8_t* stored[kMaxStreamed];
  for (int i = 0; i < st_.tier->num_streamed; ++i) stored[i] = scratch_[i].data();
  return CompareStoredRows(st_, chunk.first, chunk.rows, chunk.source, chunk.encoded, stored);
}

}  // namespace embed2onnx
