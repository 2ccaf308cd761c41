// The streaming engine: table rows flow from the checkpoint through every tier's
// encoder to every tier's sidecar in bounded chunks.
//
// Three stages overlap: a reader thread preads chunk i+1 while the encoders (all
// cores) work on chunk i and a writer thread pwrites chunk i-1; three chunk slots
// cycle between them, so memory is a few chunks whatever the table size. Output bytes
// and statistics do not depend on the thread count: rows are independent, histograms
// add up in any order, and per-row error sums are added in row order.
//
// Tiers with table statistics (int8, int4) need the exact 0.99 quantile of |error| over the
// whole table: pass 1 (with the writes) counts high bits, and low bits inside a window
// around a guess made from 512 evenly spaced rows. Only when the wanted buckets fall
// outside that window does pass 2 re-stream the table to count their low bits
// (numerics/error_stats.h). Either way the result is exact.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "embed2onnx/checkpoint.h"
#include "embed2onnx/status.h"
#include "export/tier_writer.h"
#include "numerics/error_stats.h"

namespace embed2onnx {

struct TableStats {
  std::string tier;  // the tier whose encoding they describe
  ErrorSummary summary;
  bool has_cosine = false;
  double mean_row_cosine = 0;  // over rows, of each decoded row against its source
};

struct PipelineOptions {
  int threads = 1;
  uint64_t chunk_bytes = 4ull << 20;  // of float32 rows per chunk
  // Called after each chunk with the rows done in this pass (pass 1 writes, pass 2
  // refines quantiles); from a pipeline thread, never concurrently.
  std::function<void(int pass, uint64_t rows_done)> progress;
  // Filled in: wall seconds of pass 1 (encode and write) and pass 2 (exact quantiles).
  double* seconds_pass1 = nullptr;
  double* seconds_pass2 = nullptr;
};

// Streams every row of `table` into `writers` (one per tier) and computes the table
// statistics of the tiers that have them. A non-finite weight stops the run with an
// InvalidArgument naming the row and column.
Status StreamTable(const TableReader& table, const std::vector<TierWriter*>& writers,
                   const PipelineOptions& opts, std::vector<TableStats>* stats);

}  // namespace embed2onnx
