#include "engine/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "engine/tokenizer_bpe.hpp"
#include "engine/tokenizer_files.hpp"
#include "engine/tokenizer_pretokenize.hpp"
#include "engine/unicode_utf8.hpp"

namespace dsv4::engine {
namespace {

// Finds added tokens in raw text: leftmost match first, the longest one at that place
// (what both reference libraries do).
class AddedTokenMatcher {
 public:
  void add(std::string_view content, TokenId id) {
    size_t node = 0;
    for (char c : content) {
      const auto b = static_cast<uint8_t>(c);
      auto& children = nodes_[node].children;
      auto it = std::find_if(children.begin(), children.end(), [&](auto& e) { return e.first == b; });
      if (it == children.end()) {
        children.emplace_back(b, static_cast<uint32_t>(nodes_.size()));
        node = nodes_.size();
        nodes_.emplace_back();
      } else {
        node = it->second;
      }
    }
    nodes_[node].id = id;
    starts_[static_cast<uint8_t>(content[0])] = true;
  }

  struct Match {
    size_t pos = std::string_view::npos, len = 0;
    TokenId id = -1;
  };

  Match find(std::string_view text, size_t from) const {
    for (size_t pos = from; pos < text.size(); ++pos) {
      if (!starts_[static_cast<uint8_t>(text[pos])]) continue;
      Match m;
      size_t node = 0;
      for (size_t i = pos; i < text.size(); ++i) {
        const auto b = static_cast<uint8_t>(text[i]);
        const auto& children = nodes_[node].children;
        auto it = std::find_if(children.begin(), children.end(), [&](auto& e) { return e.first == b; });
        if (it == children.end()) break;
        node = it->second;
        if (nodes_[node].id >= 0) m = {pos, i + 1 - pos, nodes_[node].id};
      }
      if (m.id >= 0) return m;
    }
    return {};
  }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, uint32_t>> children;
    TokenId id = -1;
  };
  std::vector<Node> nodes_ = std::vector<Node>(1);
  std::array<bool, 256> starts_{};
};

// Token ids of pre-tokens seen before. Text repeats its words, so most pre-tokens are
// found here instead of running BPE again.
struct PieceCache {
  static constexpr size_t kMaxEntries = 1 << 18;
  static constexpr size_t kMaxPieceBytes = 256;  // longer pieces are rarely seen twice

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, Hash, std::equal_to<>> where;
  std::vector<TokenId> pool;  // the ids, where[piece] = {offset, count}
  std::mutex mutex;
};

}  // namespace

struct Tokenizer::Impl {
  std::vector<std::string> bytes_of;  // by id
  std::vector<uint8_t> special;       // by id
  BytePairEncoder bpe;
  AddedTokenMatcher added;
  std::unordered_map<std::string, TokenId> added_ids;
  std::optional<TokenId> bos, eos;
  bool add_bos = false, add_eos = false;
  mutable PieceCache cache;

  Impl(const std::array<TokenId, 256>& byte_ids, const std::vector<BpeMerge>& merges) : bpe(byte_ids, merges) {}

  void encode_piece(std::string_view piece, std::vector<TokenId>& out, PieceCache* c) const {
    if (piece.size() == 1 || !c || piece.size() > PieceCache::kMaxPieceBytes) {
      bpe.encode(piece, out);
      return;
    }
    if (auto it = c->where.find(piece); it != c->where.end()) {
      auto [offset, count] = it->second;
      out.insert(out.end(), c->pool.begin() + offset, c->pool.begin() + offset + count);
      return;
    }
    const size_t first = out.size();
    bpe.encode(piece, out);
    if (c->where.size() >= PieceCache::kMaxEntries) {
      c->where.clear();
      c->pool.clear();
    }
    c->where.emplace(piece, std::pair<uint32_t, uint32_t>(c->pool.size(), out.size() - first));
    c->pool.insert(c->pool.end(), out.begin() + first, out.end());
  }

  void encode_text(std::string_view text, std::vector<TokenId>& out, PieceCache* c) const {
    std::vector<size_t> ends;
    pretokenize(text, ends);
    size_t begin = 0;
    for (size_t end : ends) {
      encode_piece(text.substr(begin, end - begin), out, c);
      begin = end;
    }
  }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  TokenizerSpec spec = read_tokenizer_files(dir);
  const auto file = (dir / "tokenizer.json").string();

  std::unordered_map<std::string, TokenId> model_ids;
  for (size_t id = 0; id < spec.model_tokens.size(); ++id) {
    if (!spec.model_tokens[id].empty()) model_ids.emplace(spec.model_tokens[id], static_cast<TokenId>(id));
  }
  std::array<TokenId, 256> byte_ids;
  for (int b = 0; b < 256; ++b) {
    auto it = model_ids.find(std::string(1, static_cast<char>(b)));
    if (it == model_ids.end()) {
      throw std::runtime_error(file + ": the vocabulary has no token for byte " + std::to_string(b));
    }
    byte_ids[b] = it->second;
  }

  auto impl = std::make_unique<Impl>(byte_ids, spec.merges);
  impl->bytes_of = std::move(spec.model_tokens);
  for (const AddedTokenSpec& a : spec.added) {
    if (size_t(a.id) >= impl->bytes_of.size()) impl->bytes_of.resize(a.id + 1);
    impl->bytes_of[a.id] = a.content;
    impl->added.add(a.content, a.id);
    impl->added_ids[a.content] = a.id;
  }
  impl->special.assign(impl->bytes_of.size(), 0);
  for (const AddedTokenSpec& a : spec.added) impl->special[a.id] = a.special;

  auto id_of = [&](const std::string& content, const char* what) -> std::optional<TokenId> {
    if (content.empty()) return std::nullopt;
    if (auto it = impl->added_ids.find(content); it != impl->added_ids.end()) return it->second;
    if (auto it = model_ids.find(content); it != model_ids.end()) return it->second;
    throw std::runtime_error((dir / "tokenizer_config.json").string() + ": " + what + " '" + content +
                             "' is not a token of tokenizer.json");
  };
  impl->bos = id_of(spec.bos_token, "bos_token");
  impl->eos = id_of(spec.eos_token, "eos_token");
  impl->add_bos = spec.add_bos && impl->bos;
  impl->add_eos = spec.add_eos && impl->eos;
  return Tokenizer(std::move(impl));
}

std::vector<TokenId> Tokenizer::encode_impl(std::string_view text, bool added_tokens, bool add_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 2);
  if (add_special && impl_->add_bos) out.push_back(*impl_->bos);
  // The cache is shared; a caller that finds it busy goes on without it rather than wait.
  std::unique_lock lock(impl_->cache.mutex, std::try_to_lock);
  PieceCache* cache = lock.owns_lock() ? &impl_->cache : nullptr;
  size_t pos = 0;
  while (added_tokens && pos < text.size()) {
    const auto m = impl_->added.find(text, pos);
    if (m.id < 0) break;
    impl_->encode_text(text.substr(pos, m.pos - pos), out, cache);
    out.push_back(m.id);
    pos = m.pos + m.len;
  }
  impl_->encode_text(text.substr(pos), out, cache);
  if (add_special && impl_->add_eos) out.push_back(*impl_->eos);
  return out;
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special) const {
  return encode_impl(text, true, add_special);
}

std::vector<TokenId> Tokenizer::encode_ordinary(std::string_view text) const {
  return encode_impl(text, false, false);
}

std::string Tokenizer::decode_bytes(std::span<const TokenId> ids, bool skip_special) const {
  std::string out;
  for (TokenId id : ids) {
    if (skip_special && is_special(id)) continue;
    out.append(token_bytes(id));
  }
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
  return unicode::utf8_lossy(decode_bytes(ids, skip_special));
}

std::string_view Tokenizer::token_bytes(TokenId id) const {
  if (id < 0 || size_t(id) >= impl_->bytes_of.size()) return {};
  return impl_->bytes_of[id];
}

bool Tokenizer::is_special(TokenId id) const {
  return id >= 0 && size_t(id) < impl_->special.size() && impl_->special[id];
}

std::optional<TokenId> Tokenizer::added_token_id(std::string_view content) const {
  auto it = impl_->added_ids.find(std::string(content));
  if (it == impl_->added_ids.end()) return std::nullopt;
  return it->second;
}

std::optional<TokenId> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<TokenId> Tokenizer::eos_id() const { return impl_->eos; }
size_t Tokenizer::size() const { return impl_->bytes_of.size(); }

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(TokenId id) {
  if (skip_special_ && tokenizer_.is_special(id)) return {};
  pending_.append(tokenizer_.token_bytes(id));
  std::string text;
  pending_.erase(0, unicode::append_utf8_lossy(pending_, text, false));
  return text;
}

std::string StreamDecoder::finish() {
  std::string text = unicode::utf8_lossy(pending_);
  pending_.clear();
  return text;
}

}  // namespace dsv4::engine
