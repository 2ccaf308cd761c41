#include "check/splice_check.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "check/evaluator.h"
#include "onnx/graph_util.h"
#include "onnx/splice_graph.h"

namespace embed2onnx {

namespace {
using TP = onnx::TensorProto;

// Bit patterns the splice must copy unchanged (a float select or "+ 0" would not):
// -0.0, the smallest subnormal, a negative subnormal, +inf, -inf, a NaN with a payload,
// and two ordinary values.
constexpr uint32_t kFloatPatterns[] = {0x80000000u, 0x00000001u, 0x807fffffu, 0x7f800000u,
                                       0xff800000u, 0x7fc00001u, 0x3fc00000u, 0xc0490fdbu};
constexpr uint16_t kHalfPatterns[] = {0x8000u, 0x0001u, 0x83ffu, 0x7c00u, 0xfc00u, 0x7e01u, 0x3e00u, 0xc248u};

// `m` rows of D values of `elem_type`, cycling through the patterns row by row from
// pattern `start`: forwards for an even `start`, backwards for an odd one, so that (for
// D > 1) no row of modality 1 equals a row of modality 0, wherever it starts.
size_t Pattern(size_t start, uint64_t i, int64_t d, size_t count) {
  const size_t j = static_cast<size_t>((start + i + i / static_cast<uint64_t>(d)) % count);
  return start % 2 == 0 ? j : count - 1 - j;
}

Result<HostTensor> FeatureRows(int32_t elem_type, int64_t m, int64_t d, size_t start) {
  HostTensor t;
  t.elem_type = elem_type;
  t.dims = {m, d};
  const uint64_t n = static_cast<uint64_t>(m * d);
  if (elem_type == TP::FLOAT) {
    t.data.resize(n * 4);
    for (uint64_t i = 0; i < n; ++i)
      std::memcpy(t.data.data() + i * 4, &kFloatPatterns[Pattern(start, i, d, std::size(kFloatPatterns))], 4);
  } else if (elem_type == TP::FLOAT16) {
    t.data.resize(n * 2);
    for (uint64_t i = 0; i < n; ++i)
      std::memcpy(t.data.data() + i * 2, &kHalfPatterns[Pattern(start, i, d, std::size(kHalfPatterns))], 2);
  } else {
    return Status::Mismatch("feature rows of element type " + OnnxElemName(elem_type));
  }
  return t;
}

Status SameInitializers(const LoadedModel& splice, const LoadedModel& plain) {
  for (const auto& [name, p] : plain.initializers()) {
    auto it = splice.initializers().find(name);
    const std::string where = splice.path() + ": initializer '" + PrintableName(name) + "'";
    if (it == splice.initializers().end())
      return Status::Mismatch(where + " of its tier's graph " + plain.path() + " is missing");
    const InitializerData& s = it->second;
    bool same = s.elem_type == p.elem_type && s.dims == p.dims && s.byte_size == p.byte_size &&
                s.external == p.external;
    if (same && p.external) same = s.location == p.location && s.offset == p.offset;
    if (same && !p.external) same = s.raw && p.raw && *s.raw == *p.raw;
    if (!same)
      return Status::Mismatch(where + " is not the tier's (" + plain.path() +
                              "): type, shape or bytes on disk differ");
  }
  return Status::Ok();
}
}  // namespace

Status CheckSpliceGraph(const LoadedModel& splice, const LoadedModel& plain, const SpliceTokens& tokens,
                        const std::vector<int64_t>& sample_ids, int64_t* ids_evaluated) {
  E2O_RETURN_IF_ERROR(SameInitializers(splice, plain));
  const std::string& path = splice.path();
  const auto& out_type = plain.proto().graph().output(0).type().tensor_type();
  const int32_t elem = out_type.elem_type();
  const int64_t d = out_type.shape().dim(2).dim_value();
  const uint32_t eb = OnnxElemBytes(elem);
  const std::vector<SplicedInput> inputs = SplicedInputs(tokens);
  if (inputs.empty()) return Status::Mismatch(path + ": no token id to check the splice graph at");
  auto is_token = [&](int64_t id) {
    for (const SplicedInput& in : inputs)
      if (in.token_id == id) return true;
    return false;
  };

  // The text ids (any equal to a token id would be spliced).
  std::vector<int64_t> text;
  for (int64_t id : sample_ids)
    if (!is_token(id)) text.push_back(id);
  const int64_t m = 3;
  const uint64_t row = static_cast<uint64_t>(d) * eb;

  // One run: the text ids with the tokens of the modalities in `order` (indices into
  // `inputs`) each put in first, in the middle and last, in that order (so the last one
  // ends up at both ends), m rows each and none for a modality not in `order`. Its output
  // must be masked_scatter over the plain graph. Returns the ids and the inputs fed.
  struct Run {
    std::vector<int64_t> ids;
    std::vector<HostTensor> feeds;
  };
  auto check_run = [&](const std::vector<size_t>& order) -> Result<Run> {
    Run r{text, {}};
    for (size_t k : order) {
      r.ids.insert(r.ids.begin() + static_cast<std::ptrdiff_t>(r.ids.size() / 2), inputs[k].token_id);
      r.ids.insert(r.ids.begin(), inputs[k].token_id);
      r.ids.push_back(inputs[k].token_id);
    }
    const int64_t n = static_cast<int64_t>(r.ids.size());
    auto present = [&](size_t k) { return std::find(order.begin(), order.end(), k) != order.end(); };
    std::string counted;  // "3 audio tokens", "3 image and 3 audio tokens", "3 audio tokens, no image"
    for (size_t k : order)
      counted += (counted.empty() ? "" : " and ") + std::to_string(m) + " " + inputs[k].modality;
    counted += " tokens";
    for (size_t k = 0; k < inputs.size(); ++k)
      if (!present(k)) counted += ", no " + inputs[k].modality;

    std::vector<int64_t> zeroed = r.ids;
    for (int64_t& id : zeroed)
      if (is_token(id)) id = 0;
    E2O_ASSIGN_OR_RETURN(HostTensor want, EvaluateLookup(plain, MakeIdsTensor(zeroed, 1, n)));
    if (want.data.size() != static_cast<uint64_t>(n) * row)
      return Status::Mismatch(plain.path() + ": output of " + std::to_string(want.data.size()) +
                              " bytes for " + std::to_string(n) + " ids");
    // Each modality's rows are patterns of their own, so rows put in at another
    // modality's positions differ from those wanted.
    r.feeds.push_back(MakeIdsTensor(r.ids, 1, n));
    for (size_t k = 0; k < inputs.size(); ++k) {
      E2O_ASSIGN_OR_RETURN(HostTensor rows, FeatureRows(elem, present(k) ? m : 0, d, k));
      for (int64_t p = 0, j = 0; p < n; ++p)
        if (r.ids[p] == inputs[k].token_id)
          std::memcpy(want.data.data() + p * row, rows.data.data() + (j++) * row, row);
      r.feeds.push_back(std::move(rows));
    }
    auto got = EvaluateGraph(splice, r.feeds);
    if (!got.ok())
      return Status::Mismatch(path + ": run with " + counted + " failed: " + got.status().message());
    if (got->dims != std::vector<int64_t>{1, n, d} || got->data != want.data) {
      int64_t at = 0;
      for (; at < n && got->data.size() == want.data.size(); ++at)
        if (std::memcmp(got->data.data() + at * row, want.data.data() + at * row, row) != 0) break;
      return Status::Mismatch(path +
                              ": output differs from masked_scatter over the tier's graph at position " +
                              std::to_string(at) + " (id " + std::to_string(at < n ? r.ids[at] : -1) +
                              ") in the run with " + counted);
    }
    return r;
  };
  // Feeds that are wrong in a count must fail the run; `said` says how they are wrong.
  auto must_fail = [&](const std::vector<HostTensor>& feeds, const std::string& said) {
    return EvaluateGraph(splice, feeds).ok() ? Status::Mismatch(path + ": " + said + " ran without an error")
                                             : Status::Ok();
  };
  std::vector<size_t> all;
  for (size_t k = 0; k < inputs.size(); ++k) all.push_back(k);
  E2O_ASSIGN_OR_RETURN(const Run main_run, check_run(all));
  const std::vector<HostTensor>& run = main_run.feeds;
  // With two modalities: the other one at the ends, and each alone with no rows for the
  // other (an audio-only prompt fed to an image and audio graph), where one row of the
  // absent one must fail the run.
  if (inputs.size() == 2) {
    E2O_RETURN_IF_ERROR(check_run({1, 0}).status());
    for (size_t alone : {0, 1}) {
      E2O_ASSIGN_OR_RETURN(Run r, check_run({alone}));
      const size_t absent = 1 - alone;
      E2O_ASSIGN_OR_RETURN(r.feeds[absent + 1], FeatureRows(elem, 1, d, absent));
      E2O_RETURN_IF_ERROR(must_fail(r.feeds, std::to_string(m) + " " + inputs[alone].modality +
                                                 " tokens, no " + inputs[absent].modality + " token and 1 " +
                                                 inputs[absent].input_name() + " row"));
    }
  }

  // A count of one modality's rows other than that of its tokens must fail the run, and
  // with two modalities so must one row moved from one to the other: a graph that checks
  // only the total would pass the first cases and fail these.
  std::vector<std::vector<int64_t>> wrong_counts;
  for (size_t k = 0; k < inputs.size(); ++k)
    for (int64_t wrong : {m - 1, m + 1}) {
      wrong_counts.emplace_back(inputs.size(), m);
      wrong_counts.back()[k] = wrong;
    }
  if (inputs.size() == 2) wrong_counts.insert(wrong_counts.end(), {{m - 1, m + 1}, {m + 1, m - 1}});
  for (const std::vector<int64_t>& counts : wrong_counts) {
    std::vector<HostTensor> bad = run;
    std::string said;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (counts[k] != m) {
        E2O_ASSIGN_OR_RETURN(bad[k + 1], FeatureRows(elem, counts[k], d, k));
      }
      said += (said.empty() ? "" : " and ") + std::to_string(m) + " " + inputs[k].modality + " tokens with " +
              std::to_string(counts[k]) + " " + inputs[k].input_name() + " rows";
    }
    E2O_RETURN_IF_ERROR(must_fail(bad, said));
  }
  // No token and no rows: the plain graph, bit for bit.
  if (!text.empty()) {
    const int64_t k = static_cast<int64_t>(text.size());
    E2O_ASSIGN_OR_RETURN(HostTensor plain_out, EvaluateLookup(plain, MakeIdsTensor(text, 1, k)));
    std::vector<HostTensor> none = {MakeIdsTensor(text, 1, k)};
    for (size_t j = 0; j < inputs.size(); ++j) {
      E2O_ASSIGN_OR_RETURN(HostTensor empty, FeatureRows(elem, 0, d, j));
      none.push_back(std::move(empty));
    }
    auto alone = EvaluateGraph(splice, none);
    if (!alone.ok() || alone->dims != plain_out.dims || alone->data != plain_out.data)
      return Status::Mismatch(path + ": with no spliced token its output is not the tier's graph's" +
                              (alone.ok() ? std::string() : ": " + alone.status().message()));
  }
  if (ids_evaluated) *ids_evaluated = static_cast<int64_t>(main_run.ids.size());
  return Status::Ok();
}

}  // namespace embed2onnx
