// Helpers for the tier tests: encode a small table with a tier, decode it back, and
// run the tier's own graph on those stored bytes in the reference evaluator, so a test
// can hold the graph, the decoder and the source against each other.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "check/evaluator.h"
#include "onnx/graph_util.h"
#include "onnx/onnx_model.h"
#include "test_util/files.h"
#include "tiers/tier.h"

namespace embed2onnx::test_util {

// The bytes of each streamed initializer of `tier` for a table of n rows of d floats.
inline std::vector<std::string> EncodeTable(const Tier& tier, const std::vector<float>& rows, size_t n,
                                            size_t d, const TierParams& p) {
  std::vector<std::string> stored(tier.num_streamed);
  uint8_t* outs[kMaxStreamed] = {};
  for (int i = 0; i < tier.num_streamed; ++i) {
    stored[i].assign(n * TierRowBytes(tier, i, d, p), '\0');
    outs[i] = reinterpret_cast<uint8_t*>(stored[i].data());
  }
  tier.encode(rows.data(), n, d, p, outs);
  return stored;
}

inline std::vector<float> DecodeTable(const Tier& tier, const std::vector<std::string>& stored, size_t n,
                                      size_t d, const TierParams& p) {
  const uint8_t* ins[kMaxStreamed] = {};
  for (int i = 0; i < tier.num_streamed; ++i) ins[i] = reinterpret_cast<const uint8_t*>(stored[i].data());
  std::vector<float> out(n * d);
  tier.decode(ins, n, d, p, out.data());
  return out;
}

// The tier's graph as the exporter lays it out, but with every initializer inline.
inline onnx::ModelProto TierModel(const Tier& tier, const std::vector<std::string>& stored, size_t n,
                                  size_t d, const TierParams& p) {
  onnx::ModelProto m;
  SetModelHeader(&m);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name(tier.graph_name);
  AddLookupIO(g, static_cast<int64_t>(d));
  for (int i = 0; i < tier.num_streamed; ++i) {
    std::vector<int64_t> dims = {static_cast<int64_t>(n)};
    for (int64_t k : TierRowDims(tier, i, d, p)) dims.push_back(k);
    AddRawInitializer(g, tier.streamed[i].name, tier.streamed[i].elem_type, dims, stored[i]);
  }
  tier.build_graph(static_cast<int64_t>(d), p, g);
  return m;
}

// Writes the model into `dir`, loads it back and evaluates it on `ids` ([1, ids.size()]).
inline Result<std::vector<float>> RunTierGraph(const onnx::ModelProto& m, const std::string& dir,
                                               const std::vector<int64_t>& ids) {
  const std::string path = dir + "/m.onnx";
  WriteFile(path, m.SerializeAsString());
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> model, LoadedModel::Load(path));
  E2O_ASSIGN_OR_RETURN(HostTensor out,
                       EvaluateLookup(*model, MakeIdsTensor(ids, 1, static_cast<int64_t>(ids.size()))));
  if (out.elem_type != onnx::TensorProto::FLOAT) return Status::Mismatch("output is not FLOAT");
  std::vector<float> v(out.count());
  std::memcpy(v.data(), out.data.data(), v.size() * sizeof(float));
  return v;
}

// A table with the values real checkpoints hold (normal-ish, |x| < 0.1) plus a few
// rows that stress rounding: zeros, one large value, fp16 subnormals.
inline std::vector<float> TestTable(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> t(n * d);
  for (float& x : t) x = normal(rng);
  if (n > 1)
    for (size_t j = 0; j < d; ++j) t[1 * d + j] = 0.0f;
  if (n > 2) t[2 * d] = 3.5f;
  if (n > 3)
    for (size_t j = 0; j < d; ++j) t[3 * d + j] = (j % 2 ? 1 : -1) * 1e-6f * static_cast<float>(j + 1);
  return t;
}

inline std::vector<std::string> NodeOps(const onnx::ModelProto& m) {
  std::vector<std::string> ops;
  for (const auto& n : m.graph().node()) ops.push_back(n.op_type());
  return ops;
}

inline std::vector<std::string> NodeNames(const onnx::ModelProto& m) {
  std::vector<std::string> names;
  for (const auto& n : m.graph().node()) names.push_back(n.name());
  return names;
}

inline uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

}  // namespace embed2onnx::test_util
