// numpy's float32 sum, reproduced bit for bit, so the report's mean_abs_err equals
// what `err.mean()` gives on the same float32 errors, under numpy 1.24 or numpy 2.4.
//
// numpy 1.24: np.add.reduce over a contiguous float32 array sees the data in buffers of 8192
// elements (np.getbufsize()); each buffer is summed pairwise (below 8 elements a plain
// loop; up to 128, eight running sums combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))
// plus the tail; above, split at n/2 rounded down to a multiple of 8 and recurse), and
// the buffer sums are added in order to a float32 that starts at 0. np.mean then
// divides in float64 and casts back to float32.
//
// numpy 2.4 (measured on 2.4.6 against both): the same float32 array, 1-D or a
// contiguous 2-D one reduced over every axis, is summed as ONE pairwise sum over all n
// values, without the 8192-element buffers (NumpyWholePairwiseSum). np.mean divides the
// same way in both (float64, then float32).
//
// Values must be added in array order; pieces may be of any size. A worker can also sum
// its run of the array where it is, as whole nodes of numpy's tree (NumpySumShape), and
// hand those in order to NumpyMean::AddPart: the same float, bit for bit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "embed2onnx/figures.h"

namespace embed2onnx {

// numpy's pairwise_sum over n float32 values: blocks of more than 128 values split in
// two (the left part a multiple of 8) and summed recursively; a leaf of 8 to 128 values
// keeps eight running sums, combined pairwise, then adds its tail in order; fewer than
// 8 are added in order. Where the CPU has AVX2, sibling leaves are summed side by side,
// which changes no bit of any of them; elsewhere this is NumpyPairwiseSumReference.
float NumpyPairwiseSum(const float* a, size_t n);
// The same, as a plain transliteration of numpy's recursion: what the tests hold the
// fast one to.
float NumpyPairwiseSumReference(const float* a, size_t n);

// numpy 1.24's sum as that numpy computes it, copying the values into its own buffers:
// what the tests hold NumpyMean's 1.24 rules to.
class NumpyFloat32Sum {
 public:
  static constexpr size_t kBuffer = 8192;
  void Add(const float* v, size_t n);
  float Sum() const;
  // float32(float64(Sum()) / count), as np.mean returns it.
  float Mean(uint64_t count) const;

 private:
  float acc_ = 0.0f;
  std::array<float, kBuffer> buf_{};
  size_t fill_ = 0;
};

// numpy 2.4's sum: NumpyPairwiseSum over all `total` values, computed as they stream in.
// It walks the pairwise recursion tree (fixed by `total` alone) in order, keeping the
// path from the root (about log2(total / 128) frames) and at most one leaf of 128
// values; a piece that holds a whole subtree is summed straight from the piece.
class NumpyWholePairwiseSum {
 public:
  explicit NumpyWholePairwiseSum(uint64_t total);
  // Takes values in order until the root is done; returns how many it took.
  size_t Add(const float* v, size_t n);
  // The sum of the next `size` values, a node of the tree that starts where the values
  // so far end (NumpySumShape::Split finds them). False, and nothing changed, when no
  // node of that size starts there.
  bool AddNode(uint64_t size, float sum);
  bool done() const { return need_ == 0; }
  // REQUIRES: all `total` values added.
  float Sum() const { return sum_; }

 private:
  struct Frame {
    uint64_t size, left_size;
    float left = 0.0f;
    bool left_done = false;
  };
  // Descends from a node of `size` values to its leftmost leaf (or a subtree the
  // caller can sum at once); sets need_.
  void Descend(uint64_t size, const float* avail, size_t n_avail, size_t* used);
  // Hands a finished node's sum up the path; returns false when the root is done.
  bool Finish(float value, const float* avail, size_t n_avail, size_t* used);
  std::vector<Frame> path_;
  float leaf_[128];
  size_t leaf_fill_ = 0;
  uint64_t need_ = 0;  // values of the current leaf; 0 once the root is done
  float sum_ = 0.0f;
};

// A run of values [lo, hi) of the array, summed where it is (by a worker, while the
// values are in its cache) as far as numpy's tree allows: the whole nodes inside it, and
// the values of the (at most two) leaves it cuts, which NumpyMean::AddPart finishes in
// array order with the runs before and after.
struct NumpySumPart {
  struct Node {
    uint64_t size;
    float sum;
  };
  // Values [lo, lo + head): the end of a leaf that began before lo (or all of the run,
  // when it lies inside such a leaf).
  float head_values[128];
  size_t head = 0;
  std::vector<Node> nodes;  // then these, in order
  // Values [hi - tail, hi): the start of a leaf that ends after hi (all of the run when
  // it lies inside a leaf that begins at lo).
  float tail_values[128];
  size_t tail = 0;
};

// The shape of numpy's sum over `total` values under `rules`: 2.4's one tree, or 1.24's
// tree per 8192-value buffer.
class NumpySumShape {
 public:
  NumpySumShape(uint64_t total, NumpyRules rules) : total_(total), rules_(rules) {}
  // Sums values v[0..hi - lo), which are [lo, hi) of the array, into *part.
  void Split(uint64_t lo, uint64_t hi, const float* v, NumpySumPart* part) const;

 private:
  void Visit(uint64_t start, uint64_t size, uint64_t lo, uint64_t hi, const float* v,
             NumpySumPart* part) const;
  uint64_t total_;
  NumpyRules rules_;
};

// np.mean of `total` float32 values fed in array order, under either numpy's rules:
// as values (Add) or as parts summed elsewhere (AddPart), in any mix.
class NumpyMean {
 public:
  NumpyMean(uint64_t total, NumpyRules rules);
  void Add(const float* v, size_t n);
  // REQUIRES: `part` is NumpySumShape(total, rules).Split of the values that come next.
  // False when it does not fit where the values so far end.
  bool AddPart(const NumpySumPart& part);
  // REQUIRES: all `total` values added (a tree's sum is known only once it is whole: 2.4's
  // one tree, or 1.24's last buffer).
  float Mean(uint64_t count) const {
    return static_cast<float>(static_cast<double>(Sum()) / static_cast<double>(count));
  }

 private:
  float Sum() const { return rules_ == NumpyRules::kNumpy1_24 ? acc_ : tree_.Sum(); }
  // numpy 1.24: the tree of the buffer just finished joins the running sum.
  void NextTree();
  NumpyRules rules_;
  uint64_t left_;               // values not yet in a tree
  NumpyWholePairwiseSum tree_;  // the tree being summed
  float acc_ = 0.0f;            // numpy 1.24: the finished buffers' sums, added in order
};

}  // namespace embed2onnx
