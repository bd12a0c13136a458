#include "tools/binary_sniff.hpp"

#include "tools/utf8_text.hpp"

namespace dsv4::tools {
namespace {

struct Signature {
  std::string_view magic;
  std::string_view kind;
};

using namespace std::string_view_literals;

// Signatures that are binary even when the first bytes happen to be text-like.
constexpr Signature kSignatures[] = {
    {"\x89PNG\r\n\x1a\n"sv, "PNG image"},
    {"\xff\xd8\xff"sv, "JPEG image"},
    {"GIF87a"sv, "GIF image"},
    {"GIF89a"sv, "GIF image"},
    {"%PDF-"sv, "PDF document"},
    {"PK\x03\x04"sv, "ZIP archive"},
    {"\x1f\x8b"sv, "gzip data"},
    {"\xfd" "7zXZ\0"sv, "xz data"},
    {"7z\xbc\xaf\x27\x1c"sv, "7-zip archive"},
    {"\x28\xb5\x2f\xfd"sv, "zstd data"},
    {"\x7f" "ELF"sv, "ELF executable"},
    {"SQLite format 3\0"sv, "SQLite database"},
    {"\0asm"sv, "WebAssembly module"},
    {"\xca\xfe\xba\xbe"sv, "Java class or Mach-O binary"},
    {"\xcf\xfa\xed\xfe"sv, "Mach-O binary"},
    {"RIFF"sv, "RIFF media (WAV, AVI or WebP)"},
    {"\xff\xfe"sv, "UTF-16 text (little-endian)"},
    {"\xfe\xff"sv, "UTF-16 text (big-endian)"},
};

bool is_text_control(unsigned char c) {
  return c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '\b' ||
         c == 0x1b;
}

}  // namespace

std::optional<std::string> binary_kind(std::string_view head) {
  head = head.substr(0, kSniffBytes);
  for (const auto& s : kSignatures)
    if (head.starts_with(s.magic)) return std::string(s.kind);
  if (head.find('\0') != std::string_view::npos) return "binary data";
  size_t odd = 0;
  for (size_t i = 0; i < head.size();) {
    auto c = static_cast<unsigned char>(head[i]);
    size_t n = utf8_sequence_length(head, i);
    if (n == 0) {
      // A sequence cut by the end of `head` is not evidence of binary data.
      if (head.size() - i < 4 && c >= 0xC2) break;
      ++odd;
      ++i;
      continue;
    }
    if (c < 0x20 && !is_text_control(c)) ++odd;
    if (c == 0x7f) ++odd;
    i += n;
  }
  if (odd * 10 > head.size() * 3) return "binary data";
  return std::nullopt;
}

}  // namespace dsv4::tools
