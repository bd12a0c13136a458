// Drives `dsv4 mcp` with hand-written protocol lines, including hostile ones.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using nlohmann::json;

namespace {

constexpr const char* kInit =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}})";
constexpr const char* kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

struct Session {
  std::vector<json> messages;
  std::string err;
  int exit_code;

  const json& by_id(const json& id) const {
    for (const auto& m : messages)
      if (m.contains("id") && m["id"] == id && !m.contains("method")) return m;
    FAIL("no response with id " << id.dump());
    throw std::logic_error("unreachable");
  }
  size_t count_id(const json& id) const {
    size_t n = 0;
    for (const auto& m : messages) n += m.contains("id") && m["id"] == id && !m.contains("method");
    return n;
  }
};

// Sends the lines, closes stdin, and parses every stdout line (each must be JSON-RPC).
Session talk(const std::vector<std::string>& lines, const std::vector<std::string>& flags = {},
             const std::filesystem::path& root = ".") {
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  std::vector<std::string> argv{DSV4_BINARY, "mcp", "--root", root.string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto r = dsv4::test::run(argv, ".", input);
  Session s{{}, r.err, r.exit_code};
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);) {
    json m = json::parse(line, nullptr, false);
    INFO("stdout line: " << line);
    REQUIRE_FALSE(m.is_discarded());
    REQUIRE(m["jsonrpc"] == "2.0");
    s.messages.push_back(m);
  }
  return s;
}

std::string request(int id, const std::string& method, const json& params) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

}  // namespace

TEST_CASE("initialize negotiates the protocol version") {
  auto s = talk({kInit,
                 request(1, "initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()}}),
                 request(2, "initialize", {{"protocolVersion", "1999-01-01"}, {"capabilities", json::object()}})});
  CHECK(s.exit_code == 0);
  CHECK(s.by_id(0)["result"]["protocolVersion"] == "2025-06-18");
  CHECK(s.by_id(0)["result"]["serverInfo"]["name"] == "dsv4");
  CHECK(s.by_id(0)["result"]["capabilities"].contains("tools"));
  CHECK(s.by_id(1)["result"]["protocolVersion"] == "2025-11-25");
  // An unknown version is answered with the newest one the server speaks.
  CHECK(s.by_id(2)["result"]["protocolVersion"] == "2025-11-25");
}

TEST_CASE("requests before initialize are refused, ping is not") {
  auto s = talk({request(1, "tools/list", json::object()), request(2, "ping", json::object())});
  CHECK(s.by_id(1)["error"]["code"] == -32600);
  CHECK_THAT(s.by_id(1)["error"]["message"].get<std::string>(), Catch::Contains("send 'initialize' first"));
  CHECK(s.by_id(2)["result"] == json::object());
}

TEST_CASE("malformed JSON gets a parse error and the server carries on") {
  auto s = talk({kInit, "{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": ", "\xff\xfe not utf8",
                 request(1, "ping", json::object())});
  size_t parse_errors = 0;
  for (const auto& m : s.messages)
    if (m.contains("error") && m["error"]["code"] == -32700) {
      ++parse_errors;
      CHECK(m["id"].is_null());
    }
  CHECK(parse_errors == 2);
  CHECK(s.by_id(1)["result"] == json::object());
}

TEST_CASE("unknown methods, wrong types and batches get the right JSON-RPC errors") {
  auto s = talk({kInit, kInitialized,
                 request(1, "resources/list", json::object()),
                 R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":[1,2]})",
                 R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})",
                 R"({"jsonrpc":"2.0","id":4,"method":42})",
                 R"({"jsonrpc":"1.0","id":5,"method":"ping"})",
                 request(6, "tools/call", json::object()),
                 request(7, "tools/call", {{"name", "no_such_tool"}}),
                 request(8, "tools/call", {{"name", "read_file"}, {"arguments", json::array()}}),
                 request(9, "tools/list", {{"cursor", "garbage"}}),
                 request(10, "logging/setLevel", {{"level", "chatty"}}),
                 R"([{"jsonrpc":"2.0","id":11,"method":"ping"}])"});
  CHECK(s.by_id(1)["error"]["code"] == -32601);
  CHECK(s.by_id(2)["error"]["code"] == -32602);
  CHECK(s.by_id(4)["error"]["code"] == -32600);
  CHECK(s.by_id(5)["error"]["code"] == -32600);
  CHECK(s.by_id(6)["error"]["code"] == -32602);
  CHECK(s.by_id(7)["error"]["code"] == -32602);
  CHECK_THAT(s.by_id(7)["error"]["message"].get<std::string>(), Catch::Contains("no_such_tool"));
  CHECK(s.by_id(8)["error"]["code"] == -32602);
  CHECK(s.by_id(9)["error"]["code"] == -32602);
  CHECK(s.by_id(10)["error"]["code"] == -32602);
  size_t null_id_invalid = 0;
  for (const auto& m : s.messages)
    null_id_invalid += m.contains("error") && m["id"].is_null() && m["error"]["code"] == -32600;
  CHECK(null_id_invalid == 2);  // the object id and the batch
}

TEST_CASE("huge and deeply nested messages are refused without a crash") {
  std::string huge = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" +
                     std::string(9u << 20, 'x') + "\"}}";
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto s = talk({kInit, huge, deep, request(2, "ping", json::object())});
  CHECK(s.count_id(1) == 0);
  size_t parse_errors = 0;
  for (const auto& m : s.messages) parse_errors += m.contains("error") && m["error"]["code"] == -32700;
  CHECK(parse_errors == 2);
  CHECK(s.by_id(2)["result"] == json::object());
}

TEST_CASE("tools/list pages with a cursor and carries annotations") {
  std::vector<std::string> lines{kInit, kInitialized, request(1, "tools/list", json::object())};
  auto first = talk(lines, {"--page-size", "3"});
  const json& page = first.by_id(1)["result"];
  REQUIRE(page["tools"].size() == 3);
  REQUIRE(page.contains("nextCursor"));
  auto all_tools = talk({kInit, request(1, "tools/list", json::object())}).by_id(1)["result"]["tools"];
  size_t with_output_schema = 0;
  for (const auto& tool : all_tools) with_output_schema += tool.contains("outputSchema");
  CHECK(with_output_schema >= 3);  // the tools whose results have a fixed shape
  for (const auto& tool : page["tools"]) {
    CHECK(tool["inputSchema"]["type"] == "object");
    CHECK(tool["annotations"].contains("readOnlyHint"));
    CHECK_FALSE(tool["description"].get<std::string>().empty());
  }
  // Walk all pages; together they are exactly the unpaged list.
  std::set<std::string> paged;
  json cursor = page["nextCursor"];
  for (const auto& t : page["tools"]) paged.insert(t["name"]);
  for (int id = 2; !cursor.is_null(); ++id) {
    auto next = talk({kInit, request(id, "tools/list", {{"cursor", cursor}})}, {"--page-size", "3"});
    const json& r = next.by_id(id)["result"];
    for (const auto& t : r["tools"]) CHECK(paged.insert(t["name"]).second);
    cursor = r.value("nextCursor", json());
  }
  auto all = talk({kInit, request(1, "tools/list", json::object())});
  CHECK(all.by_id(1)["result"]["tools"].size() == paged.size());
  CHECK_FALSE(all.by_id(1)["result"].contains("nextCursor"));
}

TEST_CASE("read-only mode hides every tool that writes or runs commands, a tool list filters") {
  auto s = talk({kInit, request(1, "tools/list", json::object()),
                 request(2, "tools/call", {{"name", "write_file"}, {"arguments", {{"path", "x"}, {"content", "y"}}}})},
                {"--read-only"});
  const json& tools = s.by_id(1)["result"]["tools"];
  REQUIRE(tools.size() > 0);
  for (const auto& t : tools) CHECK(t["annotations"]["readOnlyHint"] == true);
  CHECK(s.by_id(2)["error"]["code"] == -32602);

  auto only = talk({kInit, request(1, "tools/list", json::object())}, {"--tools", "read_file,git_status"});
  std::set<std::string> names;
  for (const auto& t : only.by_id(1)["result"]["tools"]) names.insert(t["name"]);
  CHECK(names == std::set<std::string>{"read_file", "git_status"});
}

TEST_CASE("tool failures are results with isError and a message, successes carry structuredContent") {
  dsv4::test::TempDir dir;
  dir.write("notes.txt", "first line\nsecond line\n");
  auto s = talk({kInit, kInitialized,
                 request(1, "tools/call", {{"name", "read_file"}, {"arguments", {{"path", "notes.txt"}}}}),
                 request(2, "tools/call", {{"name", "read_file"}, {"arguments", {{"path", "missing.txt"}}}}),
                 request(3, "tools/call", {{"name", "read_file"}, {"arguments", {{"path", "../outside"}}}}),
                 request(4, "tools/call", {{"name", "read_file"}, {"arguments", {{"pathh", "x"}}}})},
                {}, dir.path());
  const json& ok = s.by_id(1)["result"];
  CHECK(ok["isError"] == false);
  CHECK(ok["structuredContent"]["ok"] == true);
  CHECK_THAT(ok["content"][0]["text"].get<std::string>(), Catch::Contains("second line"));
  for (int id : {2, 3, 4}) {
    const json& bad = s.by_id(id)["result"];
    CHECK(bad["isError"] == true);
    CHECK_FALSE(bad.contains("structuredContent"));
    CHECK_FALSE(bad["content"][0]["text"].get<std::string>().empty());
  }
  CHECK_THAT(s.by_id(3)["result"]["content"][0]["text"].get<std::string>(), Catch::Contains("outside"));
  CHECK_THAT(s.by_id(4)["result"]["content"][0]["text"].get<std::string>(), Catch::Contains("pathh"));
}

TEST_CASE("a flood of concurrent calls gets exactly one answer each") {
  dsv4::test::TempDir dir;
  dir.write("a.txt", "hello\n");
  std::vector<std::string> lines{kInit, kInitialized};
  constexpr int kCalls = 400;
  for (int i = 1; i <= kCalls; ++i)
    lines.push_back(request(i, "tools/call", {{"name", "read_file"}, {"arguments", {{"path", "a.txt"}}}}));
  auto s = talk(lines, {}, dir.path());
  CHECK(s.exit_code == 0);
  int answered = 0, busy = 0;
  for (int i = 1; i <= kCalls; ++i) {
    REQUIRE(s.count_id(i) == 1);
    const json& m = s.by_id(i);
    if (m.contains("result")) {
      CHECK(m["result"]["isError"] == false);
      ++answered;
    } else {
      CHECK(m["error"]["code"] == -32000);
      ++busy;
    }
  }
  CHECK(answered + busy == kCalls);
  CHECK(answered >= 264);
}

TEST_CASE("the stateless 2026-07-28 revision works without initialize") {
  json meta{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
            {"io.modelcontextprotocol/clientCapabilities", json::object()}};
  json old_meta{{"io.modelcontextprotocol/protocolVersion", "2027-01-01"},
                {"io.modelcontextprotocol/clientCapabilities", json::object()}};
  auto s = talk({request(1, "server/discover", {{"_meta", meta}}),
                 request(2, "tools/list", {{"_meta", meta}}),
                 request(3, "tools/list", {{"_meta", old_meta}}),
                 request(4, "tools/call", {{"_meta", meta}, {"name", "read_file"}, {"arguments", {{"path", "nope"}}}})});
  const json& d = s.by_id(1)["result"];
  CHECK(d["resultType"] == "complete");
  CHECK(d["supportedVersions"][0] == "2026-07-28");
  CHECK(d["serverInfo"]["name"] == "dsv4");
  CHECK(d["capabilities"].contains("tools"));
  const json& list = s.by_id(2)["result"];
  CHECK(list["resultType"] == "complete");
  CHECK(list["tools"].size() > 0);
  CHECK(list["ttlMs"].is_number_integer());
  CHECK(list["cacheScope"] == "private");
  CHECK(s.by_id(3)["error"]["code"] == -32022);
  CHECK(s.by_id(3)["error"]["data"]["supported"][0] == "2026-07-28");
  CHECK(s.by_id(3)["error"]["data"]["requested"] == "2027-01-01");
  CHECK(s.by_id(4)["result"]["resultType"] == "complete");
  CHECK(s.by_id(4)["result"]["isError"] == true);
}

TEST_CASE("dsv4 mcp refuses bad flags with exit 2") {
  auto r = dsv4::test::run_dsv4({"mcp", "--bogus"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown argument '--bogus'"));
  CHECK(r.out.empty());
  auto missing = dsv4::test::run_dsv4({"mcp", "--root", "/definitely/not/here"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("/definitely/not/here"));
}

TEST_CASE("the sandbox flags reach the tools: --sandbox read-only refuses writes") {
  dsv4::test::TempDir dir;
  auto s = talk({kInit, request(1, "tools/call", {{"name", "write_file"}, {"arguments", {{"path", "x.txt"}, {"content", "y"}}}})},
                {"--sandbox", "read-only"}, dir.path());
  const json& r = s.by_id(1)["result"];
  CHECK(r["isError"] == true);
  CHECK_THAT(r["content"][0]["text"].get<std::string>(), Catch::Contains("read-only-mode"));
  CHECK_FALSE(std::filesystem::exists(dir / "x.txt"));

  auto bad = dsv4::test::run_dsv4({"mcp", "--sandbox", "bogus"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.empty());
}
