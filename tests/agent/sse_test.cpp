#include "agent/sse.hpp"

#include <catch2/catch.hpp>

using dsv4::agent::SseParser;

TEST_CASE("SSE events survive any split, CRLF line ends, comments and multi-line data",
          "[agent][sse]") {
  const std::string stream =
      ": keep-alive\r\n\r\n"
      "data: {\"a\":1}\r\n\r\n"
      "event: ignored\n"
      "data: first\n"
      "data: second\n\n"
      "id: 7\n"
      "data:no-space\n\n"
      "data: [DONE]\n\n";
  const std::vector<std::string> expected = {"{\"a\":1}", "first\nsecond", "no-space", "[DONE]"};
  for (size_t step : {1u, 2u, 3u, 5u, 1000u}) {
    INFO("pieces of " << step);
    std::vector<std::string> got;
    SseParser parser([&](std::string_view data) { got.emplace_back(data); });
    for (size_t i = 0; i < stream.size(); i += step)
      parser.feed(std::string_view(stream).substr(i, step));
    CHECK(got == expected);
    CHECK_FALSE(parser.pending());
  }
  std::vector<std::string> got;
  SseParser cut([&](std::string_view data) { got.emplace_back(data); });
  cut.feed("data: {\"half");
  CHECK(got.empty());
  CHECK(cut.pending());
}
