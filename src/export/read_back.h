// Export's side of the streaming pass and its read-back.
//
// ExportSink is what export plugs into the pass (stream/table_pass.h): it writes each
// chunk's encoded rows to the tier's staged sidecar and keeps a checksum of every byte
// it handed over, per streamed initializer.
//
// ReadBackTier then checks the staged tier as it lies on disk, with the checks verify
// runs (stream/stored_rows.h, check/parity.h), on less than every row: verify compares
// every stored byte with a fresh encoding of the checkpoint, which would double the
// export's encoding work. Instead:
//   1. the .onnx is parsed back and its graph contract checked (our layout);
//   2. its streamed initializers are found with the tier's types and shapes;
//   3. every byte of each is read back from disk and its checksum compared with the
//      checksum of what was encoded: a difference is a Mismatch naming tier and
//      initializer (a lost, torn or misplaced write, or a wrong offset in the graph);
//   4. the sample rows' stored bytes are compared with their encoding byte for byte
//      (CompareStoredRows, verify's check): Mismatch naming tier, initializer and row;
//   5. the graph is run on the sample ids: its output must be the decoding of the
//      stored rows bit for bit, and |output - W| gives the report's parity figures.
// The checksum proves the file holds what the encoder produced; the encoder itself is
// proven by the unit tests and by verify.
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
  const ByteChecksum& checksum(int i) const { return sums_[i]; }
  TierWriter* writer() const { return writer_; }

 private:
  TierWriter* writer_;
  ByteChecksum sums_[kMaxStreamed];
};

// Checks the finished, staged tier of `sink` as above against `source`, the table it
// was exported from; fills the outcome's parity figures and shape.
// `threads` sum the read-back checksum of each initializer in parallel windows. When
// `loaded` is given, it receives the staged plain model the checks loaded, for
// ReadBackSplice.
Status ReadBackTier(const ExportSink& sink, const RowSource& source, const std::vector<int64_t>& sample_ids,
                    TierOutcome* outcome, int threads = 1, NumpyRules rules = kDefaultNumpyRules,
                    std::unique_ptr<LoadedModel>* loaded = nullptr);

// The staged splice graph of `writer` (after ReadBackTier passed on `plain`, its tier's
// staged model): the splice contract, and check/splice_check.h's checks against `plain`.
Status ReadBackSplice(const TierWriter& writer, const LoadedModel& plain, uint64_t cols,
                      const std::vector<int64_t>& sample_ids);

}  // namespace embed2onnx
