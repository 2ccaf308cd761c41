#include "numerics/numpy_sum.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "numerics/int8_quant.h"  // HaveAvx2

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace embed2onnx {

float NumpyPairwiseSumReference(const float* a, size_t n) {
  if (n < 8) {
    float res = 0.0f;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return NumpyPairwiseSumReference(a, n2) + NumpyPairwiseSumReference(a + n2, n - n2);
}

namespace {

// Where numpy splits a block of n > 128 values: the left part a multiple of 8.
size_t SplitAt(size_t n) {
  const size_t n2 = n / 2;
  return n2 - n2 % 8;
}

#if defined(__x86_64__)
// K leaves of 8 to 128 values side by side, each summed exactly as the reference sums a
// leaf, with its eight running sums in one AVX2 register (lane j of a vector add is the
// scalar add of running sum j). One leaf alone is a chain of dependent adds; K of them
// keep K chains in flight.
template <int K>
__attribute__((target("avx2"))) void LeavesAvx2(const float* const* p, const size_t* n, float* out) {
  __m256 r[K];
  size_t body[K], common = SIZE_MAX;
  for (int k = 0; k < K; ++k) {
    r[k] = _mm256_loadu_ps(p[k]);
    body[k] = n[k] - n[k] % 8;
    common = std::min(common, body[k]);
  }
  for (size_t i = 8; i < common; i += 8)
    for (int k = 0; k < K; ++k) r[k] = _mm256_add_ps(r[k], _mm256_loadu_ps(p[k] + i));
  for (int k = 0; k < K; ++k) {
    size_t i = std::max<size_t>(common, 8);
    for (; i < body[k]; i += 8) r[k] = _mm256_add_ps(r[k], _mm256_loadu_ps(p[k] + i));
    float l[8];
    _mm256_storeu_ps(l, r[k]);
    float res = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    for (; i < n[k]; ++i) res += p[k][i];
    out[k] = res;
  }
}
#endif

}  // namespace

float NumpyPairwiseSum(const float* a, size_t n) {
#if defined(__x86_64__)
  if (!HaveAvx2() || n < 8) return NumpyPairwiseSumReference(a, n);
  float s[4];
  if (n <= 128) {
    LeavesAvx2<1>(&a, &n, s);
    return s[0];
  }
  const size_t n2 = SplitAt(n), m = n - n2;  // n2 <= m
  if (m <= 128) {                            // two leaves
    const float* p[2] = {a, a + n2};
    const size_t len[2] = {n2, m};
    LeavesAvx2<2>(p, len, s);
    return s[0] + s[1];
  }
  if (n2 > 128 && m <= 256) {  // four leaves, if both halves split into two
    const size_t l2 = SplitAt(n2), r2 = SplitAt(m);
    if (n2 - l2 <= 128 && m - r2 <= 128) {
      const float* p[4] = {a, a + l2, a + n2, a + n2 + r2};
      const size_t len[4] = {l2, n2 - l2, r2, m - r2};
      LeavesAvx2<4>(p, len, s);
      return (s[0] + s[1]) + (s[2] + s[3]);
    }
  }
  return NumpyPairwiseSum(a, n2) + NumpyPairwiseSum(a + n2, m);
#else
  return NumpyPairwiseSumReference(a, n);
#endif
}

void NumpyFloat32Sum::Add(const float* v, size_t n) {
  if (n == 0) return;  // v may be null (an empty vector's data())
  if (fill_) {
    size_t take = std::min(n, kBuffer - fill_);
    std::memcpy(buf_.data() + fill_, v, take * sizeof(float));
    fill_ += take;
    v += take;
    n -= take;
    if (fill_ < kBuffer) return;
    acc_ += NumpyPairwiseSum(buf_.data(), kBuffer);
    fill_ = 0;
  }
  for (; n >= kBuffer; v += kBuffer, n -= kBuffer) acc_ += NumpyPairwiseSum(v, kBuffer);
  std::memcpy(buf_.data(), v, n * sizeof(float));
  fill_ = n;
}

float NumpyFloat32Sum::Sum() const { return fill_ ? acc_ + NumpyPairwiseSum(buf_.data(), fill_) : acc_; }

float NumpyFloat32Sum::Mean(uint64_t count) const {
  return static_cast<float>(static_cast<double>(Sum()) / static_cast<double>(count));
}

}  // namespace embed2onnx

namespace embed2onnx {

NumpyWholePairwiseSum::NumpyWholePairwiseSum(uint64_t total) {
  size_t used = 0;
  if (total == 0) return;
  Descend(total, nullptr, 0, &used);
}

void NumpyWholePairwiseSum::Descend(uint64_t size, const float* avail, size_t n_avail, size_t* used) {
  for (;;) {
    // A whole subtree inside the piece: the recursion over it is NumpyPairwiseSum itself.
    if (leaf_fill_ == 0 && n_avail - *used >= size && size > 128) {
      float v = NumpyPairwiseSum(avail + *used, size);
      *used += size;
      if (!Finish(v, avail, n_avail, used)) return;
      return;
    }
    if (size <= 128) {
      need_ = size;
      return;
    }
    uint64_t left = size / 2;
    left -= left % 8;
    path_.push_back(Frame{size, left});
    size = left;
  }
}

bool NumpyWholePairwiseSum::Finish(float value, const float* avail, size_t n_avail, size_t* used) {
  while (!path_.empty()) {
    Frame& top = path_.back();
    if (!top.left_done) {
      top.left = value;
      top.left_done = true;
      Descend(top.size - top.left_size, avail, n_avail, used);
      return need_ != 0;
    }
    value = top.left + value;
    path_.pop_back();
  }
  sum_ = value;
  need_ = 0;
  return false;
}

size_t NumpyWholePairwiseSum::Add(const float* v, size_t n) {
  size_t used = 0;
  while (used < n && need_ != 0) {
    if (leaf_fill_ == 0 && n - used >= need_) {
      // The whole leaf is in the piece.
      float s = NumpyPairwiseSum(v + used, need_);
      used += need_;
      leaf_fill_ = 0;
      Finish(s, v, n, &used);
      continue;
    }
    size_t take = std::min<uint64_t>(need_ - leaf_fill_, n - used);
    std::memcpy(leaf_ + leaf_fill_, v + used, take * sizeof(float));
    leaf_fill_ += take;
    used += take;
    if (leaf_fill_ == need_) {
      float s = NumpyPairwiseSum(leaf_, need_);
      leaf_fill_ = 0;
      Finish(s, v, n, &used);
    }
  }
  return used;
}

bool NumpyWholePairwiseSum::AddNode(uint64_t size, float sum) {
  if (need_ == 0 || leaf_fill_ != 0) return false;
  // The nodes that start here: the current leaf, then each node on the path whose left
  // child the one below is.
  uint64_t node = need_;
  size_t depth = path_.size();
  while (node < size) {
    if (depth == 0) return false;
    const Frame& f = path_[depth - 1];
    if (f.left_done || f.left_size != node) return false;
    node = f.size;
    --depth;
  }
  if (node != size) return false;
  path_.resize(depth);
  size_t used = 0;
  Finish(sum, nullptr, 0, &used);
  return true;
}

void NumpySumShape::Split(uint64_t lo, uint64_t hi, const float* v, NumpySumPart* part) const {
  part->head = part->tail = 0;
  part->nodes.clear();
  hi = std::min(hi, total_);
  if (lo >= hi) return;
  if (rules_ != NumpyRules::kNumpy1_24) return Visit(0, total_, lo, hi, v, part);
  constexpr uint64_t kBuffer = NumpyFloat32Sum::kBuffer;
  for (uint64_t b = lo / kBuffer * kBuffer; b < hi; b += kBuffer)
    Visit(b, std::min(kBuffer, total_ - b), lo, hi, v, part);
}

void NumpySumShape::Visit(uint64_t start, uint64_t size, uint64_t lo, uint64_t hi, const float* v,
                          NumpySumPart* part) const {
  const uint64_t end = start + size;
  if (end <= lo || start >= hi) return;
  if (lo <= start && end <= hi) {
    part->nodes.push_back({size, NumpyPairwiseSum(v + (start - lo), size)});
    return;
  }
  if (size <= 128) {  // a leaf the run cuts: its values go on in order
    if (start < lo) {
      part->head = std::min(end, hi) - lo;
      std::memcpy(part->head_values, v, part->head * sizeof(float));
    } else {
      part->tail = hi - start;
      std::memcpy(part->tail_values, v + (start - lo), part->tail * sizeof(float));
    }
    return;
  }
  const uint64_t left = SplitAt(size);
  Visit(start, left, lo, hi, v, part);
  Visit(start + left, size - left, lo, hi, v, part);
}

namespace {
uint64_t FirstTree(uint64_t total, NumpyRules rules) {
  return rules == NumpyRules::kNumpy1_24 ? std::min<uint64_t>(total, NumpyFloat32Sum::kBuffer) : total;
}
}  // namespace

NumpyMean::NumpyMean(uint64_t total, NumpyRules rules)
    : rules_(rules), left_(total - FirstTree(total, rules)), tree_(FirstTree(total, rules)) {}

void NumpyMean::NextTree() {
  if (rules_ != NumpyRules::kNumpy1_24) return;
  acc_ += tree_.Sum();
  if (left_ == 0) return;  // the last: tree_ stays done
  const uint64_t size = std::min<uint64_t>(left_, NumpyFloat32Sum::kBuffer);
  tree_ = NumpyWholePairwiseSum(size);
  left_ -= size;
}

void NumpyMean::Add(const float* v, size_t n) {
  while (n > 0 && !tree_.done()) {
    const size_t used = tree_.Add(v, n);
    v += used;
    n -= used;
    if (tree_.done()) NextTree();
  }
}

bool NumpyMean::AddPart(const NumpySumPart& part) {
  Add(part.head_values, part.head);
  for (const NumpySumPart::Node& node : part.nodes) {
    if (!tree_.AddNode(node.size, node.sum)) return false;
    if (tree_.done()) NextTree();
  }
  Add(part.tail_values, part.tail);
  return true;
}

}  // namespace embed2onnx
