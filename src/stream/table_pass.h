// The one whole-table pass that export and verify both drive.
//
// RunTablePass streams every row of a RowSource through every tier's encoder, hands
// each tier's encoded rows to its TierSink (export: write them to the sidecar; verify:
// compare them with the bytes stored in the file), and computes the tier's figures:
// the whole-table ErrorFigures of quantised tiers (FiguresAccumulator) and the count of
// finite values the encoding turned into +-inf (OverflowFigures).
//
// The stages overlap: a reader thread reads chunk i+1 while the encoders (the thread
// pool) widen and encode chunk i and the sink lanes hand chunk i-1 to the sinks, while
// the encoder thread adds chunk i-1's figures in table order; chunk slots cycle between
// them, so memory is a few chunks (kChunkFloatBytes of float32 rows each, plus their
// encodings) whatever the table size. Of the pass's `threads`, the sink lanes take at most half
// (one per tier with a sink at most, at least one), balanced by the bytes their tiers
// store, and the encoders the rest (at least one); a lane waiting for its next chunk
// encodes blocks of it meanwhile. Each sink sees its chunks in table order, from one
// thread, and sinks of different tiers may run at once. Output bytes and figures do
// not depend on the thread count.
//
// The exact p99 takes more passes over the table (two) only when a guess from up to 512
// sampled rows missed it (stream/figures_accumulator.h); they encode only the tiers that
// need them and call no sink.
//
// Errors: a read error of the source, a non-finite weight (NonFiniteWeight, with row and
// column) and, unless `isolate_sink_errors`, a sink's error stop the pass and are
// returned. With `isolate_sink_errors` a failing sink drops only its own tier: its
// error goes to its TierPassResult, the other tiers go on.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "embed2onnx/figures.h"
#include "embed2onnx/status.h"
#include "stream/row_source.h"
#include "tiers/tier.h"

namespace embed2onnx {

// Float32 bytes of table rows per chunk (at least one row): the one chunk size of every
// streaming pass. 2 MiB rather than 4: the three slots' buffers (rows, encodings,
// errors) then cycle through 20 MiB instead of 40, and the encoders' stores into them
// miss the caches less: three tiers of the Granite table took 0.47 CPU-s of user time
// against 0.54, 0.60 s against 0.67 s (bench/RESULTS.md, issue 14). 1 MiB was as fast.
inline constexpr uint64_t kChunkFloatBytes = 2ull << 20;
// More threads than this would only add per-thread histograms (512 KiB per quantised
// tier each); the output is the same for any count.
inline constexpr int kMaxPassThreads = 64;

// Rows [first, first + rows) of the table, as float32 and as one tier encodes them.
struct EncodedChunk {
  uint64_t first = 0, rows = 0, cols = 0;
  const float* source = nullptr;              // rows * cols values
  const uint8_t* encoded[kMaxStreamed] = {};  // rows of each streamed initializer
};

// What a pass does with one tier's encoded rows.
class TierSink {
 public:
  virtual ~TierSink() = default;
  // Chunk after chunk in table order, from one thread; the chunk's buffers are valid
  // only during the call. Different tiers' sinks may be called at the same time.
  virtual Status Consume(const EncodedChunk& chunk) = 0;
};

struct PassTier {
  const Tier* tier = nullptr;
  TierParams params;
  TierSink* sink = nullptr;  // nullptr: figures only
};

struct PassOptions {
  int threads = 1;  // threads of the pass (encoders and lanes), clamped to [1, kMaxPassThreads]
  uint64_t chunk_bytes = kChunkFloatBytes;
  bool isolate_sink_errors = false;
  NumpyRules numpy = kDefaultNumpyRules;  // whose mean and p99 interpolation the figures follow
  // After each chunk, with the rows done in this pass (1: encode and sink, 2: the exact
  // p99); from a pass thread, never concurrently.
  std::function<void(int pass, uint64_t rows_done)> progress;
};

struct TierPassResult {
  Status status;             // its sink's error (isolate_sink_errors), else OK
  bool has_figures = false;  // a quantised tier whose pass completed
  ErrorFigures figures;
  OverflowFigures overflow;
};

// Where a pass spent its time, CPU seconds (user and system) per stage over every pass:
// the reader in ReadRows; each thread widening, encoding and counting (one entry per
// encoder, then one per lane for the blocks it encoded while it waited, so an uneven
// split or a serial stage shows); the encoder thread joining the means' parts (the
// workers sum them) and the cosines in table order, and counting what each chunk left in
// the p99 windows (`figures`); each sink lane handing chunks to its sinks
// (`sinks_per_lane`, export's writes; `sinks` their sum). CPU rather than wall time, so a
// machine shared with other work does not inflate them.
struct PassStageSeconds {
  double read = 0, figures = 0, sinks = 0;
  std::vector<double> encode, sinks_per_lane;
};

struct PassResult {
  std::vector<TierPassResult> tiers;  // one per PassTier, in order
  double seconds_pass1 = 0, seconds_pass2 = 0;
  PassStageSeconds stages;
};

Status RunTablePass(const RowSource& source, const std::vector<PassTier>& tiers, const PassOptions& opts,
                    PassResult* result);

}  // namespace embed2onnx
