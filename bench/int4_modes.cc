// Measures symmetric against asymmetric int4 on synthetic tables (docs/int4.md): mean
// and max absolute error and mean row cosine similarity, per block size.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "numerics/int4_quant.h"

using namespace embed2onnx;

int main() {
  const size_t V = 4000, D = 2048;
  std::mt19937 rng(1);
  const char* names[] = {"normal sigma=0.02", "student-t(3) x 0.01"};
  for (int dist = 0; dist < 2; ++dist) {
    std::vector<float> w(V * D);
    std::normal_distribution<float> normal(0, 0.02f);
    std::student_t_distribution<float> heavy(3);
    for (float& x : w) x = dist == 0 ? normal(rng) : 0.01f * heavy(rng);
    for (size_t block : {32, 64, 128})
      for (Int4Mode mode : {Int4Mode::kSymmetric, Int4Mode::kAsymmetric}) {
        const bool asym = mode == Int4Mode::kAsymmetric;
        double sum = 0, max = 0, cos = 0;
        std::vector<uint8_t> packed(D / 2), zp(D / block);
        std::vector<uint16_t> scales(D / block);
        std::vector<float> r(D);
        for (size_t row = 0; row < V; ++row) {
          const float* x = &w[row * D];
          QuantizeRowInt4(x, D, block, mode, packed.data(), scales.data(), zp.data());
          DequantizeRowInt4(packed.data(), scales.data(), zp.data(), D, block, mode, r.data());
          double dot = 0, nx = 0, nr = 0;
          for (size_t j = 0; j < D; ++j) {
            double e = std::fabs(r[j] - x[j]);
            sum += e;
            max = std::max(max, e);
            dot += double(x[j]) * r[j];
            nx += double(x[j]) * x[j];
            nr += double(r[j]) * r[j];
          }
          cos += dot / std::sqrt(nx * nr);
        }
        double bytes = 0.5 + (2.0 + (asym ? 1.0 : 0.0)) / block;
        std::printf(
            "%-20s block %3zu %-10s mean %.3e  max %.3e  cosine %.5f  bytes/value %.4f (%.3f x fp16)\n",
            names[dist], block, asym ? "asymmetric" : "symmetric", sum / (V * D), max, cos / V, bytes,
            bytes / 2);
      }
  }
}
