#include "export/read_back.h"

#include <algorithm>
#include <memory>

#include "check/contract.h"
#include "check/parity.h"
#include "check/splice_check.h"
#include "onnx/onnx_model.h"
#include "schema/names.h"

namespace embed2onnx {

Status ExportSink::Consume(const EncodedChunk& chunk) {
  return writer_->WriteRows(chunk.first, chunk.rows, chunk.encoded);
}

Status ReadBackTier(const ExportSink& sink, const RowSource& source, const std::vector<int64_t>& sample_ids,
                    TierOutcome* outcome, NumpyRules rules, std::unique_ptr<LoadedModel>* loaded) {
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

  // The model must name exactly the bytes WriteRows wrote and read back.
  for (int i = 0; i < tier.num_streamed; ++i) {
    const InitializerData& got = *st.init[i];
    const TensorPlacement& want = w.layout().tensors[static_cast<size_t>(i)];
    const std::string what = st.file + ": tier " + tier.name + ", initializer '" + got.name + "'";
    if (got.external != want.external)
      return Status::Mismatch(what + (want.external ? ": inline, but its rows were written to the sidecar"
                                                    : ": in the sidecar, but its rows were kept inline"));
    if (got.external && (got.offset != want.offset || got.byte_size != want.byte_size))
      return Status::Mismatch(what + ": the graph names bytes " + std::to_string(got.offset) + " to " +
                              std::to_string(got.offset + got.byte_size) +
                              " of the sidecar, but its rows were written to " + std::to_string(want.offset) +
                              " to " + std::to_string(want.offset + want.byte_size));
    if (!got.external && *got.raw != w.inline_data(i))
      return Status::Mismatch(what + ": the inline bytes parsed back differ from those encoded");
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
