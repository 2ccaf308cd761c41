#include "onnx/onnx_model.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

bool PlainFileName(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Checks an initializer's own fields and fills `d` (without sidecar information).
Status DescribeInitializer(const onnx::TensorProto& t, const std::string& where, InitializerData* d,
                           std::string* location) {
  d->name = t.name();
  d->elem_type = t.data_type();
  uint64_t elem = OnnxElemBytes(t.data_type());
  if (elem == 0)
    return Status::NotSupported(where + ": initializer '" + t.name() + "' has unsupported type " +
                                OnnxElemName(t.data_type()));
  uint64_t count = 1;
  for (int64_t dim : t.dims()) {
    if (dim < 0)
      return Status::Corruption(where + ": initializer '" + t.name() + "' has a negative dimension");
    if (dim != 0 && count > UINT64_MAX / static_cast<uint64_t>(dim))
      return Status::Corruption(where + ": initializer '" + t.name() +
                                "' has dimensions whose product overflows");
    count *= static_cast<uint64_t>(dim);
    d->dims.push_back(dim);
  }
  if (count > UINT64_MAX / elem)
    return Status::Corruption(where + ": initializer '" + t.name() + "' is too large");
  d->byte_size = count * elem;

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    d->external = true;
    bool have_loc = false, have_off = false, have_len = false;
    uint64_t length = 0;
    for (const auto& e : t.external_data()) {
      if (e.key() == "location") {
        have_loc = true;
        *location = e.value();
      } else if (e.key() == "offset") {
        have_off = ParseU64(e.value(), &d->offset);
        if (!have_off)
          return Status::Corruption(where + ": initializer '" + t.name() + "': bad offset '" + e.value() +
                                    "'");
      } else if (e.key() == "length") {
        have_len = ParseU64(e.value(), &length);
        if (!have_len)
          return Status::Corruption(where + ": initializer '" + t.name() + "': bad length '" + e.value() +
                                    "'");
      } else {
        return Status::Corruption(where + ": initializer '" + t.name() + "': external-data key '" + e.key() +
                                  "' is not one ONNX Runtime accepts (location, offset, length)");
      }
    }
    if (!have_loc || !PlainFileName(*location))
      return Status::Corruption(where + ": initializer '" + t.name() +
                                "': location must be a plain file name");
    if (!have_len || length != d->byte_size)
      return Status::Corruption(where + ": initializer '" + t.name() + "': external length " +
                                (have_len ? std::to_string(length) : std::string("missing")) + ", expected " +
                                std::to_string(d->byte_size));
    if (!have_off) d->offset = 0;
    return Status::Ok();
  }
  if (!t.has_raw_data())
    return Status::NotSupported(where + ": initializer '" + t.name() + "' stores data outside raw_data");
  if (t.raw_data().size() != d->byte_size)
    return Status::Corruption(where + ": initializer '" + t.name() + "' holds " +
                              std::to_string(t.raw_data().size()) + " bytes, expected " +
                              std::to_string(d->byte_size));
  d->raw = &t.raw_data();
  return Status::Ok();
}
}  // namespace

Status InitializerData::Read(uint64_t at, uint64_t n, void* out) const {
  if (at > byte_size || n > byte_size - at)
    return Status::InvalidArgument("initializer '" + name + "': read past its end");
  if (!external) {
    std::copy(raw->data() + at, raw->data() + at + n, static_cast<char*>(out));
    return Status::Ok();
  }
  return PReadFull(sidecar_fd, out, n, offset + at, sidecar_path);
}

Status ParseModelBytes(const std::string& bytes, const std::string& name, onnx::ModelProto* out) {
  if (!out->ParseFromString(bytes))
    return Status::Corruption(name + ": not a valid ONNX model (protobuf parse failed)");
  std::string location;
  for (const onnx::TensorProto& t : out->graph().initializer()) {
    InitializerData d;
    std::string loc;
    E2O_RETURN_IF_ERROR(DescribeInitializer(t, name, &d, &loc));
    if (d.external && !location.empty() && loc != location)
      return Status::Corruption(name + ": external data spread over several files ('" + location + "', '" +
                                loc + "')");
    if (d.external) location = loc;
  }
  return Status::Ok();
}

Result<std::unique_ptr<LoadedModel>> LoadedModel::Load(const std::string& onnx_path,
                                                       const std::string& sidecar_override) {
  std::unique_ptr<LoadedModel> m(new LoadedModel());
  m->path_ = onnx_path;
  E2O_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(onnx_path, kMaxOnnxBytes));
  E2O_RETURN_IF_ERROR(ParseModelBytes(bytes, onnx_path, &m->proto_));

  for (const onnx::TensorProto& t : m->proto_.graph().initializer()) {
    InitializerData d;
    std::string loc;
    E2O_RETURN_IF_ERROR(DescribeInitializer(t, onnx_path, &d, &loc));
    if (m->inits_.count(d.name))
      return Status::Corruption(onnx_path + ": initializer '" + d.name + "' appears twice");
    if (d.external && m->sidecar_fd_.get() < 0) {
      m->location_ = loc;
      m->sidecar_path_ = sidecar_override.empty() ? Dirname(onnx_path) + "/" + loc : sidecar_override;
      m->sidecar_fd_ = UniqueFd(::open(m->sidecar_path_.c_str(), O_RDONLY | O_CLOEXEC));
      if (m->sidecar_fd_.get() < 0) return ErrnoStatus(m->sidecar_path_, "cannot open external data", errno);
      struct stat st;
      if (::fstat(m->sidecar_fd_.get(), &st) != 0) return ErrnoStatus(m->sidecar_path_, "cannot stat", errno);
      m->sidecar_size_ = static_cast<uint64_t>(st.st_size);
    }
    if (d.external) {
      if (d.offset > m->sidecar_size_ || d.byte_size > m->sidecar_size_ - d.offset)
        return Status::Corruption(m->sidecar_path_ + ": initializer '" + d.name + "' at offset " +
                                  std::to_string(d.offset) + " with length " + std::to_string(d.byte_size) +
                                  " runs past the end of the file (" + std::to_string(m->sidecar_size_) +
                                  " bytes)");
      d.sidecar_fd = m->sidecar_fd_.get();
      d.sidecar_path = m->sidecar_path_;
    }
    m->inits_.emplace(d.name, std::move(d));
  }
  return m;
}

}  // namespace embed2onnx
