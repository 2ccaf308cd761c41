// A tier's tables as a model read back from disk stores them, and the checks on them
// that export and verify share.
//
// CompareStoredRows is the byte-for-byte check: every tier, the quantised ones too,
// stores exactly the encoding of the checkpoint (the original script's int8 is numpy's,
// which ours equals), so a changed byte is found even where it would stay inside the
// quantisation bound. verify runs it on every row (VerifySink); export on the sample
// rows, and compares a checksum of every stored byte instead (export/read_back.h).
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

// A position-dependent checksum of a byte stream: Fletcher's two sums modulo 2^64 over
// the 64-bit little-endian words, in four interleaved lanes (word k goes to lane k % 4,
// so the compiler can keep the lanes in vector registers), plus the length. Any one
// changed byte changes it, and so do most reorderings. Equal for the same bytes however
// they are split into Add calls.
class ByteChecksum {
 public:
  void Add(const void* data, size_t n);
  // Appends the checksum of the bytes that follow: the result equals Add() of all bytes in
  // order, so disjoint pieces can be summed on several threads and joined.
  // REQUIRES: the bytes added so far are a whole number of groups (kGroup).
  void Append(const ByteChecksum& next);
  static constexpr size_t group_bytes() { return kGroup; }
  bool operator==(const ByteChecksum& o) const;
  std::string ToString() const;  // hex, for messages

 private:
  static constexpr size_t kLanes = 4, kGroup = kLanes * 8;
  void AddGroups(const uint8_t* p, size_t groups);
  uint64_t a_[kLanes] = {}, b_[kLanes] = {};
  uint64_t length_ = 0;
  uint8_t tail_[kGroup] = {};  // the bytes of an unfinished group
  size_t tail_n_ = 0;
};

// ByteChecksum's inner loop over `groups` groups of 32 bytes at p, on the lane sums a and
// b (kLanes each): AVX2 where the CPU has it (one 256-bit register per sum; the export sums
// every byte twice, as it hands it over and as it reads it back), else the portable loop,
// which is what the tests hold the vector path to.
void ChecksumGroups(const uint8_t* p, size_t groups, uint64_t* a, uint64_t* b);
void ChecksumGroupsPortable(const uint8_t* p, size_t groups, uint64_t* a, uint64_t* b);

// The checksum of every byte of one stored initializer as the file holds it: external
// data is mapped from the sidecar a window at a time (no copy, and resident memory
// stays one window), inline data read from the model.
// `threads` > 1 sums windows of the initializer on that many threads and joins them.
Result<ByteChecksum> ChecksumStored(const InitializerData& init, int threads = 1);

}  // namespace embed2onnx
