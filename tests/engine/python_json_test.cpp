#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/python_json.hpp"

using dsv4::engine::python_json;
using Json = nlohmann::ordered_json;

// Expected texts come from CPython 3 json.dumps(value, ensure_ascii=False) on the same values.
TEST_CASE("python_json writes numbers as Python's json.dumps does") {
  Json numbers = Json::parse(
      "[1.0, 1e5, 1e16, 1.5e-7, 0.0001, -0.0, 2.50, 123456.789e3, 12345678901234567890, "
      "-9223372036854775808, 1e-5, 0.30000000000000004, 1e22, 5e-324, 1.7976931348623157e308, "
      "123.456, 100.0, 1e15, 9999999999999998.0]");
  CHECK(python_json(numbers) ==
        "[1.0, 100000.0, 1e+16, 1.5e-07, 0.0001, -0.0, 2.5, 123456789.0, 12345678901234567890, "
        "-9223372036854775808, 1e-05, 0.30000000000000004, 1e+22, 5e-324, 1.7976931348623157e+308, "
        "123.456, 100.0, 1000000000000000.0, 9999999999999998.0]");
}

TEST_CASE("python_json escapes only quotes, backslashes and control characters, and keeps key order") {
  Json value = Json::parse(R"({"a\"b\\c": "x\n\r\t\b\f\u0001\u001f\u007f\u00a0é😀", "k": [true, false, null, {}, []]})");
  CHECK(python_json(value) == "{\"a\\\"b\\\\c\": \"x\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\xc2\xa0é😀\", \"k\": [true, false, null, {}, []]}");
  Json ordered = Json::parse(R"({"z": 1, "a": 2, "m": {"y": 1, "b": 2}})");
  CHECK(python_json(ordered) == R"({"z": 1, "a": 2, "m": {"y": 1, "b": 2}})");
}
