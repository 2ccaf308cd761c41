// A splice graph (SPEC §8, onnx/splice_graph.h) read back from disk, judged against its
// tier's plain graph with the reference evaluator: export runs it on the staged files,
// verify on the export as it lies.
//
// CheckSpliceGraph proves, without trusting the code that built the graph:
//   1. every initializer of the plain graph is in the splice graph with the same type,
//      dims and bytes on disk (same location, offset and length, or the same inline
//      bytes): the table is on disk once, and the splice reads what the tier verified;
//   2. on the sample ids with each spliced token (audio, image) three times, at a middle
//      position and next to both ends, and synthetic feature rows holding -0.0,
//      subnormals, +-inf and a NaN (each modality's rows different), its output is the
//      plain graph's output on the ids with every token set to 0, each modality's
//      positions overwritten in order by its rows (masked_scatter), bit for bit. With two
//      modalities it runs twice, each modality's tokens once at the very ends, and once
//      for each modality alone with zero rows of the other;
//   3. for each modality, one row too few and one too many each make the run fail, and
//      with two modalities so do one row moved from either input to the other and one
//      row of a modality whose token is absent;
//   4. with no token and zero rows it outputs exactly the plain graph's output.
// A failure is a Mismatch naming the splice file and what differs. On success
// *ids_evaluated, when given, is the length of the id sequence of check 2.
#pragma once

#include <cstdint>
#include <vector>

#include "embed2onnx/status.h"
#include "onnx/onnx_model.h"
#include "onnx/splice_graph.h"

namespace embed2onnx {

Status CheckSpliceGraph(const LoadedModel& splice, const LoadedModel& plain, const SpliceTokens& tokens,
                        const std::vector<int64_t>& sample_ids, int64_t* ids_evaluated = nullptr);

}  // namespace embed2onnx
