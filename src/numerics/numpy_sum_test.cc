#include "numerics/numpy_sum.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace embed2onnx {
namespace {

TEST(NumpySumTest, SmallSumsByHand) {
  std::vector<float> v = {1, 2, 3};
  EXPECT_EQ(NumpyPairwiseSum(v.data(), 3), 6.0f);
  // 9 values: eight running sums of one value each, combined pairwise, then the tail.
  std::vector<float> w = {1e8f, 1, -1e8f, 1, 0, 0, 0, 0, 1};
  float r = ((1e8f + 1.0f) + (-1e8f + 1.0f)) + 0.0f;
  EXPECT_EQ(NumpyPairwiseSum(w.data(), 9), r + 1.0f);
}

// The leaves summed side by side give the reference's float, bit for bit, at every size
// up to 2100 (every shape of two- and four-leaf node and their tails) and beyond.
TEST(NumpySumTest, SideBySideLeavesEqualTheReference) {
  std::mt19937 rng(21);
  std::exponential_distribution<float> dist(1000.0f);
  std::vector<float> v(300000);
  for (float& x : v) x = dist(rng) * (rng() % 2 ? 1.0f : -1.0f);
  auto same = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (size_t n = 0; n <= 2100; ++n)
    ASSERT_TRUE(same(NumpyPairwiseSum(v.data() + n % 7, n), NumpyPairwiseSumReference(v.data() + n % 7, n)))
        << n;
  for (size_t n : {8192u, 65537u, 100003u, 262147u, 300000u})
    ASSERT_TRUE(same(NumpyPairwiseSum(v.data(), n), NumpyPairwiseSumReference(v.data(), n))) << n;
}

// Feeding the values in any pieces gives the same float as one call.
TEST(NumpySumTest, PiecesDoNotMatter) {
  std::mt19937 rng(9);
  std::exponential_distribution<float> dist(1000.0f);
  std::vector<float> v(100003);
  for (float& x : v) x = dist(rng);
  NumpyFloat32Sum whole;
  whole.Add(v.data(), v.size());
  for (size_t piece : {1u, 7u, 8192u, 10000u, 65536u}) {
    NumpyFloat32Sum s;
    for (size_t i = 0; i < v.size(); i += piece) s.Add(v.data() + i, std::min(piece, v.size() - i));
    EXPECT_EQ(s.Sum(), whole.Sum()) << piece;
  }
  // The sum is of 8192-element buffers added in order.
  float acc = 0.0f;
  size_t i = 0;
  for (; i + 8192 <= v.size(); i += 8192) acc += NumpyPairwiseSum(v.data() + i, 8192);
  acc += NumpyPairwiseSum(v.data() + i, v.size() - i);
  EXPECT_EQ(whole.Sum(), acc);
  EXPECT_EQ(whole.Mean(v.size()), static_cast<float>(static_cast<double>(acc) / v.size()));
}

// numpy 2.4: one pairwise sum over the whole array, whatever the pieces it arrives in.
TEST(NumpySumTest, WholePairwiseStreamsAnyPieces) {
  std::mt19937 rng(11);
  std::exponential_distribution<float> dist(1000.0f);
  for (size_t total : {0u, 1u, 7u, 8u, 127u, 128u, 129u, 1000u, 8192u, 8193u, 100003u, 262147u}) {
    std::vector<float> v(total);
    for (float& x : v) x = dist(rng);
    const float want = NumpyPairwiseSum(v.data(), total);
    for (size_t piece : {1u, 3u, 128u, 129u, 8192u, 50000u, 1u << 20}) {
      NumpyWholePairwiseSum s(total);
      for (size_t i = 0; i < total; i += piece) s.Add(v.data() + i, std::min(piece, total - i));
      EXPECT_EQ(s.Sum(), want) << "total " << total << " piece " << piece;
    }
    // Uneven pieces, as chunks of rows of different widths give.
    NumpyWholePairwiseSum s(total);
    std::uniform_int_distribution<size_t> len(0, 3000);
    for (size_t i = 0; i < total;) {
      size_t n = std::min(len(rng), total - i);
      s.Add(v.data() + i, n);
      i += n;
    }
    EXPECT_EQ(s.Sum(), want) << "total " << total << " random pieces";
  }
}

// The two releases differ: numpy 1.24's 8192-value buffers against 2.4's single tree.
TEST(NumpySumTest, ReleasesDifferOnLargeArrays) {
  std::vector<float> v(3000 * 2048);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1e-4f * (1.0f + static_cast<float>(i % 977) / 977.0f);
  NumpyFloat32Sum old_sum;
  old_sum.Add(v.data(), v.size());
  NumpyWholePairwiseSum new_sum(v.size());
  new_sum.Add(v.data(), v.size());
  EXPECT_NE(old_sum.Sum(), new_sum.Sum());
  EXPECT_NEAR(old_sum.Sum(), new_sum.Sum(), 1e-5 * old_sum.Sum());
}

// Runs summed where they are (NumpySumShape::Split) and joined in order (AddPart), mixed
// with runs added as values, give np.mean's float under both releases, bit for bit,
// whatever the runs: one value, a leaf, whole 8192-value buffers, rows of odd widths.
TEST(NumpySumTest, PartsSummedApartEqualTheWholeSum) {
  std::mt19937 rng(17);
  std::exponential_distribution<float> dist(1000.0f);
  auto same = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (NumpyRules rules : {NumpyRules::kNumpy2_4, NumpyRules::kNumpy1_24}) {
    for (uint64_t total : {0u, 1u, 7u, 8u, 127u, 128u, 129u, 1000u, 8192u, 8193u, 16384u, 100003u, 262147u}) {
      std::vector<float> v(total);
      for (float& x : v) x = dist(rng);
      float want;
      if (rules == NumpyRules::kNumpy1_24) {
        NumpyFloat32Sum ref;
        ref.Add(v.data(), v.size());
        want = ref.Mean(total);
      } else {
        want = static_cast<float>(static_cast<double>(NumpyPairwiseSum(v.data(), total)) / total);
      }
      const NumpySumShape shape(total, rules);
      for (size_t run : {1u, 5u, 128u, 129u, 2048u * 8u, 3u * 8192u + 5u, 0u}) {
        NumpyMean mean(total, rules);
        std::uniform_int_distribution<size_t> len(0, 40000);
        NumpySumPart part;
        size_t parts = 0;
        for (uint64_t i = 0; i < total;) {
          const uint64_t n = std::min<uint64_t>(run ? run : len(rng), total - i);
          if (parts++ % 5 == 4) {
            mean.Add(v.data() + i, n);  // now and then as values
          } else {
            shape.Split(i, i + n, v.data() + i, &part);
            ASSERT_LE(part.head, 127u);
            ASSERT_LE(part.tail, 127u);
            // A run holds few nodes: at most two per level of the tree.
            ASSERT_LE(part.nodes.size(), 64u) << "run " << n;
            uint64_t covered = part.head + part.tail;
            for (const NumpySumPart::Node& node : part.nodes) covered += node.size;
            ASSERT_EQ(covered, n);
            ASSERT_TRUE(mean.AddPart(part)) << "total " << total << " at " << i;
          }
          i += n;
        }
        if (total > 0)
          EXPECT_TRUE(same(mean.Mean(total), want))
              << NumpyRulesName(rules) << " total " << total << " run " << run;
      }
    }
  }
}

// A node that cannot start where the values so far end is refused, and changes nothing.
TEST(NumpySumTest, AMisplacedNodeIsRefused) {
  std::vector<float> v(1024, 0.25f);
  NumpyWholePairwiseSum s(v.size());
  EXPECT_FALSE(s.AddNode(3, 1.0f));     // the first leaf holds 128 values
  EXPECT_FALSE(s.AddNode(2048, 1.0f));  // larger than the tree
  EXPECT_EQ(s.Add(v.data(), 64), 64u);  // inside the first leaf: no node starts here
  EXPECT_FALSE(s.AddNode(64, 16.0f));
  EXPECT_EQ(s.Add(v.data(), 64), 64u);
  EXPECT_TRUE(s.AddNode(128, 32.0f));     // the second leaf
  EXPECT_TRUE(s.AddNode(256, 64.0f));     // the right half of the left half
  EXPECT_FALSE(s.AddNode(1024, 256.0f));  // the root began long before
  EXPECT_TRUE(s.AddNode(512, 128.0f));
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.Sum(), NumpyPairwiseSum(v.data(), v.size()));
}

}  // namespace
}  // namespace embed2onnx
