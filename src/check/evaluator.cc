#include "check/evaluator.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "numerics/half.h"
#include "onnx/graph_util.h"

namespace embed2onnx {

namespace {
using TP = onnx::TensorProto;
constexpr uint64_t kMaxMaterialize = 512ull << 20;

uint64_t Product(const std::vector<int64_t>& dims, size_t from = 0) {
  uint64_t p = 1;
  for (size_t i = from; i < dims.size(); ++i) p *= static_cast<uint64_t>(dims[i]);
  return p;
}

bool IsFloatType(int32_t t) {
  return t == TP::FLOAT || t == TP::FLOAT16 || t == TP::BFLOAT16 || t == TP::DOUBLE;
}
bool IsIntType(int32_t t) {
  return t == TP::INT8 || t == TP::UINT8 || t == TP::INT16 || t == TP::UINT16 || t == TP::INT32 ||
         t == TP::INT64;
}

float LoadFloat(int32_t t, const uint8_t* p) {
  uint16_t h;
  switch (t) {
    case TP::FLOAT: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case TP::FLOAT16:
      std::memcpy(&h, p, 2);
      return HalfToFloat(h);
    case TP::BFLOAT16:
      std::memcpy(&h, p, 2);
      return Bf16ToFloat(h);
    case TP::DOUBLE: {
      double d;
      std::memcpy(&d, p, 8);
      return static_cast<float>(d);
    }
  }
  return 0.0f;
}

int64_t LoadInt(int32_t t, const uint8_t* p) {
  switch (t) {
    case TP::INT8:
      return static_cast<int8_t>(*p);
    case TP::UINT8:
      return *p;
    case TP::INT16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case TP::UINT16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case TP::INT32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case TP::INT64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
  return 0;
}

void StoreFloat(int32_t t, float f, uint8_t* p) {
  uint16_t h;
  switch (t) {
    case TP::FLOAT:
      std::memcpy(p, &f, 4);
      return;
    case TP::FLOAT16:
      h = FloatToHalf(f);
      std::memcpy(p, &h, 2);
      return;
    case TP::BFLOAT16:
      h = FloatToBf16(f);
      std::memcpy(p, &h, 2);
      return;
    case TP::DOUBLE: {
      double d = f;
      std::memcpy(p, &d, 8);
      return;
    }
  }
}

void StoreInt(int32_t t, int64_t v, uint8_t* p) {
  switch (t) {
    case TP::INT8:
    case TP::UINT8:
      *p = static_cast<uint8_t>(v);
      return;
    case TP::INT16:
    case TP::UINT16: {
      uint16_t x = static_cast<uint16_t>(v);
      std::memcpy(p, &x, 2);
      return;
    }
    case TP::INT32: {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(p, &x, 4);
      return;
    }
    case TP::INT64:
      std::memcpy(p, &v, 8);
      return;
  }
}

// Converts n elements from type `from` to type `to`, as ONNX Cast does.
void CastElements(int32_t from, const uint8_t* src, int32_t to, uint8_t* dst, uint64_t n) {
  const uint32_t fb = OnnxElemBytes(from), tb = OnnxElemBytes(to);
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t* s = src + i * fb;
    uint8_t* d = dst + i * tb;
    if (IsFloatType(to)) {
      StoreFloat(to, IsFloatType(from) ? LoadFloat(from, s) : static_cast<float>(LoadInt(from, s)), d);
    } else {
      StoreInt(to, IsFloatType(from) ? static_cast<int64_t>(LoadFloat(from, s)) : LoadInt(from, s), d);
    }
  }
}

// A value flowing through the graph: a tensor in memory, or an initializer still on
// disk with the casts to apply once rows are read.
struct Value {
  bool lazy = false;
  HostTensor t;
  const InitializerData* init = nullptr;
  std::vector<int32_t> casts;
  int32_t elem_type() const { return lazy ? (casts.empty() ? init->elem_type : casts.back()) : t.elem_type; }
  const std::vector<int64_t>& dims() const { return lazy ? init->dims : t.dims; }
};

// Reads `count` elements starting at element `first` of a lazy value, casts applied.
Status ReadLazy(const Value& v, uint64_t first, uint64_t count, std::vector<uint8_t>* out) {
  int32_t type = v.init->elem_type;
  std::vector<uint8_t> buf(count * OnnxElemBytes(type));
  E2O_RETURN_IF_ERROR(v.init->Read(first * OnnxElemBytes(type), buf.size(), buf.data()));
  for (int32_t to : v.casts) {
    std::vector<uint8_t> next(count * OnnxElemBytes(to));
    CastElements(type, buf.data(), to, next.data(), count);
    buf.swap(next);
    type = to;
  }
  *out = std::move(buf);
  return Status::Ok();
}

Result<HostTensor> Materialize(const Value& v, const std::string& where) {
  if (!v.lazy) return v.t;
  uint64_t n = Product(v.init->dims);
  if (n * OnnxElemBytes(v.elem_type()) > kMaxMaterialize)
    return Status::NotSupported(where + ": needs all of initializer '" + v.init->name +
                                "' in memory; the verifier only reads the rows a Gather selects");
  HostTensor t;
  t.elem_type = v.elem_type();
  t.dims = v.init->dims;
  E2O_RETURN_IF_ERROR(ReadLazy(v, 0, n, &t.data));
  return t;
}

int64_t GetIntAttr(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return def;
}
std::string GetStringAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.s();
  return "";
}

Result<std::vector<int64_t>> IntValues(const HostTensor& t, const std::string& where) {
  if (!IsIntType(t.elem_type)) return Status::Corruption(where + ": expected an integer tensor");
  std::vector<int64_t> v(t.count());
  for (uint64_t i = 0; i < v.size(); ++i)
    v[i] = LoadInt(t.elem_type, t.data.data() + i * OnnxElemBytes(t.elem_type));
  return v;
}

Result<HostTensor> Gather(const Value& data, const HostTensor& indices, int64_t axis,
                          const std::string& where) {
  const std::vector<int64_t>& dims = data.dims();
  int64_t rank = static_cast<int64_t>(dims.size());
  if (axis < 0) axis += rank;
  if (rank == 0 || axis < 0 || axis >= rank) return Status::Corruption(where + ": Gather axis out of range");
  E2O_ASSIGN_OR_RETURN(std::vector<int64_t> idx, IntValues(indices, where));
  const int64_t extent = dims[axis];
  for (int64_t& i : idx) {
    if (i < -extent || i >= extent)
      return Status::InvalidArgument(where + ": index " + std::to_string(i) + " is out of range [" +
                                     std::to_string(-extent) + ", " + std::to_string(extent - 1) + "]");
    if (i < 0) i += extent;
  }
  HostTensor out;
  out.elem_type = data.elem_type();
  out.dims.assign(dims.begin(), dims.begin() + axis);
  out.dims.insert(out.dims.end(), indices.dims.begin(), indices.dims.end());
  out.dims.insert(out.dims.end(), dims.begin() + axis + 1, dims.end());
  const uint64_t eb = OnnxElemBytes(out.elem_type);
  const uint64_t inner = Product(dims, axis + 1),
                 outer = Product(std::vector<int64_t>(dims.begin(), dims.begin() + axis));
  out.data.resize(outer * idx.size() * inner * eb);
  if (data.lazy && axis == 0) {
    std::vector<uint8_t> row;
    for (size_t k = 0; k < idx.size(); ++k) {
      E2O_RETURN_IF_ERROR(ReadLazy(data, static_cast<uint64_t>(idx[k]) * inner, inner, &row));
      std::memcpy(out.data.data() + k * inner * eb, row.data(), row.size());
    }
    return out;
  }
  E2O_ASSIGN_OR_RETURN(HostTensor src, Materialize(data, where));
  uint8_t* o = out.data.data();
  for (uint64_t a = 0; a < outer; ++a)
    for (int64_t i : idx) {
      const uint8_t* s = src.data.data() + ((a * extent + i) * inner) * eb;
      std::memcpy(o, s, inner * eb);
      o += inner * eb;
    }
  return out;
}

// numpy-style broadcasting of an elementwise binary op.
template <typename Op>
Result<HostTensor> Broadcast(const HostTensor& a, const HostTensor& b, const std::string& where, Op op) {
  if (a.elem_type != b.elem_type) return Status::Corruption(where + ": operand types differ");
  size_t rank = std::max(a.dims.size(), b.dims.size());
  std::vector<int64_t> da(rank, 1), db(rank, 1), dout(rank);
  std::copy(a.dims.begin(), a.dims.end(), da.begin() + (rank - a.dims.size()));
  std::copy(b.dims.begin(), b.dims.end(), db.begin() + (rank - b.dims.size()));
  for (size_t i = 0; i < rank; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1)
      return Status::Corruption(where + ": shapes do not broadcast");
    dout[i] = da[i] == 1 ? db[i] : da[i];
  }
  HostTensor out;
  out.elem_type = a.elem_type;
  out.dims = dout;
  const uint32_t eb = OnnxElemBytes(a.elem_type);
  const uint64_t n = Product(dout);
  out.data.resize(n * eb);
  std::vector<int64_t> pos(rank, 0);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t ia = 0, ib = 0;
    for (size_t k = 0; k < rank; ++k) {
      ia = ia * da[k] + (da[k] == 1 ? 0 : pos[k]);
      ib = ib * db[k] + (db[k] == 1 ? 0 : pos[k]);
    }
    op(a.data.data() + ia * eb, b.data.data() + ib * eb, out.data.data() + i * eb);
    for (size_t k = rank; k-- > 0;) {
      if (++pos[k] < dout[k]) break;
      pos[k] = 0;
    }
  }
  return out;
}

Result<HostTensor> Arithmetic(const std::string& op, const HostTensor& a, const HostTensor& b,
                              const onnx::NodeProto& node, const std::string& where) {
  const int32_t t = a.elem_type;
  if (op == "Mul" || op == "Add" || op == "Sub") {
    if (IsFloatType(t)) {
      return Broadcast(a, b, where, [t, &op](const uint8_t* x, const uint8_t* y, uint8_t* z) {
        float fx = LoadFloat(t, x), fy = LoadFloat(t, y);
        StoreFloat(t, op == "Mul" ? fx * fy : op == "Add" ? fx + fy : fx - fy, z);
      });
    }
    return Broadcast(a, b, where, [t, &op](const uint8_t* x, const uint8_t* y, uint8_t* z) {
      int64_t ix = LoadInt(t, x), iy = LoadInt(t, y);
      StoreInt(t, op == "Mul" ? ix * iy : op == "Add" ? ix + iy : ix - iy, z);
    });
  }
  if (!IsIntType(t)) return Status::Corruption(where + ": " + op + " needs integer operands");
  if (op == "BitwiseAnd")
    return Broadcast(a, b, where, [t](const uint8_t* x, const uint8_t* y, uint8_t* z) {
      StoreInt(t, LoadInt(t, x) & LoadInt(t, y), z);
    });
  bool right = GetStringAttr(node, "direction") == "RIGHT";
  const uint32_t bits = OnnxElemBytes(t) * 8;
  return Broadcast(a, b, where, [t, right, bits](const uint8_t* x, const uint8_t* y, uint8_t* z) {
    uint64_t v = static_cast<uint64_t>(LoadInt(t, x)), s = static_cast<uint64_t>(LoadInt(t, y));
    StoreInt(t, s >= bits ? 0 : static_cast<int64_t>(right ? v >> s : v << s), z);
  });
}
Result<HostTensor> Concat(const std::vector<HostTensor>& parts, int64_t axis, const std::string& where) {
  if (parts.empty()) return Status::Corruption(where + ": Concat without inputs");
  const std::vector<int64_t>& d0 = parts[0].dims;
  int64_t rank = static_cast<int64_t>(d0.size());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return Status::Corruption(where + ": Concat axis out of range");
  HostTensor out;
  out.elem_type = parts[0].elem_type;
  out.dims = d0;
  out.dims[axis] = 0;
  for (const HostTensor& p : parts) {
    bool same = p.elem_type == out.elem_type && p.dims.size() == d0.size();
    for (int64_t i = 0; same && i < rank; ++i) same = i == axis || p.dims[i] == d0[i];
    if (!same) return Status::Corruption(where + ": Concat inputs differ in type or shape");
    out.dims[axis] += p.dims[axis];
  }
  const uint64_t eb = OnnxElemBytes(out.elem_type);
  const uint64_t outer = Product(std::vector<int64_t>(d0.begin(), d0.begin() + axis));
  out.data.resize(out.count() * eb);
  uint8_t* o = out.data.data();
  for (uint64_t a = 0; a < outer; ++a)
    for (const HostTensor& p : parts) {
      uint64_t chunk = Product(p.dims, axis) * eb;
      std::memcpy(o, p.data.data() + a * chunk, chunk);
      o += chunk;
    }
  return out;
}
}  // namespace

uint64_t HostTensor::count() const { return Product(dims); }

HostTensor MakeIdsTensor(const std::vector<int64_t>& ids, int64_t rows, int64_t cols) {
  HostTensor t;
  t.elem_type = TP::INT64;
  t.dims = {rows, cols};
  t.data.resize(ids.size() * 8);
  std::memcpy(t.data.data(), ids.data(), t.data.size());
  return t;
}

Result<HostTensor> EvaluateLookup(const LoadedModel& model, const HostTensor& input_ids) {
  const onnx::GraphProto& g = model.proto().graph();
  const std::string& path = model.path();
  std::map<std::string, Value> values;
  for (const auto& [name, init] : model.initializers()) {
    Value v;
    v.lazy = true;
    v.init = &init;
    values[name] = v;
  }
  if (g.input_size() < 1) return Status::Corruption(path + ": graph has no input");
  values[g.input(0).name()].lazy = false;
  values[g.input(0).name()].t = input_ids;

  for (const onnx::NodeProto& node : g.node()) {
    const std::string where = path + ": node '" + node.name() + "' (" + node.op_type() + ")";
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return Status::NotSupported(where + ": domain '" + node.domain() + "' is not ai.onnx");
    std::vector<const Value*> in;
    for (const std::string& name : node.input()) {
      auto it = values.find(name);
      if (it == values.end())
        return Status::Corruption(where + ": input '" + name + "' is not defined before use");
      in.push_back(&it->second);
    }
    if (node.output_size() != 1) return Status::NotSupported(where + ": expected one output");
    if (node.op_type() == "Concat" && !in.empty()) {
      std::vector<HostTensor> parts;
      for (const Value* v : in) {
        E2O_ASSIGN_OR_RETURN(HostTensor t, Materialize(*v, where));
        parts.push_back(std::move(t));
      }
      Value out;
      E2O_ASSIGN_OR_RETURN(out.t, Concat(parts, GetIntAttr(node, "axis", 0), where));
      values[node.output(0)] = std::move(out);
      continue;
    }
    auto need = [&](int n) { return static_cast<int>(in.size()) == n; };
    const std::string& op = node.op_type();
    Value out;
    if (op == "Gather" && need(2)) {
      E2O_ASSIGN_OR_RETURN(HostTensor idx, Materialize(*in[1], where));
      E2O_ASSIGN_OR_RETURN(out.t, Gather(*in[0], idx, GetIntAttr(node, "axis", 0), where));
    } else if (op == "Cast" && need(1)) {
      int32_t to = static_cast<int32_t>(GetIntAttr(node, "to", 0));
      if (OnnxElemBytes(to) == 0) return Status::NotSupported(where + ": cast to " + OnnxElemName(to));
      if (in[0]->lazy) {
        out = *in[0];
        out.casts.push_back(to);
      } else {
        out.t.elem_type = to;
        out.t.dims = in[0]->t.dims;
        out.t.data.resize(in[0]->t.count() * OnnxElemBytes(to));
        CastElements(in[0]->t.elem_type, in[0]->t.data.data(), to, out.t.data.data(), in[0]->t.count());
      }
    } else if ((op == "Unsqueeze" || op == "Reshape") && need(2)) {
      E2O_ASSIGN_OR_RETURN(out.t, Materialize(*in[0], where));
      E2O_ASSIGN_OR_RETURN(HostTensor arg, Materialize(*in[1], where));
      E2O_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntValues(arg, where));
      std::vector<int64_t> dims = out.t.dims;
      if (op == "Unsqueeze") {
        int64_t rank = static_cast<int64_t>(dims.size() + v.size());
        for (int64_t& a : v) a = a < 0 ? a + rank : a;
        std::sort(v.begin(), v.end());
        for (int64_t a : v) {
          if (a < 0 || a > static_cast<int64_t>(dims.size())) return Status::Corruption(where + ": bad axis");
          dims.insert(dims.begin() + a, 1);
        }
      } else {
        int64_t known = 1, infer = -1;
        for (size_t i = 0; i < v.size(); ++i) {
          if (v[i] == 0 && i < dims.size()) v[i] = dims[i];
          if (v[i] == -1)
            infer = static_cast<int64_t>(i);
          else
            known *= v[i];
        }
        if (infer >= 0 && known > 0) v[infer] = static_cast<int64_t>(out.t.count()) / known;
        dims = v;
      }
      if (Product(dims) != out.t.count())
        return Status::Corruption(where + ": shape does not match element count");
      out.t.dims = dims;
    } else if ((op == "Mul" || op == "Add" || op == "Sub" || op == "BitShift" || op == "BitwiseAnd") &&
               need(2)) {
      E2O_ASSIGN_OR_RETURN(HostTensor a, Materialize(*in[0], where));
      E2O_ASSIGN_OR_RETURN(HostTensor b, Materialize(*in[1], where));
      E2O_ASSIGN_OR_RETURN(out.t, Arithmetic(op, a, b, node, where));
    } else {
      return Status::NotSupported(where + ": op or input count not supported by the verifier");
    }
    values[node.output(0)] = std::move(out);
  }
  if (g.output_size() != 1) return Status::Corruption(path + ": graph must have exactly one output");
  auto it = values.find(g.output(0).name());
  if (it == values.end())
    return Status::Corruption(path + ": output '" + g.output(0).name() + "' is never produced");
  return Materialize(it->second, path);
}

}  // namespace embed2onnx
