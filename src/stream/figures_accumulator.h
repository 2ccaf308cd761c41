// One tier's whole-table ErrorFigures, accumulated while a pass streams the table: the
// single place export and verify compute max, mean, exact p99 and mean row cosine.
//
// Who calls what (TablePass drives it):
//   GuessWindow       once, before pass 1, with the errors of sampled rows;
//   CountPass1/2      worker w on its own rows, concurrently for distinct w (CountPass2
//                     in every pass after the first), each into a KeptValues of its own;
//   AddKept           for each KeptValues once its chunk is encoded, from one thread at
//                     a time (while the lanes write that chunk and before the workers
//                     encode into the same KeptValues again);
//   SumPart           pass 1, any worker, on the errors it holds;
//   AddInOrder        pass 1, chunk after chunk in table order, from one thread;
//   NeedsAnotherPass  after each pass: whether the p99 needs the table once more.
// The p99: with a guessed window, pass 1 counts the values below the window and keeps
// those inside it, which settles the p99 when the guess holds; when it does not, one
// pass counts every value's high bits and a last one the low bits of the wanted buckets
// (numerics/error_stats.h). Without a guess pass 1 counts the high bits itself.
// The figures do not depend on the number of workers or on how rows were split:
// histograms add in any order, the mean's parts and the cosines in table order.
//
// Memory: the window's counts, and a 512 KiB histogram per worker in a high-bits pass.
// The caller's KeptValues hold what a chunk left in the window (together at most a chunk
// per slot, about twice that allocated but untouched).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "embed2onnx/figures.h"
#include "numerics/error_stats.h"
#include "numerics/numpy_sum.h"

namespace embed2onnx {

// What one worker's rows of a chunk left inside a p99 window, until AddKept counts it.
// Allocated untouched: only what is kept costs memory.
struct KeptValues {
  std::unique_ptr<float[]> values;
  size_t capacity = 0, n = 0;
};

class FiguresAccumulator {
 public:
  FiguresAccumulator(uint64_t rows, uint64_t cols, int workers, bool cosine,
                     NumpyRules rules = kDefaultNumpyRules);

  // `sample_errors`: |error| of rows spread over the table. A poor guess costs pass 2,
  // never exactness; without one pass 2 always runs.
  void GuessWindow(const std::vector<float>& sample_errors);

  void CountPass1(int worker, const float* errs, size_t n, KeptValues* kept);
  void CountPass2(int worker, const float* errs, size_t n, KeptValues* kept);
  // Counts the values a CountPass1 or CountPass2 of this pass kept, and empties *kept.
  void AddKept(KeptValues* kept);
  // Worker-side part of numpy's mean: errs[0..n) are the errors of values
  // [first_value, first_value + n) of the table, summed into *part while they are in
  // the worker's cache. Any thread, concurrently.
  void SumPart(uint64_t first_value, const float* errs, size_t n, NumpySumPart* part) const {
    shape_.Split(first_value, first_value + n, errs, part);
  }
  // The chunk's parts, in table order (for numpy's mean) and, with `cosine`, its rows'
  // cosines.
  void AddInOrder(const NumpySumPart* parts, size_t count, const double* row_cosines, size_t rows);

  bool NeedsAnotherPass();
  ErrorFigures Figures() const;

 private:
  struct Worker {
    std::unique_ptr<HighBitsHistogram> high = std::make_unique<HighBitsHistogram>();
    float max = 0.0f;
    uint64_t below = 0;  // pass 1: values below the window
  };
  static void Keep(KeptValues* kept, const QuantileWindow& window, const float* errs, size_t n,
                   uint64_t* below, float* max);
  bool Finish();  // the p99 is known: false

  uint64_t rows_, values_;
  bool cosine_;
  enum class Stage { kFirst, kHighBits, kLowBits, kDone } stage_ = Stage::kFirst;
  std::vector<Worker> workers_;
  TwoPassQuantile quantile_;
  QuantileWindow pass2_window_;
  NumpySumShape shape_;
  NumpyMean sum_;
  double cosine_sum_ = 0;
};

}  // namespace embed2onnx
