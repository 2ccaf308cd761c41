// Export's side of the streaming pass and its read-back.
//
// ExportSink is what export plugs into the pass (stream/table_pass.h): it hands each
// chunk's encoded rows to the tier's writer, which reads every piece of the staged
// sidecar back right after writing it and compares it with what it was handed
// (export/tier_writer.h).
//
// ReadBackTier then checks the staged tier as it lies on disk, with the checks verify
// runs (stream/stored_rows.h, check/parity.h), on less than every row: verify compares
// every stored byte with a fresh encoding of the checkpoint, which would double the
// export's encoding work. Instead:
//   1. the .onnx is parsed back and its graph contract checked (our layout);
//   2. its streamed initializers are found with the tier's types and shapes;
//   3. each must lie exactly where the writer wrote its rows and read them back (the
//      sidecar's offset and length; inline bytes equal to those encoded): a difference
//      is a Mismatch naming tier and initializer (a wrong offset in the graph);
//   4. the sample rows' stored bytes are compared with their encoding byte for byte
//      (CompareStoredRows, verify's check): Mismatch naming tier, initializer and row;
//   5. the graph is run on the sample ids: its output must be the decoding of the
//      stored rows bit for bit, and |output - W| gives the report's parity figures.
// The writer's read-back and step 3 prove the files hold what the encoder produced, at
// the offsets the graph names; the encoder itself is proven by the unit tests and by
// verify, which also re-reads every byte at any later time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "embed2onnx/export.h"
#include "embed2onnx/status.h"
#include "export/tier_writer.h"
#include "onnx/onnx_model.h"
#include "stream/row_source.h"
#include "stream/stored_rows.h"
#include "stream/table_pass.h"

namespace embed2onnx {

class ExportSink final : public TierSink {
 public:
  explicit ExportSink(TierWriter* writer) : writer_(writer) {}
  Status Consume(const EncodedChunk& chunk) override;
  TierWriter* writer() const { return writer_; }

 private:
  TierWriter* writer_;
};

// Checks the finished, staged tier of `sink` as above against `source`, the table it
// was exported from; fills the outcome's parity figures and shape.
// When `loaded` is given, it receives the staged plain model the checks loaded, for
// ReadBackSplice.
Status ReadBackTier(const ExportSink& sink, const RowSource& source, const std::vector<int64_t>& sample_ids,
                    TierOutcome* outcome, NumpyRules rules = kDefaultNumpyRules,
                    std::unique_ptr<LoadedModel>* loaded = nullptr);

// The staged splice graph of `writer` (after ReadBackTier passed on `plain`, its tier's
// staged model): the splice contract, and check/splice_check.h's checks against `plain`.
Status ReadBackSplice(const TierWriter& writer, const LoadedModel& plain, uint64_t cols,
                      const std::vector<int64_t>& sample_ids);

}  // namespace embed2onnx
