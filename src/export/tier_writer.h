// Writes one tier's files: the .onnx graph and its sidecar, under staged names.
//
// The graph and the sidecar layout are fixed before any row is encoded (sizes follow
// from V and D), so Create knows every byte the tier will write without touching the
// disk, rows stream straight to their final offsets in the sidecar and no table-sized
// buffer exists. Tensors under 1024 bytes collect in memory and go inline when Finish()
// writes the .onnx. Every file goes through the OutputDir's Disk.
//
// With AddSplice, the tier also writes its splice graph (SPEC §8, onnx/splice_graph.h),
// built from the finished plain model: no sidecar of its own, its initializers point
// into this tier's.
//
// Use: Create, [AddSplice], (the caller checks the free space against
// planned_extents()), Open, WriteRows..., Finish.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "embed2onnx/status.h"
#include "export/output_dir.h"
#include "onnx/external_data.h"
#include "onnx/splice_graph.h"
#include "tiers/tier.h"
#include "util/disk.h"

namespace embed2onnx {

struct ModelMeta {
  std::string producer_name;
  std::string producer_version;
  // The graph's metadata_props (SPEC §10: provenance), in this order.
  std::vector<std::pair<std::string, std::string>> props;
};

class TierWriter {
 public:
  // Plans the tier's files; writes nothing. REQUIRES: `out` outlives the writer.
  static Result<std::unique_ptr<TierWriter>> Create(const Tier& tier, const TierParams& params, uint64_t rows,
                                                    uint64_t cols, const ModelMeta& meta, OutputDir* out);

  // Plans the splice graph for the token ids of `tokens` too. REQUIRES: before Open,
  // tokens.any().
  Status AddSplice(const SpliceTokens& tokens);

  // The runs of bytes the tier will write, each starting on a block boundary: the .onnx
  // (its exact size), then each tensor in the sidecar (the gaps between them stay holes),
  // then the splice graph if any.
  std::vector<uint64_t> planned_extents() const;

  // Stages both files and creates the sidecar.
  Status Open();

  // outs[i] holds n encoded rows of streamed initializer i for rows [first, first + n),
  // the rows after those written so far (table order, each row once). Called by one
  // thread at a time.
  //
  // Each piece of the sidecar is read back right after its write, while its bytes are
  // still in the CPU's cache, and compared with what was handed over: a write lost,
  // short or garbled without an error is a Mismatch naming the sidecar, tier,
  // initializer, offset and row. With the order above, the pieces read back tile each
  // tensor, so after Finish every stored byte of the planned layout was read back as
  // written. (A re-read after the last write instead cost a second trip through memory
  // for every byte: 0.25 CPU-s per 1.44 GB here; bench/RESULTS.md, issue 14.)
  Status WriteRows(uint64_t first, uint64_t n, const uint8_t* const* outs);

  // Puts inline data into the model, writes the .onnx, closes the sidecar and checks
  // both sizes against the plan, and that every row of every tensor was written.
  Status Finish();

  const Tier& tier() const { return tier_; }
  const TierParams& params() const { return params_; }
  const std::string& onnx_path() const { return onnx_path_; }        // staged, after Open
  const std::string& sidecar_path() const { return sidecar_path_; }  // staged, "" if none
  const SidecarLayout& layout() const { return layout_; }
  // What WriteRows was handed for streamed initializer i when it stays inline.
  const std::string& inline_data(int i) const { return inline_data_[i]; }
  uint64_t onnx_bytes() const { return onnx_bytes_; }  // planned by Create, written by Finish
  bool has_splice() const { return splice_bytes_ > 0; }
  std::string splice_file_name() const;                            // "<stem>_audio.onnx", ...
  const std::string& splice_path() const { return splice_path_; }  // staged, after Open
  uint64_t splice_bytes() const { return splice_bytes_; }          // planned by AddSplice
  const SpliceTokens& splice_tokens() const { return splice_tokens_; }

 private:
  TierWriter(const Tier& tier, const TierParams& params, OutputDir* out)
      : tier_(tier), params_(params), out_(out) {}
  const Tier& tier_;
  TierParams params_;
  OutputDir* out_;
  uint64_t cols_ = 0;
  onnx::ModelProto model_;
  SidecarLayout layout_;
  std::string onnx_path_, sidecar_path_;
  std::unique_ptr<WritableFile> sidecar_;
  std::string inline_data_[kMaxStreamed];  // for streamed tensors small enough to stay inline
  uint64_t written_[kMaxStreamed] = {};    // bytes of each tensor written (and read back)
  std::vector<uint8_t> readback_;          // one piece
  uint64_t onnx_bytes_ = 0;
  SpliceTokens splice_tokens_;
  std::string splice_path_;
  uint64_t splice_bytes_ = 0;
};

}  // namespace embed2onnx
