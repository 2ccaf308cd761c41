// ExportTable on a Disk of the caller's choosing, for tests (util/memory_disk.h).
//
// Everything the export writes, renames or removes goes through `disk`. The read-back
// step loads the staged files from the real file system (onnx/onnx_model.h), so on a
// MemoryDisk an export gets as far as the streaming step and no further; the output
// folder, the free-space check and the writers before it run on `disk` alone.
#pragma once

#include "embed2onnx/export.h"
#include "util/disk.h"

namespace embed2onnx {

// REQUIRES: `disk` outlives the call.
Result<ExportSummary> ExportTableOn(const ExportOptions& opts, Disk* disk);

}  // namespace embed2onnx
