#include "export/read_back.h"

#include <algorithm>
#include <memory>

#include "check/contract.h"
#include "check/parity.h"
#include "check/splice_check.h"
#include "onnx/onnx_model.h"
#include "schema/names.h"

namespace embed2onnx {

namespace {
constexpr uint64_t kSinkGroupBytes = 256 << 10;
}  // namespace

Status ExportSink::Consume(const EncodedChunk& chunk) {
  const Tier& tier = writer_->tier();
  uint64_t row_bytes[kMaxStreamed], widest = 1;
  for (int i = 0; i < tier.num_streamed; ++i) {
    row_bytes[i] = TierRowBytes(tier, i, chunk.cols, writer_->params());
    widest = std::max(widest, row_bytes[i]);
  }
  // Rows in groups that fit the cache: the checksum brings them in, the write's copy
  // finds them there.
  const uint64_t group = std::max<uint64_t>(1, kSinkGroupBytes / widest);
  for (uint64_t r = 0; r < chunk.rows; r += group) {
    const uint64_t n = std::min(group, chunk.rows - r);
    const uint8_t* rows[kMaxStreamed];
    for (int i = 0; i < tier.num_streamed; ++i) {
      rows[i] = chunk.encoded[i] + r * row_bytes[i];
      sums_[i].Add(rows[i], n * row_bytes[i]);
    }
    E2O_RETURN_IF_ERROR(writer_->WriteRows(chunk.first + r, n, rows));
  }
  return Status::Ok();
}

Status ReadBackTier(const ExportSink& sink, const RowSource& source, const std::vector<int64_t>& sample_ids,
                    TierOutcome* outcome, int threads, NumpyRules rules,
                    std::unique_ptr<LoadedModel>* loaded) {
  const TierWriter& w = *sink.writer();
  const Tier& tier = w.tier();
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> model,
                       LoadedModel::Load(w.onnx_path(), w.sidecar_path()));
  ContractOptions contract;
  contract.hidden = static_cast<int64_t>(source.cols());
  contract.expected_location = SidecarName(tier.file_name);
  contract.output_elem = w.params().output_elem;
  E2O_RETURN_IF_ERROR(CheckLookupContract(*model, contract));
  E2O_ASSIGN_OR_RETURN(StoredTier st, FindStoredTier(*model, tier, source.rows(), source.cols()));
  st.params.output_elem = w.params().output_elem;

  for (int i = 0; i < tier.num_streamed; ++i) {
    E2O_ASSIGN_OR_RETURN(ByteChecksum got, ChecksumStored(*st.init[i], threads));
    if (!(got == sink.checksum(i)))
      return Status::Mismatch(st.file + ": tier " + tier.name + ", initializer '" + st.init[i]->name +
                              "': the bytes read back from disk differ from those encoded (checksum " +
                              got.ToString() + ", written " + sink.checksum(i).ToString() + ")");
  }

  std::vector<float> rows;
  E2O_RETURN_IF_ERROR(ReadRowsAsFloat(source, sample_ids, &rows));
  const uint64_t d = source.cols();
  std::vector<uint8_t> expected[kMaxStreamed], stored[kMaxStreamed];
  for (size_t k = 0; k < sample_ids.size(); ++k) {
    const uint64_t id = static_cast<uint64_t>(sample_ids[k]);
    uint8_t* outs[kMaxStreamed];
    const uint8_t* exp[kMaxStreamed];
    const uint8_t* got[kMaxStreamed];
    for (int i = 0; i < tier.num_streamed; ++i) {
      expected[i].resize(st.RowBytes(i));
      outs[i] = expected[i].data();
      exp[i] = outs[i];
    }
    tier.encode(rows.data() + k * d, 1, d, st.params, outs);
    E2O_RETURN_IF_ERROR(st.ReadRows(id, 1, stored));
    for (int i = 0; i < tier.num_streamed; ++i) got[i] = stored[i].data();
    E2O_RETURN_IF_ERROR(CompareStoredRows(st, id, 1, rows.data() + k * d, exp, got));
  }
  E2O_RETURN_IF_ERROR(
      CheckGraphOnIds(*model, st, sample_ids, rows.data(), &outcome->parity, &outcome->parity_shape, rules));
  if (loaded != nullptr) *loaded = std::move(model);
  return Status::Ok();
}

Status ReadBackSplice(const TierWriter& w, const LoadedModel& plain, uint64_t cols,
                      const std::vector<int64_t>& sample_ids) {
  // The staged sidecar, as the plain model: the splice graph names the tier's final one.
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> splice,
                       LoadedModel::Load(w.splice_path(), w.sidecar_path()));
  ContractOptions contract;
  contract.hidden = static_cast<int64_t>(cols);
  contract.expected_location = SidecarName(w.tier().file_name);
  for (const SplicedInput& in : SplicedInputs(w.splice_tokens()))
    contract.splice_modalities.push_back(in.modality);
  contract.output_elem = w.params().output_elem;
  E2O_RETURN_IF_ERROR(CheckLookupContract(*splice, contract));
  return CheckSpliceGraph(*splice, plain, w.splice_tokens(), sample_ids);
}

}  // namespace embed2onnx
