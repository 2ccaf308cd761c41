// A tier's tables as a model read back from disk stores them, and the checks on them
// that export and verify share.
//
// CompareStoredRows is the byte-for-byte check: every tier, the quantised ones too,
// stores exactly the encoding of the checkpoint (the original script's int8 is numpy's,
// which ours equals), so a changed byte is found even where it would stay inside the
// quantisation bound. verify runs it on every row (VerifySink); export on the sample
// rows, and reads every stored byte back as it writes it instead (export/tier_writer.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embed2onnx/status.h"
#include "onnx/onnx_model.h"
#include "stream/table_pass.h"
#include "tiers/tier.h"

namespace embed2onnx {

struct StoredTier {
  const Tier* tier = nullptr;
  TierParams params;
  const InitializerData* init[kMaxStreamed] = {};  // point into the LoadedModel
  std::string file;                                // the .onnx, for messages
  uint64_t cols = 0;

  uint64_t RowBytes(int i) const { return TierRowBytes(*tier, i, cols, params); }
  // Reads rows [first, first + n) of every streamed initializer into bufs[i].
  Status ReadRows(uint64_t first, uint64_t n, std::vector<uint8_t>* bufs) const;
};

// Finds `tier`'s streamed initializers in `model` and checks their element types and
// shapes against a rows x cols table (int4's block follows from its scales' shape).
// Mismatch naming the file and initializer when one is missing or wrong.
Result<StoredTier> FindStoredTier(const LoadedModel& model, const Tier& tier, uint64_t rows, uint64_t cols);

// Compares n stored rows from `first` with `expected`, the encoding of `source` (n * cols
// values), byte for byte. The lowest differing row is a Mismatch naming the file, tier,
// initializer and row (and, for quantised tiers, the first column outside the bound).
Status CompareStoredRows(const StoredTier& st, uint64_t first, uint64_t n, const float* source,
                         const uint8_t* const* expected, const uint8_t* const* stored);

// verify's sink: reads the chunk's rows from the file and compares them with the encoding.
class VerifySink final : public TierSink {
 public:
  explicit VerifySink(const StoredTier& st) : st_(st) {}
  Status Consume(const EncodedChunk& chunk) override;

 private:
  const StoredTier& st_;
  std::vector<uint8_t> scratch_[kMaxStreamed];  // the chunk's stored rows, one per initializer
};

}  // namespace embed2onnx
