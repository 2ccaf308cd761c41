#include "export/tier_writer.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "onnx/graph_util.h"
#include "onnx/splice_graph.h"
#include "schema/names.h"

namespace embed2onnx {

namespace {
// Sidecar rows go to the page cache in pieces of this size. On Linux with large folios
// (ext4 since 6.16) the size of a buffered write sets the size of the page-cache folios
// that serve it: larger folios cost less per byte to fill, but a reader that maps the file
// (ONNX Runtime maps the sidecar) faults in a whole folio for each row it touches.
// Three tiers of the Granite table, blocks reserved ahead (bench/RESULTS.md, issue 14):
// 1 MiB pieces exported fastest (0.84 s against 1.13 s for 32 KiB on resident memory), but
// an fp16w session's peak RSS after them rose from 157 to 420 MiB, a folio per random row.
// 64 KiB, the size of the kernel's fault-around, leaves that RSS unchanged (157 MiB),
// exports as fast as 32 KiB on resident memory (the pairs differ by less than this VM's
// noise) and no slower on cold (1.3-2.5 s against 1.8-3.5 s, in turn first and second of
// each pair).
constexpr uint64_t kSidecarWritePiece = 64 * 1024;
}  // namespace

Result<std::unique_ptr<TierWriter>> TierWriter::Create(const Tier& tier, const TierParams& params,
                                                       uint64_t rows, uint64_t cols, const ModelMeta& meta,
                                                       OutputDir* out) {
  if (tier.check_params) E2O_RETURN_IF_ERROR(tier.check_params(cols, params));
  std::unique_ptr<TierWriter> w(new TierWriter(tier, params, out));
  w->cols_ = cols;
  const std::string sidecar_name = SidecarName(tier.file_name);

  std::vector<TensorPlacement> tensors;
  for (int i = 0; i < tier.num_streamed; ++i) {
    const StreamedInitializer& s = tier.streamed[i];
    TensorPlacement p;
    p.name = s.name;
    p.elem_type = s.elem_type;
    p.dims = {static_cast<int64_t>(rows)};
    for (int64_t k : TierRowDims(tier, i, cols, params)) p.dims.push_back(k);
    p.byte_size = rows * TierRowBytes(tier, i, cols, params);  // the caller checked V*D*4 fits
    tensors.push_back(std::move(p));
  }
  w->layout_ = PlanSidecar(std::move(tensors), sidecar_name);

  SetModelHeader(&w->model_);
  w->model_.set_producer_name(meta.producer_name);
  w->model_.set_producer_version(meta.producer_version);
  for (const auto& [key, value] : meta.props) {
    onnx::StringStringEntryProto* e = w->model_.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  }
  onnx::GraphProto* g = w->model_.mutable_graph();
  g->set_name(tier.graph_name);
  AddLookupIO(g, static_cast<int64_t>(cols));
  for (int i = 0; i < tier.num_streamed; ++i) {
    const TensorPlacement& p = w->layout_.tensors[i];
    // Inline tensors hold zeros of their final size until Finish, so the model's
    // serialised size is known now.
    if (!p.external) w->inline_data_[i].assign(p.byte_size, '\0');
    AddPlacedInitializer(g, p, sidecar_name, w->inline_data_[i]);
  }
  tier.build_graph(static_cast<int64_t>(cols), params, g);
  w->onnx_bytes_ = w->model_.ByteSizeLong();
  return w;
}

Status TierWriter::AddSplice(const SpliceTokens& tokens) {
  if (!onnx_path_.empty())
    return Status::InvalidArgument(SpliceFileName(tier_.file_name, tokens) +
                                   ": planned after TierWriter::Open");
  // The inline tensors hold zeros of their final size, so this is the final size too.
  E2O_ASSIGN_OR_RETURN(onnx::ModelProto splice,
                       MakeSpliceModel(model_, tokens, std::string(tier_.graph_name) + SpliceSuffix(tokens)));
  splice_tokens_ = tokens;
  splice_bytes_ = splice.ByteSizeLong();
  return Status::Ok();
}

std::string TierWriter::splice_file_name() const { return SpliceFileName(tier_.file_name, splice_tokens_); }

std::vector<uint64_t> TierWriter::planned_extents() const {
  std::vector<uint64_t> extents = {onnx_bytes_};
  for (const TensorPlacement& p : layout_.tensors)
    if (p.external) extents.push_back(p.byte_size);
  if (has_splice()) extents.push_back(splice_bytes_);
  return extents;
}

Status TierWriter::Open() {
  E2O_ASSIGN_OR_RETURN(onnx_path_, out_->Stage(tier_.file_name));
  if (has_splice()) {
    E2O_ASSIGN_OR_RETURN(splice_path_, out_->Stage(splice_file_name()));
  }
  if (layout_.sidecar_size == 0) return Status::Ok();
  E2O_ASSIGN_OR_RETURN(sidecar_path_, out_->Stage(SidecarName(tier_.file_name)));
  E2O_ASSIGN_OR_RETURN(sidecar_, out_->disk()->Create(sidecar_path_));
  // The blocks of every tensor at once (not the alignment gaps, which stay holes): the
  // writes then only fill them.
  for (const TensorPlacement& p : layout_.tensors)
    if (p.external) E2O_RETURN_IF_ERROR(sidecar_->Reserve(p.offset, p.byte_size));
  return Status::Ok();
}

Status TierWriter::WriteRows(uint64_t first, uint64_t n, const uint8_t* const* outs) {
  for (int i = 0; i < tier_.num_streamed; ++i) {
    const TensorPlacement& p = layout_.tensors[i];
    uint64_t row_bytes = TierRowBytes(tier_, i, cols_, params_);
    uint64_t at = first * row_bytes, len = n * row_bytes;
    if (at + len > p.byte_size)
      return Status::InvalidArgument(p.name + ": rows written past the tensor's end");
    // In table order, each row once: then the pieces read back below tile the tensor.
    if (at != written_[i])
      return Status::InvalidArgument(p.name + ": rows from " + std::to_string(first) +
                                     " written out of table order");
    if (p.external) {
      if (!sidecar_) return Status::IOError(layout_.location + ": written before TierWriter::Open");
      readback_.resize(std::min(kSidecarWritePiece, p.byte_size));
      for (uint64_t done = 0; done < len; done += kSidecarWritePiece) {
        const uint64_t piece = std::min(kSidecarWritePiece, len - done), offset = p.offset + at + done;
        E2O_RETURN_IF_ERROR(sidecar_->WriteAt(outs[i] + done, piece, offset));
        E2O_RETURN_IF_ERROR(sidecar_->ReadAt(readback_.data(), piece, offset));
        if (std::memcmp(readback_.data(), outs[i] + done, piece) != 0) {
          const uint64_t k = static_cast<uint64_t>(
              std::mismatch(readback_.begin(), readback_.begin() + static_cast<ptrdiff_t>(piece),
                            outs[i] + done)
                  .first -
              readback_.begin());
          return Status::Mismatch(fmt::format(
              "{}: tier {}, initializer '{}': the byte read back at offset {} (row {}) is {:#04x}, "
              "written {:#04x}",
              sidecar_path_, tier_.name, p.name, offset + k, (at + done + k) / row_bytes, readback_[k],
              outs[i][done + k]));
        }
      }
    } else {
      std::memcpy(inline_data_[i].data() + at, outs[i], len);
    }
    written_[i] = at + len;
  }
  return Status::Ok();
}

Status TierWriter::Finish() {
  onnx::GraphProto* g = model_.mutable_graph();
  for (int i = 0; i < tier_.num_streamed; ++i) {
    if (layout_.tensors[i].external) continue;
    for (onnx::TensorProto& t : *g->mutable_initializer())
      if (t.name() == layout_.tensors[i].name) t.set_raw_data(inline_data_[i]);
  }
  if (onnx_path_.empty())
    return Status::IOError(std::string(tier_.file_name) + ": finished before TierWriter::Open");
  for (int i = 0; i < tier_.num_streamed; ++i)
    if (written_[i] != layout_.tensors[i].byte_size)
      return Status::IOError(layout_.tensors[i].name + ": " + std::to_string(written_[i]) + " of its " +
                             std::to_string(layout_.tensors[i].byte_size) + " bytes written");
  if (sidecar_) {
    E2O_ASSIGN_OR_RETURN(uint64_t size, sidecar_->Size());
    if (size != layout_.sidecar_size)
      return Status::IOError(sidecar_path_ + ": holds " + std::to_string(size) + " bytes, expected " +
                             std::to_string(layout_.sidecar_size));
    E2O_RETURN_IF_ERROR(sidecar_->Close());
  }
  std::string bytes;
  if (!model_.SerializeToString(&bytes)) return Status::IOError(onnx_path_ + ": cannot serialise the model");
  // The free-space check counted on this size.
  if (bytes.size() != onnx_bytes_)
    return Status::IOError(onnx_path_ + ": serialises to " + std::to_string(bytes.size()) +
                           " bytes, planned " + std::to_string(onnx_bytes_));
  E2O_RETURN_IF_ERROR(WriteWholeFile(out_->disk(), onnx_path_, bytes));
  if (!has_splice()) return Status::Ok();
  E2O_ASSIGN_OR_RETURN(
      onnx::ModelProto splice,
      MakeSpliceModel(model_, splice_tokens_, std::string(tier_.graph_name) + SpliceSuffix(splice_tokens_)));
  std::string splice_bytes;
  if (!splice.SerializeToString(&splice_bytes))
    return Status::IOError(splice_path_ + ": cannot serialise the model");
  if (splice_bytes.size() != splice_bytes_)
    return Status::IOError(splice_path_ + ": serialises to " + std::to_string(splice_bytes.size()) +
                           " bytes, planned " + std::to_string(splice_bytes_));
  return WriteWholeFile(out_->disk(), splice_path_, splice_bytes);
}

}  // namespace embed2onnx
