#include "engine/model_cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "engine/chat.hpp"
#include "engine/cli_options.hpp"
#include "engine/chat_stream.hpp"
#include "engine/encoding.hpp"
#include "engine/forward.hpp"
#include "engine/forward_matmul.hpp"
#include "engine/generate.hpp"
#include "engine/model_synth.hpp"
#include "engine/tokenizer.hpp"

namespace dsv4::engine {
namespace {

constexpr const char* kLogitsUsage =
    "usage: dsv4 logits --model DIR --ids FILE --out FILE [--prefill N] [--mtp FILE] [--threads N]\n"
    "Runs the DeepSeek-V4 model in DIR (config.json + safetensors) on the token ids in FILE (a JSON\n"
    "array) and writes raw little-endian float32 logits [seq, vocab] to --out. Without --prefill\n"
    "it is one full pass; with --prefill N, N tokens are prefilled and the rest fed one at a time.\n"
    "--mtp FILE also writes the MTP layer's logits [seq-1, vocab] (row i predicts token i+2).\n";

constexpr const char* kSynthUsage =
    "usage: dsv4 model synth --config FILE --out DIR [--seed N] [--dtype f32|bf16|fp8|fp4-experts]\n"
    "                        [--tokenizer DIR]\n"
    "Writes a random-weight checkpoint of the DeepSeek-V4 shape in FILE (a config.json) to DIR, with\n"
    "the real checkpoint's tensor names; --dtype picks the storage (default f32; fp4-experts is the\n"
    "real checkpoint's layout). --tokenizer copies tokenizer.json and tokenizer_config.json from DIR.\n";

constexpr const char* kGenerateUsage =
    "usage: dsv4 generate --model DIR (-p PROMPT | --messages FILE) [--chat] [--thinking off|high|max]\n"
    "                     [-n N] [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--seed S]\n"
    "                     [--stop ID]... [--tokenizer DIR] [--threads N]\n"
    "Streams the generated text. --chat (implied by --messages) renders the prompt with the V4 chat\n"
    "encoding; inside DSML tool-call markup tokens are chosen greedily. Defaults: greedy, -n 256,\n"
    "stop at the tokenizer's EOS. The tokenizer is read from --tokenizer or else the model folder.\n";

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<int32_t> read_ids(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file + ": cannot open the token ids");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file + ": not valid JSON: " + e.what());
  }
  if (!j.is_array()) throw std::runtime_error(file + ": must hold a JSON array of token ids");
  std::vector<int32_t> ids;
  for (const auto& v : j) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
      throw std::runtime_error(file + ": entry " + std::to_string(ids.size()) + " (" + v.dump() + ") is not a token id");
    ids.push_back(v.get<int32_t>());
  }
  return ids;
}

// Writes through a temporary file and a rename, so a failed run never leaves half a file.
void write_floats(const std::string& file, const std::vector<float>& v) {
  const std::string tmp = file + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    if (!out.flush()) {
      std::remove(tmp.c_str());
      throw std::runtime_error(file + ": cannot write");
    }
  }
  std::filesystem::rename(tmp, file);
}

}  // namespace

int logits_command(const std::vector<std::string>& args) {
  bool help = false;
  std::map<std::string, std::string> o;
  try {
    o = parse_single_flags(args, {"--model", "--ids", "--out", "--prefill", "--mtp", "--threads"}, help);
    if (help) {
      std::cout << kLogitsUsage;
      return 0;
    }
    for (const char* need : {"--model", "--ids", "--out"})
      if (!o.count(need)) throw UsageError(std::string(need) + " is required");
    if (o.count("--threads")) set_thread_count(static_cast<int>(parse_count("--threads", o["--threads"])));
    if (o.count("--prefill")) parse_count("--prefill", o["--prefill"]);
  } catch (const UsageError& e) {
    std::cerr << "dsv4 logits: " << e.what() << "\n" << kLogitsUsage;
    return 2;
  }
  const std::vector<int32_t> ids = read_ids(o["--ids"]);
  const auto model = load_model(o["--model"]);
  const size_t seq = ids.size();
  const size_t prefill = o.count("--prefill") ? std::min<size_t>(seq, parse_count("--prefill", o["--prefill"])) : seq;
  DecodeState state = empty_state(model->config);
  const bool mtp = o.count("--mtp") != 0;
  ForwardRequest want;
  want.streams = mtp;
  std::vector<float> logits, streams;
  auto run = [&](std::vector<int32_t> chunk) {
    ForwardOutput r = forward(*model, state, chunk, want);
    logits.insert(logits.end(), r.logits.begin(), r.logits.end());
    streams.insert(streams.end(), r.streams.begin(), r.streams.end());
  };
  run(std::vector<int32_t>(ids.begin(), ids.begin() + prefill));
  for (size_t i = prefill; i < seq; ++i) run({ids[i]});
  write_floats(o["--out"], logits);
  if (mtp) {
    if (seq < 2) throw std::runtime_error("--mtp needs at least two token ids");
    std::vector<float> m = forward_mtp(*model, state, streams, std::vector<int32_t>(ids.begin() + 1, ids.end()));
    write_floats(o["--mtp"], m);
  }
  return 0;
}

int model_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "synth") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::cout << kSynthUsage;
      return 0;
    }
    std::cerr << "dsv4 model: expected 'synth'\n" << kSynthUsage;
    return 2;
  }
  bool help = false;
  std::map<std::string, std::string> o;
  SynthDtype dtype = SynthDtype::F32;
  uint64_t seed = 0;
  try {
    o = parse_single_flags(std::vector<std::string>(args.begin() + 1, args.end()), {"--config", "--out", "--seed", "--dtype", "--tokenizer"}, help);
    if (help) {
      std::cout << kSynthUsage;
      return 0;
    }
    for (const char* need : {"--config", "--out"})
      if (!o.count(need)) throw UsageError(std::string(need) + " is required");
    if (o.count("--dtype")) dtype = parse_synth_dtype(o["--dtype"]);
    if (o.count("--seed")) seed = static_cast<uint64_t>(parse_count("--seed", o["--seed"]));
  } catch (const std::invalid_argument& e) {
    std::cerr << "dsv4 model synth: " << e.what() << "\n" << kSynthUsage;
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "dsv4 model synth: " << e.what() << "\n" << kSynthUsage;
    return 2;
  }
  synth_model(o["--config"], o["--out"], seed, dtype);
  if (o.count("--tokenizer"))
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
      const std::filesystem::path src = std::filesystem::path(o["--tokenizer"]) / f;
      if (std::filesystem::exists(src))
        std::filesystem::copy_file(src, std::filesystem::path(o["--out"]) / f, std::filesystem::copy_options::overwrite_existing);
    }
  return 0;
}

int generate_command(const std::vector<std::string>& args) {
  bool help = false;
  std::multimap<std::string, std::string> o;
  GenerateOptions gen;
  auto one = [&](const std::string& k) { return o.find(k)->second; };
  try {
    o = parse_flags(args,
                    {"--model", "-p", "--messages", "--thinking", "-n", "--temperature", "--top-k", "--top-p", "--min-p",
                     "--seed", "--stop", "--tokenizer", "--threads"},
                    {"--chat"}, help);
    if (help) {
      std::cout << kGenerateUsage;
      return 0;
    }
    if (!o.count("--model")) throw UsageError("--model is required");
    if (o.count("-p") + o.count("--messages") != 1) throw UsageError("give exactly one of -p PROMPT and --messages FILE");
    if (o.count("-n")) gen.max_tokens = static_cast<int>(parse_count("-n", one("-n")));
    if (o.count("--temperature")) gen.sampling.temperature = parse_number("--temperature", one("--temperature"));
    if (o.count("--top-k")) gen.sampling.top_k = static_cast<int>(parse_count("--top-k", one("--top-k")));
    if (o.count("--top-p")) gen.sampling.top_p = parse_number("--top-p", one("--top-p"));
    if (o.count("--min-p")) gen.sampling.min_p = parse_number("--min-p", one("--min-p"));
    if (o.count("--seed")) gen.sampling.seed = static_cast<uint64_t>(parse_count("--seed", one("--seed")));
    for (auto [it, end] = o.equal_range("--stop"); it != end; ++it)
      gen.stop_ids.push_back(static_cast<int32_t>(parse_count("--stop", it->second)));
    if (o.count("--thinking") && one("--thinking") != "off" && one("--thinking") != "high" && one("--thinking") != "max")
      throw UsageError("--thinking must be off, high or max");
    if (o.count("--threads")) set_thread_count(static_cast<int>(parse_count("--threads", one("--threads"))));
    Sampler check(gen.sampling);
  } catch (const std::invalid_argument& e) {
    std::cerr << "dsv4 generate: " << e.what() << "\n" << kGenerateUsage;
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "dsv4 generate: " << e.what() << "\n" << kGenerateUsage;
    return 2;
  }
  const auto model = load_model(one("--model"));
  const Tokenizer tok = Tokenizer::load(o.count("--tokenizer") ? one("--tokenizer") : one("--model"));
  if (auto eos = tok.eos_id()) gen.stop_ids.push_back(*eos);
  const bool chat = o.count("--chat") || o.count("--messages");
  const std::string thinking = o.count("--thinking") ? one("--thinking") : "off";
  std::vector<int32_t> prompt;
  if (chat) {
    std::vector<Message> messages;
    if (o.count("--messages")) {
      messages = messages_from_json(slurp(one("--messages")));
    } else {
      Message m;
      m.content = one("-p");
      messages.push_back(m);
    }
    prompt = tok.encode(encode_messages(messages, chat_encode_options(thinking)));
  } else {
    prompt = tok.encode(one("-p"), true);
  }
  StreamDecoder plain(tok, /*skip_special=*/true);
  std::optional<ChatStream> stream;
  if (chat) stream.emplace(tok, thinking != "off", [](const DsmlEvent&) {});
  GenerateHooks hooks;
  hooks.on_token = [&](int32_t id) {
    std::cout << (stream ? stream->push(id) : plain.push(id)) << std::flush;
    return true;
  };
  if (chat) hooks.force_greedy = [&] { return stream->force_greedy(); };
  DecodeState state = empty_state(model->config);
  generate(*model, state, prompt, gen, hooks);
  std::cout << (stream ? stream->finish() : plain.finish()) << "\n";
  return 0;
}

}  // namespace dsv4::engine
