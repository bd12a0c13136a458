#include "engine/kv_state.hpp"

#include <cstring>
#include <map>
#include <stdexcept>

namespace dsv4::engine {
namespace {

constexpr char kMagic[] = "DSV4-DECODE-STATE 1\n";

// Calls scalar(name, int64&) and array(name, vector<float>&, width, fixed_rows) for every field,
// in a fixed order; fixed_rows < 0 means "any number of rows". One walk serves writing and checking.
template <class State, class Scalar, class Array>
void visit(State& s, const ModelConfig& c, Scalar&& scalar, Array&& array) {
  scalar("pos", s.pos);
  scalar("mtp_pos", s.mtp_pos);
  auto layer = [&](const std::string& p, auto& L, int ratio) {
    array(p + ".window", L.window, c.head_dim, c.sliding_window);
    if (ratio) {
      const int width = ratio == 4 ? 2 * c.head_dim : c.head_dim;
      scalar(p + ".compressor.first_pos", L.compressor.first_pos);
      array(p + ".compressor.k", L.compressor.k, width, -1);
      array(p + ".compressor.g", L.compressor.g, width, -1);
      array(p + ".compressor.entries", L.compressor.entries, c.head_dim, -1);
    }
    if (ratio == 4) {
      scalar(p + ".index_compressor.first_pos", L.index_compressor.first_pos);
      array(p + ".index_compressor.k", L.index_compressor.k, 2 * c.index_head_dim, -1);
      array(p + ".index_compressor.g", L.index_compressor.g, 2 * c.index_head_dim, -1);
      array(p + ".index_compressor.entries", L.index_compressor.entries, c.index_head_dim, -1);
    }
  };
  for (int l = 0; l < c.num_layers; ++l) layer("layers." + std::to_string(l), s.layers[l], c.compress_ratio(l));
  if (c.num_mtp_layers) layer("mtp", s.mtp, c.compress_ratio(c.num_layers));
}

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

class In {
 public:
  explicit In(const std::string& b) : b_(b) {}
  template <class T>
  T get(const char* what) {
    T v;
    need(sizeof v, what);
    std::memcpy(&v, b_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string bytes(size_t n, const char* what) {
    need(n, what);
    std::string s = b_.substr(at_, n);
    at_ += n;
    return s;
  }
  bool done() const { return at_ == b_.size(); }

 private:
  void need(size_t n, const char* what) {
    if (b_.size() - at_ < n)
      throw std::runtime_error(std::string("decode state: truncated while reading ") + what + " at byte " + std::to_string(at_));
  }
  const std::string& b_;
  size_t at_ = 0;
};

}  // namespace

DecodeState empty_state(const ModelConfig& c) {
  DecodeState s;
  s.layers.resize(c.num_layers);
  for (auto& L : s.layers) L.window.assign(static_cast<size_t>(c.sliding_window) * c.head_dim, 0);
  if (c.num_mtp_layers) s.mtp.window.assign(static_cast<size_t>(c.sliding_window) * c.head_dim, 0);
  return s;
}

std::string serialize_state(const DecodeState& state) {
  // Every field is written under its name, whatever the layer type; the reader checks them
  // against the model's shape.
  std::string body;
  uint32_t count = 0;
  auto scalar = [&](const std::string& name, const int64_t& v) {
    put<uint16_t>(body, static_cast<uint16_t>(name.size()));
    body += name;
    put<uint8_t>(body, 0);
    put<int64_t>(body, v);
    ++count;
  };
  auto array = [&](const std::string& name, const std::vector<float>& v) {
    put<uint16_t>(body, static_cast<uint16_t>(name.size()));
    body += name;
    put<uint8_t>(body, 1);
    put<uint64_t>(body, v.size());
    body.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    ++count;
  };
  scalar("pos", state.pos);
  scalar("mtp_pos", state.mtp_pos);
  auto layer = [&](const std::string& p, const LayerState& L) {
    array(p + ".window", L.window);
    scalar(p + ".compressor.first_pos", L.compressor.first_pos);
    array(p + ".compressor.k", L.compressor.k);
    array(p + ".compressor.g", L.compressor.g);
    array(p + ".compressor.entries", L.compressor.entries);
    scalar(p + ".index_compressor.first_pos", L.index_compressor.first_pos);
    array(p + ".index_compressor.k", L.index_compressor.k);
    array(p + ".index_compressor.g", L.index_compressor.g);
    array(p + ".index_compressor.entries", L.index_compressor.entries);
  };
  for (size_t l = 0; l < state.layers.size(); ++l) layer("layers." + std::to_string(l), state.layers[l]);
  layer("mtp", state.mtp);
  std::string out = kMagic;
  put<uint32_t>(out, count);
  return out + body;
}

DecodeState deserialize_state(const std::string& bytes, const ModelConfig& c) {
  In in(bytes);
  if (in.bytes(sizeof kMagic - 1, "the magic line") != kMagic)
    throw std::runtime_error("decode state: not a dsv4 decode state (bad magic line)");
  const uint32_t count = in.get<uint32_t>("the array count");
  std::map<std::string, std::pair<int64_t, std::vector<float>>> fields;
  std::map<std::string, bool> is_scalar;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string name = in.bytes(in.get<uint16_t>("a name length"), "a name");
    const uint8_t kind = in.get<uint8_t>("a field kind");
    if (kind == 0) {
      fields[name].first = in.get<int64_t>("a scalar");
      is_scalar[name] = true;
    } else if (kind == 1) {
      const uint64_t n = in.get<uint64_t>("an array length");
      if (n > bytes.size() / 4) throw std::runtime_error("decode state: array '" + name + "' claims " + std::to_string(n) + " floats, more than the file holds");
      std::vector<float> v(n);
      const std::string raw = in.bytes(n * 4, name.c_str());
      std::memcpy(v.data(), raw.data(), raw.size());
      fields[name].second = std::move(v);
      is_scalar[name] = false;
    } else {
      throw std::runtime_error("decode state: field '" + name + "' has unknown kind " + std::to_string(kind));
    }
  }
  if (!in.done()) throw std::runtime_error("decode state: trailing bytes after the last field");

  DecodeState s = empty_state(c);
  std::map<std::string, bool> used;
  auto take = [&](const std::string& name, bool scalar) -> std::pair<int64_t, std::vector<float>>& {
    auto it = fields.find(name);
    if (it == fields.end() || is_scalar[name] != scalar)
      throw std::runtime_error("decode state: field '" + name + "' is missing; the state belongs to a different model shape");
    used[name] = true;
    return it->second;
  };
  visit(
      s, c, [&](const std::string& name, int64_t& v) { v = take(name, true).first; },
      [&](const std::string& name, std::vector<float>& v, int width, int rows) {
        std::vector<float>& src = take(name, false).second;
        if (src.size() % width || (rows >= 0 && src.size() != static_cast<size_t>(rows) * width))
          throw std::runtime_error("decode state: array '" + name + "' holds " + std::to_string(src.size()) +
                                   " floats, which does not fit rows of " + std::to_string(width) +
                                   "; the state belongs to a different model shape");
        v = std::move(src);
      });
  // Fields of layer types this model does not have must be empty (the writer emits every field).
  for (auto& [name, f] : fields)
    if (!used.count(name) && (is_scalar[name] ? f.first != 0 : !f.second.empty()))
      throw std::runtime_error("decode state: field '" + name + "' holds data this model's layers do not use");
  if (s.pos < 0 || s.mtp_pos < 0) throw std::runtime_error("decode state: negative position");
  return s;
}

size_t state_bytes(const DecodeState& s) {
  size_t n = 0;
  auto layer = [&](const LayerState& L) {
    n += L.window.size() + L.compressor.k.size() + L.compressor.g.size() + L.compressor.entries.size() +
         L.index_compressor.k.size() + L.index_compressor.g.size() + L.index_compressor.entries.size();
  };
  for (const auto& L : s.layers) layer(L);
  layer(s.mtp);
  return n * 4;
}

}  // namespace dsv4::engine
