// The streaming parser's interface: event timing, regions, hostile input.
#include <catch2/catch.hpp>

#include "engine/dsml_parser.hpp"

using namespace dsv4::engine;

namespace {

ParsedMessage parse_in_chunks(std::string_view text, size_t chunk, DsmlOptions options) {
  ParsedMessageBuilder builder;
  DsmlParser parser(options, [&](const DsmlEvent& e) { builder(e); });
  for (size_t at = 0; at < text.size(); at += chunk) parser.feed(text.substr(at, chunk));
  parser.finish();
  return builder.result(parser);
}

}  // namespace

TEST_CASE("the parser reports where the next byte lands, for a grammar-aware sampler") {
  const std::string call =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
      "<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>";
  auto region_after = [&](std::string_view text, bool thinking) {
    DsmlParser parser(DsmlOptions{.thinking = thinking, .strict = false}, [](const DsmlEvent&) {});
    for (char ch : text) parser.feed(std::string_view(&ch, 1));
    return parser.region();
  };
  std::string thinking = "The user asks.</think>Sure." + call;
  CHECK(region_after(thinking.substr(0, 8), true) == DsmlRegion::reasoning);
  CHECK(region_after(thinking.substr(0, thinking.find("Sure") + 2), true) == DsmlRegion::content);
  CHECK(region_after(call.substr(0, call.find("get_w") + 5), false) == DsmlRegion::markup);
  CHECK(region_after(call.substr(0, call.find("Paris") + 2), false) == DsmlRegion::parameter_value);
  CHECK(region_after(call.substr(0, call.find("</｜DSML｜parameter") + 4), false) == DsmlRegion::parameter_value);
  CHECK(region_after(call.substr(0, call.find("</｜DSML｜invoke") + 2), false) == DsmlRegion::markup);
  CHECK(region_after(call, false) == DsmlRegion::done);
}

TEST_CASE("events arrive as soon as they are certain, and calls end only when closed") {
  std::vector<std::string> log;
  DsmlParser parser(DsmlOptions{.thinking = true, .strict = false}, [&](const DsmlEvent& e) {
    switch (e.kind) {
      case DsmlEventKind::reasoning: log.push_back("R:" + std::string(e.text)); break;
      case DsmlEventKind::content: log.push_back("C:" + std::string(e.text)); break;
      case DsmlEventKind::call_begin: log.push_back("B:" + std::string(e.text)); break;
      case DsmlEventKind::parameter: log.push_back("P:" + std::string(e.name) + "=" + std::string(e.text)); break;
      case DsmlEventKind::call_end: log.push_back("E:" + std::string(e.error)); break;
    }
  });
  parser.feed("think");
  CHECK(log == std::vector<std::string>{"R:think"});
  parser.feed("ing</thi");
  CHECK(log.back() == "R:ing");
  parser.feed("nk>Hi\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"ls\">\n<｜DSML｜parameter name=\"path\" string=\"true\">.");
  CHECK(log == std::vector<std::string>{"R:think", "R:ing", "C:Hi", "B:ls"});
  parser.feed("</｜DSML｜parameter>\n</｜DSML｜invoke>");
  CHECK(log.back() == "E:");
  CHECK(log[log.size() - 2] == "P:path=.");
  parser.feed("\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>");
  parser.finish();
  CHECK(parser.saw_eos());
  CHECK_FALSE(parser.truncated());
}

TEST_CASE("bytes that are not UTF-8, NULs and control characters pass through untouched") {
  std::string junk("caf\xe9 \xff\xfe\0x\x01<", 12);
  std::string text = "r" + junk + "</think>" + junk + "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"w\">\n"
                     "<｜DSML｜parameter name=\"v\" string=\"true\">" + junk + "</｜DSML｜parameter>\n"
                     "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>";
  for (bool strict : {true, false}) {
    for (size_t chunk : {size_t{1}, size_t{5}, text.size()}) {
      INFO("strict " << strict << ", chunk " << chunk);
      ParsedMessage m = parse_in_chunks(text, chunk, {.thinking = true, .strict = strict});
      CHECK(m.reasoning == "r" + junk);
      CHECK(m.content == junk);
      REQUIRE(m.tool_calls.size() == 1);
      CHECK(m.tool_calls[0].parameters.at(0).value == junk);
    }
  }
}

TEST_CASE("a multi-megabyte parameter value streams through in small chunks intact") {
  std::string value;
  for (int i = 0; value.size() < (4u << 20); ++i)
    value += "line " + std::to_string(i) + ": if (a < b && c > d) { s = \"</tag>\"; } <｜ not a tag\n";
  std::string text = "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"write_file\">\n"
                     "<｜DSML｜parameter name=\"content\" string=\"true\">" + value + "</｜DSML｜parameter>\n"
                     "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>";
  ParsedMessage m = parse_in_chunks(text, 7, {.thinking = false, .strict = true});
  REQUIRE(m.tool_calls.size() == 1);
  CHECK(m.tool_calls[0].parameters.at(0).value == value);
  CHECK(m.content.empty());
}

TEST_CASE("a strict failure stops the parser; later input is ignored") {
  DsmlParser parser({.thinking = false, .strict = true}, [](const DsmlEvent&) {});
  CHECK_THROWS_AS(parser.feed("a\n\n<｜DSML｜tool_calls>>"), DsmlError);
  CHECK(parser.region() == DsmlRegion::done);
  CHECK_NOTHROW(parser.feed("more"));
  CHECK_NOTHROW(parser.finish());
}

TEST_CASE("strict errors come in the reference's order: structure before special tokens") {
  auto kind_of = [](const std::string& text) {
    try {
      parse_in_chunks(text, 3, {.thinking = false, .strict = true});
    } catch (const DsmlError& e) {
      return e.kind() == DsmlError::Kind::format ? std::string("format") : std::string("structure");
    }
    return std::string("none");
  };
  const std::string bad_block =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"a\" =\"true\">1"
      "</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>";
  // The reference checks for special tokens in the content only after the block parsed.
  CHECK(kind_of("a</think>b" + bad_block) == "structure");
  CHECK(kind_of("a</think>b<｜end▁of▁sentence｜>") == "format");
  // A parameter whose name starts like the flag: the name's opening quote is not the flag's.
  CHECK(kind_of("\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\" string=\"false\">x"
                "</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>") == "structure");
}
