#include "agent/local_client.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "agent/local_turn.hpp"
#include "engine/chat_stream.hpp"
#include "engine/encoding.hpp"
#include "engine/forward.hpp"
#include "engine/forward_matmul.hpp"
#include "engine/generate.hpp"
#include "engine/model_weights.hpp"
#include "engine/tokenizer.hpp"

namespace dsv4::agent {

using OrderedJson = nlohmann::ordered_json;

namespace {

// "", "null" and JSON objects render as the model wrote them; anything else would make the
// encoder refuse the whole conversation, so it becomes one string parameter.
std::string renderable_arguments(const std::string& arguments) {
  if (arguments.empty()) return arguments;
  OrderedJson j = OrderedJson::parse(arguments, nullptr, false);
  if (!j.is_discarded() && (j.is_object() || j.is_null())) return arguments;
  return OrderedJson{{"arguments", arguments}}.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

engine::Message encoding_message(const Message& m) {
  engine::Message e;
  e.content = m.content;
  switch (m.role) {
    case Role::system:
      e.role = engine::Role::system;
      break;
    case Role::user:
      e.role = engine::Role::user;
      break;
    case Role::assistant:
      e.role = engine::Role::assistant;
      e.reasoning = m.reasoning_content.value_or("");
      for (const ToolCall& c : m.tool_calls) e.tool_calls.push_back({c.id, c.name, renderable_arguments(c.arguments)});
      break;
    case Role::tool:
      e.role = engine::Role::tool;
      e.tool_call_id = m.tool_call_id;
      break;
  }
  return e;
}

std::vector<int32_t> slice(const std::vector<int32_t>& v, size_t from, size_t to) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(to)};
}

}  // namespace

std::vector<engine::Message> encoding_messages(const ChatRequest& request) {
  std::vector<engine::Message> out;
  for (const Message& m : request.messages) out.push_back(encoding_message(m));
  const std::string& tools = request.tools_json;
  if (tools.empty()) return out;
  OrderedJson list = OrderedJson::parse(tools, nullptr, false);  // ordered: the schema text is the prompt
  if (list.is_discarded() || !list.is_array())
    throw std::invalid_argument("tools_json must be a JSON array of OpenAI tool objects");
  if (list.empty()) return out;
  if (out.empty() || out.front().role != engine::Role::system) {
    engine::Message system;
    system.role = engine::Role::system;  // no content: renders as the tools section alone
    out.insert(out.begin(), system);
  }
  for (const OrderedJson& tool : list) {
    auto fn = tool.is_object() ? tool.find("function") : tool.end();
    if (fn == tool.end() || !fn->is_object())
      throw std::invalid_argument("tools_json: each tool needs a 'function' object, got " + tool.dump());
    out.front().tools.push_back(fn->dump(-1, ' ', false, OrderedJson::error_handler_t::replace));
  }
  return out;
}

std::string render_prompt(const ChatRequest& request) {
  engine::EncodeOptions options = engine::chat_encode_options(thinking_name(request.thinking));
  return engine::encode_messages(encoding_messages(request), options);
}

// The in-memory prefix cache. `live` is the state after the last request (prompt and generated
// tokens); `snapshots` are copies taken while prefilling, at points a later request is likely to
// share even when it does not extend the last one:
//  * just after the prompt's last <｜Assistant｜>, before the <think> / </think> that opens the
//    answer. With drop_thinking on (no tools declared) the next user turn re-renders that opening
//    as </think> and drops the reasoning, so the prompt diverges exactly there; and when the
//    model's tokens are not how the tokenizer splits the re-rendered answer, the live state is no
//    prefix either, but this snapshot still is.
//  * just before the first <｜User｜>: system prompt and tools, shared by a compacted or edited
//    conversation.
// A DecodeState cannot be rolled back (the sliding window is a ring), hence copies; they are as
// large as the KV state, so only `max_snapshots` are kept, least recently used evicted.
struct LocalClient::Impl {
  struct Cached {
    std::vector<int32_t> tokens;  // what the state has consumed
    engine::DecodeState state;
    uint64_t used = 0;
  };

  LocalConfig config;
  std::unique_ptr<engine::ModelWeights> model;
  std::optional<engine::Tokenizer> tokenizer;
  std::optional<engine::TokenId> user_token, assistant_token;
  std::optional<Cached> live;
  std::vector<Cached> snapshots;
  uint64_t tick = 0;
  LastRequest last;

  // The state to continue from: the longest cached proper prefix of `prompt` (a proper prefix,
  // because the last prompt token must be fed to get the logits of the next).
  Cached start(const std::vector<int32_t>& prompt) {
    auto fits = [&](const Cached& c) {
      return c.tokens.size() < prompt.size() && std::equal(c.tokens.begin(), c.tokens.end(), prompt.begin());
    };
    Cached* best = nullptr;
    for (Cached& s : snapshots)
      if (fits(s) && (!best || s.tokens.size() > best->tokens.size())) best = &s;
    if (live && fits(*live) && (!best || live->tokens.size() > best->tokens.size())) {
      Cached c = std::move(*live);
      live.reset();
      return c;
    }
    if (!best) return {{}, engine::empty_state(model->config), 0};
    best->used = ++tick;
    return *best;
  }

  void remember(const std::vector<int32_t>& tokens, const engine::DecodeState& state) {
    for (Cached& s : snapshots)
      if (s.tokens == tokens) {
        s.used = ++tick;
        return;
      }
    snapshots.push_back({tokens, state, ++tick});
    while (static_cast<int>(snapshots.size()) > std::max(0, config.max_snapshots))
      snapshots.erase(std::min_element(snapshots.begin(), snapshots.end(),
                                       [](const Cached& a, const Cached& b) { return a.used < b.used; }));
  }

  // Where to take snapshots while feeding prompt[from:]: ascending, each in (from, size).
  std::vector<size_t> snapshot_points(const std::vector<int32_t>& prompt, size_t from) const {
    std::vector<size_t> points;
    if (user_token)
      if (auto it = std::find(prompt.begin(), prompt.end(), *user_token); it != prompt.end())
        points.push_back(static_cast<size_t>(it - prompt.begin()));
    if (assistant_token)
      if (auto it = std::find(prompt.rbegin(), prompt.rend(), *assistant_token); it != prompt.rend())
        points.push_back(static_cast<size_t>(prompt.rend() - it));
    std::vector<size_t> out;
    for (size_t p : points)
      if (p > from && p < prompt.size() && (out.empty() || p > out.back())) out.push_back(p);
    return out;
  }
};

LocalClient::LocalClient(LocalConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  const auto& dir = impl_->config.model_dir;
  if (impl_->config.threads > 0) engine::set_thread_count(impl_->config.threads);
  engine::Sampler check(impl_->config.sampling);  // throws std::invalid_argument on bad values
  if (!std::filesystem::exists(dir / "tokenizer.json"))
    throw std::runtime_error(dir.string() +
                             ": no tokenizer.json; copy tokenizer.json and tokenizer_config.json of "
                             "the model into the folder");
  impl_->tokenizer.emplace(engine::Tokenizer::load(dir));
  impl_->model = engine::load_model(dir);
  const size_t vocab = static_cast<size_t>(impl_->model->config.vocab_size);
  if (impl_->tokenizer->size() > vocab)
    throw std::runtime_error(dir.string() + ": the tokenizer has " + std::to_string(impl_->tokenizer->size()) +
                             " tokens but the model's vocabulary only " + std::to_string(vocab) +
                             "; they must come from the same model");
  impl_->user_token = impl_->tokenizer->added_token_id("<｜User｜>");
  impl_->assistant_token = impl_->tokenizer->added_token_id("<｜Assistant｜>");
}

LocalClient::~LocalClient() = default;

const LocalClient::LastRequest& LocalClient::last() const { return impl_->last; }

ChatResponse LocalClient::complete(const ChatRequest& request, const EventSink& sink) {
  Impl& im = *impl_;
  auto fail = [&](ModelError::Kind kind, const std::string& why) {
    if (sink) sink(text_event(StreamEventKind::error, why));
    return ModelError(kind, 0, why);
  };
  auto cancelled = [&] { return im.config.cancel && im.config.cancel->load(); };
  std::vector<int32_t> prompt;
  try {
    prompt = im.tokenizer->encode(render_prompt(request));
  } catch (const std::invalid_argument& e) {
    throw fail(ModelError::Kind::bad_request, std::string("cannot render the conversation: ") + e.what());
  }
  im.last = {prompt, {}};

  Impl::Cached start = im.start(prompt);
  const size_t reused = start.tokens.size();
  engine::DecodeState state = std::move(start.state);
  std::vector<int32_t> generated;
  // The live state is whatever the model consumed, also when a request stops half-way.
  auto keep_live = [&] {
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), generated.begin(), generated.end());
    all.resize(static_cast<size_t>(state.pos));
    im.live = Impl::Cached{std::move(all), std::move(state), 0};
  };

  const bool thinking = request.thinking != Thinking::off;
  LocalTurn turn(*im.tokenizer, thinking, sink);
  engine::GenerateOptions gen;
  gen.sampling = im.config.sampling;
  gen.max_tokens = request.max_tokens;
  if (auto eos = im.tokenizer->eos_id()) gen.stop_ids.push_back(*eos);
  engine::GenerateHooks hooks;
  hooks.on_token = [&](int32_t id) {
    generated.push_back(id);
    turn.push(id);
    return !cancelled();
  };
  hooks.force_greedy = [&] { return turn.force_greedy(); };
  try {
    size_t pos = reused;
    for (size_t point : im.snapshot_points(prompt, pos)) {
      if (cancelled()) break;
      engine::forward(*im.model, state, slice(prompt, pos, point), {.logits = false});
      pos = point;
      im.remember(slice(prompt, 0, point), state);
    }
    if (!cancelled() && request.max_tokens > 0)
      engine::generate(*im.model, state, slice(prompt, pos, prompt.size()), gen, hooks);
  } catch (const std::exception& e) {
    im.live.reset();  // the state may be half-updated
    throw fail(ModelError::Kind::unavailable, std::string("the local engine failed: ") + e.what());
  }
  keep_live();
  im.last.generated = generated;
  if (cancelled()) throw fail(ModelError::Kind::unavailable, "interrupted");

  ChatResponse r;
  r.message = turn.finish();
  r.finish_reason = turn.finish_reason();
  r.usage.input = static_cast<long>(prompt.size());
  r.usage.cache_hit = static_cast<long>(reused);
  r.usage.cache_miss = r.usage.input - r.usage.cache_hit;
  r.usage.output = static_cast<long>(generated.size());
  r.model = "local:" + im.config.model_dir.string();
  if (sink) sink({StreamEventKind::usage, "", 0, "", "", r.usage});
  if (sink) sink(text_event(StreamEventKind::finish, r.finish_reason));
  return r;
}

}  // namespace dsv4::agent
