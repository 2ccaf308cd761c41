#include "onnx/onnx_model.h"

#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "onnx/graph_util.h"

namespace embed2onnx {

namespace {
constexpr uint64_t kMaxOnnxBytes = 2ull << 30;  // protobuf's own limit

bool ParseU64(const std::string& s, uint64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// realpath(3) as a string; errno is set when it fails.
bool RealPath(const std::string& path, std::string* out) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (!r) return false;
  *out = r;
  ::free(r);
  return true;
}

// Whether resolved path `p` is `dir` or lies below it (both absolute and resolved).
bool Within(const std::string& p, const std::string& dir) {
  if (dir == "/") return true;
  return p.compare(0, dir.size(), dir) == 0 && (p.size() == dir.size() || p[dir.size()] == '/');
}

// "<where>: initializer 'name'" for messages.
std::string About(const std::string& where, const std::string& name) {
  return where + ": initializer '" + PrintableName(name) + "'";
}

// The model-level checks ONNX Runtime makes before it looks at any tensor.
Status CheckModelFields(const onnx::ModelProto& m, const std::string& name) {
  if (!m.has_graph()) return Status::Corruption(name + ": the model has no graph");
  if (m.ir_version() <= 0) return Status::Corruption(name + ": the model has no ir_version");
  return Status::Ok();
}

// Checks an initializer's own fields and fills `d` (without sidecar information).
Status DescribeInitializer(const onnx::TensorProto& t, const std::string& where, InitializerData* d) {
  d->name = t.name();
  d->elem_type = t.data_type();
  const std::string about = About(where, t.name());
  uint64_t elem = OnnxElemBytes(t.data_type());
  if (elem == 0) return Status::NotSupported(about + " has unsupported type " + OnnxElemName(t.data_type()));
  uint64_t count = 1;
  for (int64_t dim : t.dims()) {
    if (dim < 0) return Status::Corruption(about + " has a negative dimension");
    if (dim != 0 && count > UINT64_MAX / static_cast<uint64_t>(dim))
      return Status::Corruption(about + " has dimensions whose product overflows");
    count *= static_cast<uint64_t>(dim);
    d->dims.push_back(dim);
  }
  if (count > UINT64_MAX / elem) return Status::Corruption(about + " is too large");
  d->byte_size = count * elem;

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    d->external = true;
    bool have_loc = false, have_off = false, have_len = false, have_sum = false;
    uint64_t length = 0;
    for (const auto& e : t.external_data()) {
      const std::string& k = e.key();
      bool* seen = k == "location"   ? &have_loc
                   : k == "offset"   ? &have_off
                   : k == "length"   ? &have_len
                   : k == "checksum" ? &have_sum
                                     : nullptr;
      if (!seen)
        return Status::Corruption(about + ": external-data key '" + PrintableName(k) +
                                  "' is not one ONNX Runtime accepts (location, offset, length, checksum)");
      if (*seen) return Status::Corruption(about + ": external-data key '" + k + "' appears twice");
      *seen = true;
      if (k == "location") d->location = e.value();
      if (k == "offset" && !ParseU64(e.value(), &d->offset))
        return Status::Corruption(about + ": bad offset '" + PrintableName(e.value()) + "'");
      if (k == "length" && !ParseU64(e.value(), &length))
        return Status::Corruption(about + ": bad length '" + PrintableName(e.value()) + "'");
    }
    const std::string loc = PrintableName(d->location);
    if (!have_loc || d->location.empty())
      return Status::Corruption(about + ": external data without a location");
    if (d->location[0] == '/')
      return Status::Corruption(about + ": location '" + loc +
                                "' is an absolute path; it must be relative to the model's folder");
    if (d->location.find('\0') != std::string::npos)
      return Status::Corruption(about + ": location '" + loc + "' holds a NUL byte");
    if (have_len && length != d->byte_size)
      return Status::Corruption(about + ": external length " + std::to_string(length) + ", expected " +
                                std::to_string(d->byte_size));
    return Status::Ok();
  }
  if (!t.has_raw_data()) return Status::NotSupported(about + " stores data outside raw_data");
  if (t.raw_data().size() != d->byte_size)
    return Status::Corruption(about + " holds " + std::to_string(t.raw_data().size()) + " bytes, expected " +
                              std::to_string(d->byte_size));
  d->raw = &t.raw_data();
  return Status::Ok();
}

// Protobuf first, then the checks that need no file: ParseModelBytes and Load share it.
Status ParseAndCheck(const std::string& bytes, const std::string& name, onnx::ModelProto* out, bool* parsed) {
  *parsed = false;
  if (bytes.empty()) return Status::Corruption(name + ": empty file, not an ONNX model");
  if (!out->ParseFromString(bytes))
    return Status::Corruption(name + ": not a valid ONNX model (protobuf parse failed)");
  *parsed = true;
  return CheckModelFields(*out, name);
}
}  // namespace

std::string PrintableName(const std::string& s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      out += "\\x";
      out += kDigits[b >> 4];
      out += kDigits[b & 15];
    } else {
      out += c;
    }
  }
  return out;
}

Status InitializerData::Read(uint64_t at, uint64_t n, void* out) const {
  if (at > byte_size || n > byte_size - at)
    return Status::InvalidArgument("initializer '" + PrintableName(name) + "': read past its end");
  if (!external) {
    std::copy(raw->data() + at, raw->data() + at + n, static_cast<char*>(out));
    return Status::Ok();
  }
  return PReadFull(sidecar_fd, out, n, offset + at, sidecar_path);
}

Status ParseModelBytes(const std::string& bytes, const std::string& name, onnx::ModelProto* out) {
  bool parsed;
  E2O_RETURN_IF_ERROR(ParseAndCheck(bytes, name, out, &parsed));
  std::vector<std::string> names;
  for (const onnx::TensorProto& t : out->graph().initializer()) {
    InitializerData d;
    E2O_RETURN_IF_ERROR(DescribeInitializer(t, name, &d));
    names.push_back(t.name());
  }
  std::sort(names.begin(), names.end());
  auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) return Status::Corruption(About(name, *dup) + " appears twice");
  return Status::Ok();
}

std::string SidecarPath(const std::string& onnx_path, const std::string& location) {
  const std::string dir = Dirname(onnx_path);
  return (dir == "/" ? "" : dir) + "/" + location;
}

const std::string& LoadedModel::sidecar_path() const {
  static const std::string kNone;
  return sidecars_.empty() ? kNone : sidecars_[0]->path;
}

Result<SidecarFile*> LoadedModel::SidecarFor(const InitializerData& d, const std::string& sidecar_override) {
  for (const auto& s : sidecars_) {
    if (s->location == d.location) return s.get();
  }
  if (!sidecar_override.empty() && !sidecars_.empty())
    return Status::Corruption(path_ + ": external data spread over several files ('" +
                              PrintableName(sidecars_[0]->location) + "', '" + PrintableName(d.location) +
                              "')");
  auto s = std::make_unique<SidecarFile>();
  s->location = d.location;
  const std::string whose =
      " (external data of initializer '" + PrintableName(d.name) + "' in " + path_ + ")";
  if (!sidecar_override.empty()) {
    s->path = s->resolved = sidecar_override;
  } else {
    const std::string dir = Dirname(path_);
    s->path = SidecarPath(path_, d.location);
    if (!RealPath(s->path, &s->resolved)) {
      // The model names a sidecar that is not there: the export is damaged (exit 1 for
      // inspect and verify), not a check that could not run.
      if (errno == ENOENT) return Status::Corruption(s->path + ": no such file" + whose);
      return ErrnoStatus(s->path, "cannot resolve" + whose, errno);
    }
    // ONNX Runtime's rule: the resolved sidecar lies in the folder the model was opened
    // from, or in the folder of the model file with its own symlinks resolved.
    std::string real_dir, real_model;
    if (!RealPath(dir, &real_dir)) return ErrnoStatus(dir, "cannot resolve", errno);
    if (!RealPath(path_, &real_model)) return ErrnoStatus(path_, "cannot resolve", errno);
    const std::string real_model_dir = Dirname(real_model);
    if (!Within(s->resolved, real_dir) && !Within(s->resolved, real_model_dir))
      return Status::Corruption(
          s->path + ": resolves to " + s->resolved + ", outside the model's folder " + real_dir +
          (real_model_dir != real_dir ? " and the folder of its file " + real_model_dir : "") + whose);
  }
  // Opens the resolved name, so what is read is the file that was judged. Its errors
  // ("<resolved>: not a regular file") are told about the name the user knows.
  Result<OpenedFile> f = OpenRegularFile(s->resolved);
  if (!f.ok()) {
    const std::string& msg = f.status().message();
    const std::string rest = msg.rfind(s->resolved, 0) == 0 ? msg.substr(s->resolved.size()) : ": " + msg;
    const std::string text = s->path + rest + whose;
    switch (f.status().code()) {
      case Status::Code::kNotFound:  // gone, or a folder, FIFO or device: a damaged export
      case Status::Code::kInvalidArgument:
        return Status::Corruption(text);
      default:
        return Status::IOError(text);
    }
  }
  s->fd = std::move(f->fd);
  s->size = f->size;
  sidecars_.push_back(std::move(s));
  return sidecars_.back().get();
}

Status LoadedModel::LoadFrom(const std::string& onnx_path, const std::string& sidecar_override) {
  for (const onnx::TensorProto& t : proto_.graph().initializer()) {
    InitializerData d;
    E2O_RETURN_IF_ERROR(DescribeInitializer(t, onnx_path, &d));
    if (inits_.count(d.name)) return Status::Corruption(About(onnx_path, d.name) + " appears twice");
    if (d.external) {
      E2O_ASSIGN_OR_RETURN(SidecarFile * s, SidecarFor(d, sidecar_override));
      if (d.offset > s->size || d.byte_size > s->size - d.offset)
        return Status::Corruption(About(s->path, d.name) + " at offset " + std::to_string(d.offset) +
                                  " with length " + std::to_string(d.byte_size) +
                                  " runs past the end of the file (" + std::to_string(s->size) + " bytes)");
      d.sidecar_fd = s->fd.get();
      d.sidecar_path = s->path;
    }
    inits_.emplace(d.name, std::move(d));
  }
  return Status::Ok();
}

Status LoadedModel::Open(const std::string& onnx_path, const std::string& sidecar_override,
                         std::unique_ptr<LoadedModel>* model) {
  model->reset();
  E2O_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(onnx_path, kMaxOnnxBytes));
  std::unique_ptr<LoadedModel> m(new LoadedModel());
  m->path_ = onnx_path;
  bool parsed;
  Status s = ParseAndCheck(bytes, onnx_path, &m->proto_, &parsed);
  if (s.ok()) s = m->LoadFrom(onnx_path, sidecar_override);
  if (parsed) *model = std::move(m);
  return s;
}

Status LoadedModel::LoadPartial(const std::string& onnx_path, std::unique_ptr<LoadedModel>* model) {
  return Open(onnx_path, "", model);
}

Result<std::unique_ptr<LoadedModel>> LoadedModel::Load(const std::string& onnx_path,
                                                       const std::string& sidecar_override) {
  std::unique_ptr<LoadedModel> m;
  E2O_RETURN_IF_ERROR(Open(onnx_path, sidecar_override, &m));
  return m;
}

}  // namespace embed2onnx
