#include "export/read_back.h"

#include <memory>

#include "check/contract.h"
#include "check/parity.h"
#include "onnx/onnx_model.h"
#include "schema/names.h"

namespace embed2onnx {

Status ExportSink::Consume(const EncodedChunk& chunk) {
  const Tier& tier = writer_->tier();
  for (int i = 0; i < tier.num_streamed; ++i)
    sums_[i].Add(chunk.encoded[i], chunk.rows * TierRowBytes(tier, i, chunk.cols, writer_->params()));
  return writer_->WriteRows(chunk.first, chunk.rows, chunk.encoded);
}

Status ReadBackTier(const ExportSink& sink, const RowSource& source, const std::vector<int64_t>& sample_ids,
                    TierOutcome* outcome) {
  const TierWriter& w = *sink.writer();
  const Tier& tier = w.tier();
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> model,
                       LoadedModel::Load(w.onnx_path(), w.sidecar_path()));
  ContractOptions contract;
  contract.hidden = static_cast<int64_t>(source.cols());
  contract.expected_location = SidecarName(tier.file_name);
  E2O_RETURN_IF_ERROR(CheckLookupContract(*model, contract));
  E2O_ASSIGN_OR_RETURN(StoredTier st, FindStoredTier(*model, tier, source.rows(), source.cols()));

  for (int i = 0; i < tier.num_streamed; ++i) {
    E2O_ASSIGN_OR_RETURN(ByteChecksum got, ChecksumStored(*st.init[i]));
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
  return CheckGraphOnIds(*model, st, sample_ids, rows.data(), &outcome->parity, &outcome->parity_shape);
}

}  // namespace embed2onnx
