#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "engine/forward_kernels.hpp"
#include "engine/forward_matmul.hpp"
#include "engine/safetensors.hpp"
#include "tests/engine/golden_v4.hpp"
#include "tests/engine/safetensors_writer.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dsv4::engine;

namespace {

// The fused kernel against expand-then-dot in double precision, at every kernel level the CPU has.
void check_rows_at_level(const Linear& w, float x_scale);
void check_rows(const Linear& w, float x_scale = 1) {
  for (KernelLevel level : kKernelLevels) {
    if (level > best_kernel_level()) continue;
    set_kernel_level(level);
    INFO("kernels " << kernel_level_name(level));
    check_rows_at_level(w, x_scale);
  }
  set_kernel_level(best_kernel_level());
}

void check_rows_at_level(const Linear& w, float x_scale) {
  std::vector<float> x(w.in), row(w.in);
  for (int k = 0; k < w.in; ++k) x[k] = (std::sin(0.37f * k) + 0.1f) * x_scale;
  for (int r = 0; r < w.out; ++r) {
    w.dequantize_row(r, row.data());
    double want = 0, mag = 0;
    for (int k = 0; k < w.in; ++k) {
      want += static_cast<double>(row[k]) * x[k];
      mag += std::fabs(static_cast<double>(row[k]) * x[k]);
    }
    INFO("row " << r << " format " << weight_format_name(w.format));
    CHECK(std::fabs(row_dot(w, r, x.data()) - want) <= 1e-5 * mag + 1e-30);
  }
}

// Every row of y = W x (rows [b, e), the n tokens of x) against dequantize_row and a
// double-precision sum, within 1e-5 of the sum of |products| plus `floor`.
void check_matmul(const Linear& w, const std::vector<float>& x, int n, int b, int e, double floor) {
  std::vector<float> y(static_cast<size_t>(n) * (e - b), NAN), row(w.in);
  matmul(w, x.data(), n, y.data(), b, e);
  for (int r = b; r < e; ++r) {
    w.dequantize_row(r, row.data());
    for (int t = 0; t < n; ++t) {
      double want = 0, mag = 0;
      for (int k = 0; k < w.in; ++k) {
        want += static_cast<double>(row[k]) * x[static_cast<size_t>(t) * w.in + k];
        mag += std::fabs(static_cast<double>(row[k]) * x[static_cast<size_t>(t) * w.in + k]);
      }
      INFO(weight_format_name(w.format) << " [" << w.out << ", " << w.in << "] n " << n << " row " << r << " token " << t);
      REQUIRE(std::fabs(y[static_cast<size_t>(t) * (e - b) + r - b] - want) <= 1e-5 * mag + floor);
    }
  }
}

}  // namespace

TEST_CASE("kernels: fused dequantize-dot equals expanding the row, for every case4 format") {
  Checkpoint ck = Checkpoint::open(dsv4::test::golden_v4_dir("case4_quantized_checkpoint"));
  check_rows(load_linear(ck, "layers.0.attn.wq_a", 160, 192));             // FP8, partial blocks
  check_rows(load_linear(ck, "layers.2.attn.wo_b", 192, 160));             // FP8
  check_rows(load_linear(ck, "layers.0.ffn.experts.3.w2", 192, 160));      // FP4
  check_rows(load_linear(ck, "embed", 512, 192));                          // BF16
  Checkpoint f32 = Checkpoint::open(dsv4::test::golden_v4_dir("case1_mixed_yarn"));
  check_rows(load_linear(f32, "layers.1.attn.wq_b", 128, 32));             // F32
}

TEST_CASE("kernels: tiny activations keep their precision") {
  // FP8 weights enter the products as 2^-120 times their value; activations of 1e-6 would put
  // those products among float32's subnormals, where they keep only a few bits.
  Checkpoint ck = Checkpoint::open(dsv4::test::golden_v4_dir("case4_quantized_checkpoint"));
  for (float x_scale : {1e-6f, 1e-12f}) {
    INFO("activations scaled by " << x_scale);
    check_rows(load_linear(ck, "layers.0.attn.wq_a", 160, 192), x_scale);
    check_rows(load_linear(ck, "layers.0.ffn.experts.3.w2", 192, 160), x_scale);
    check_rows(load_linear(ck, "embed", 512, 192), x_scale);
  }
}

TEST_CASE("kernels: widths that are not multiples of the vector length") {
  dsv4::test::TempDir dir;
  std::string fp8;
  for (int i = 0; i < 3 * 133; ++i) fp8 += static_cast<char>((i * 37) % 256 == 0x7f ? 0x11 : (i * 37) % 256 & 0xfe);
  std::string bf16;
  for (int i = 0; i < 2 * 13; ++i) bf16 += std::string{static_cast<char>(i * 11), static_cast<char>(0x3f + (i % 3))};
  std::vector<float> f;
  for (int i = 0; i < 2 * 13; ++i) f.push_back(0.25f * i - 2);
  // FP4 rows of 224 columns: the 128-column chunks of the AVX512-BF16 kernel end 96 short.
  std::string fp4, fp4_scale;
  for (int i = 0; i < 3 * 112; ++i) fp4 += static_cast<char>(i * 73 + 5);
  for (int i = 0; i < 3 * 7; ++i) fp4_scale += static_cast<char>(120 + i % 6);
  dsv4::test::write_safetensors(dir / "model.safetensors",
                                {{"a.weight", "F8_E4M3", {3, 133}, fp8},
                                 {"a.scale", "F8_E8M0", {1, 2}, std::string("\x70\x80", 2)},
                                 {"b.weight", "BF16", {2, 13}, bf16},
                                 {"c.weight", "F32", {2, 13}, dsv4::test::f32_bytes(f)},
                                 {"d.weight", "I8", {3, 112}, fp4},
                                 {"d.scale", "F8_E8M0", {3, 7}, fp4_scale}});
  Checkpoint ck = Checkpoint::open(dir.path());
  check_rows(load_linear(ck, "a", 3, 133));
  check_rows(load_linear(ck, "b", 2, 13));
  check_rows(load_linear(ck, "c", 2, 13));
  check_rows(load_linear(ck, "d", 3, 224));
}

TEST_CASE("kernels: batched matmul over odd row and token counts and row ranges") {
  Checkpoint ck = Checkpoint::open(dsv4::test::golden_v4_dir("case4_quantized_checkpoint"));
  const Linear w = load_linear(ck, "layers.0.attn.wq_a", 160, 192);
  for (KernelLevel level : kKernelLevels)
  for (int n : {1, 2, 3, 5}) {
    if (level > best_kernel_level()) continue;
    set_kernel_level(level);
    INFO("kernels " << kernel_level_name(level));
    std::vector<float> x(static_cast<size_t>(n) * w.in);
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.11f * i);
    check_matmul(w, x, n, 3, 158, 0);  // 155 rows: not a multiple of four
  }
  set_kernel_level(best_kernel_level());
}

TEST_CASE("kernels: vectorised row expansion is bit-identical to the reference dequantization") {
  Checkpoint ck = Checkpoint::open(dsv4::test::golden_v4_dir("case4_quantized_checkpoint"));
  int rows = 0;
  for (const auto& [name, t] : ck.tensors()) {
    if (t.shape.size() != 2 || name.size() < 7 || name.substr(name.size() - 7) != ".weight") continue;
    const int out = static_cast<int>(t.shape[0]);
    const int in = static_cast<int>(t.dtype == DType::I8 ? t.shape[1] * 2 : t.shape[1]);
    const Linear w = load_linear(ck, name.substr(0, name.size() - 7), out, in);
    std::vector<float> a(in), b(in);
    for (int r = 0; r < out; ++r) {
      w.dequantize_row(r, a.data());
      expand_row(w, r, b.data());
      INFO(name << " row " << r);
      REQUIRE(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
      ++rows;
    }
  }
  CHECK(rows > 10000);
}

namespace {

// Deterministic bytes: x -> x * 1103515245 + 12345, high bits.
struct Bytes {
  uint32_t s;
  uint8_t next() { return static_cast<uint8_t>((s = s * 1103515245u + 12345u) >> 23); }
};

}  // namespace

TEST_CASE("kernels: matmul on awkward shapes against the scalar reference, at every level") {
  // Widths past one 1024-column block and not a multiple of it, FP8 rows and columns cutting a
  // 128 x 128 scale block, FP4 groups that are not a multiple of 16, an FP4 row with a subnormal
  // (byte 0) scale; 1 token (decoding), odd counts and more than one 64-token tile.
  dsv4::test::TempDir dir;
  Bytes rnd{7};
  std::string fp4, fp4_scale, fp8, fp8_scale, bf16;
  const int f4_out = 37, f4_in = 1088, f8_out = 131, f8_in = 1100, b_out = 9, b_in = 1030;
  for (int i = 0; i < f4_out * f4_in / 2; ++i) fp4 += static_cast<char>(rnd.next());
  for (int i = 0; i < f4_out * f4_in / 32; ++i) fp4_scale += static_cast<char>(i == 2 * 34 + 5 ? 0 : 118 + rnd.next() % 9);
  for (int i = 0; i < f8_out * f8_in; ++i) {
    uint8_t v = rnd.next();
    if ((v & 0x7f) == 0x7f) v ^= 1;  // 0x7f and 0xff are NaN
    fp8 += static_cast<char>(v);
  }
  for (int i = 0; i < 2 * 9; ++i) fp8_scale += static_cast<char>(120 + i % 5);
  for (int i = 0; i < b_out * b_in; ++i) bf16 += std::string{static_cast<char>(rnd.next()), static_cast<char>(0x3c + rnd.next() % 4 + (rnd.next() & 0x80))};
  dsv4::test::write_safetensors(dir / "model.safetensors",
                                {{"f4.weight", "I8", {f4_out, f4_in / 2}, fp4},
                                 {"f4.scale", "F8_E8M0", {f4_out, f4_in / 32}, fp4_scale},
                                 {"f8.weight", "F8_E4M3", {f8_out, f8_in}, fp8},
                                 {"f8.scale", "F8_E8M0", {2, 9}, fp8_scale},
                                 {"b.weight", "BF16", {b_out, b_in}, bf16}});
  Checkpoint ck = Checkpoint::open(dir.path());
  const Linear mats[] = {load_linear(ck, "f4", f4_out, f4_in), load_linear(ck, "f8", f8_out, f8_in), load_linear(ck, "b", b_out, b_in)};
  for (KernelLevel level : kKernelLevels) {
    if (level > best_kernel_level()) continue;
    set_kernel_level(level);
    INFO("kernels " << kernel_level_name(level));
    for (const Linear& w : mats)
      for (int n : {1, 2, 3, 5, 67}) {
        std::vector<float> x(static_cast<size_t>(n) * w.in);
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.013f * i) + 0.05f;
        check_matmul(w, x, n, 0, w.out, 1e-35);
        check_matmul(w, x, n, 1, w.out - 2, 1e-35);  // a row range that starts and ends off the 4-row groups
      }
  }
  set_kernel_level(best_kernel_level());
}

TEST_CASE("kernels: rows_dot over a row range equals row_dot row by row") {
  Checkpoint ck = Checkpoint::open(dsv4::test::golden_v4_dir("case4_quantized_checkpoint"));
  for (const char* name : {"layers.0.ffn.experts.3.w2", "layers.0.attn.wq_a"}) {
    const Linear w = load_linear(ck, name, std::string(name).find("w2") != std::string::npos ? 192 : 160,
                                 std::string(name).find("w2") != std::string::npos ? 160 : 192);
    std::vector<float> x(w.in), y(w.out);
    for (int k = 0; k < w.in; ++k) x[k] = std::cos(0.7f * k);
    rows_dot(w, 3, w.out, x.data(), y.data());
    for (int r = 3; r < w.out; ++r) {
      INFO(name << " row " << r);
      REQUIRE(y[r - 3] == row_dot(w, r, x.data()));
    }
  }
}

TEST_CASE("kernels: matmul_many equals each product run alone") {
  // Single-token jobs share one parallel loop whose chunks cross from one job into the next;
  // the batched job runs on its own. Row ranges, an empty range, and mixed formats.
  Checkpoint ck = Checkpoint::open(dsv4::test::golden_v4_dir("case4_quantized_checkpoint"));
  const Linear fp8 = load_linear(ck, "layers.0.attn.wq_a", 160, 192);
  const Linear fp4 = load_linear(ck, "layers.0.ffn.experts.3.w2", 192, 160);
  const Linear bf16 = load_linear(ck, "embed", 512, 192);
  std::vector<float> x(3 * 192);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.3f * i);
  struct Case {
    const Linear* w;
    int n, b, e;
  };
  const Case cases[] = {{&fp8, 1, 0, 160}, {&fp4, 1, 5, 190}, {&bf16, 1, 7, 7}, {&bf16, 1, 100, 512}, {&fp8, 3, 1, 159}, {&fp4, 1, 0, 1}};
  for (int threads : {1, 2, 3}) {
    set_thread_count(threads);
    std::vector<std::vector<float>> got, want;
    std::vector<MatmulJob> jobs;
    for (const Case& c : cases) {
      got.emplace_back(static_cast<size_t>(c.n) * (c.e - c.b), NAN);
      want.emplace_back(got.back().size(), NAN);
    }
    for (size_t i = 0; i < std::size(cases); ++i) {
      const Case& c = cases[i];
      jobs.push_back({c.w, x.data(), c.n, got[i].data(), c.b, c.e});
      matmul(*c.w, x.data(), c.n, want[i].data(), c.b, c.e);
    }
    matmul_many(jobs);
    for (size_t i = 0; i < std::size(cases); ++i) {
      INFO("threads " << threads << " job " << i);
      REQUIRE(std::memcmp(got[i].data(), want[i].data(), got[i].size() * 4) == 0);
    }
  }
  set_thread_count(0);
}

TEST_CASE("kernels: dot_products of row sets, for row counts off the 4-row block, at every level") {
  for (KernelLevel level : kKernelLevels) {
    if (level > best_kernel_level()) continue;
    set_kernel_level(level);
    for (const auto& [m, n, k] : {std::tuple{1, 1, 1}, {7, 5, 37}, {9, 64, 128}, {33, 3, 640}}) {
      const size_t lda = k + 3, ldb = k + 1;  // strides wider than the rows
      std::vector<float> a(m * lda), b(n * ldb), c(static_cast<size_t>(m) * n, NAN);
      for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.7f * i);
      for (size_t i = 0; i < b.size(); ++i) b[i] = std::cos(0.3f * i);
      dot_products(a.data(), lda, m, b.data(), ldb, n, k, c.data());
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
          double want = 0, mag = 0;
          for (int x = 0; x < k; ++x) {
            want += static_cast<double>(a[i * lda + x]) * b[j * ldb + x];
            mag += std::fabs(static_cast<double>(a[i * lda + x]) * b[j * ldb + x]);
          }
          INFO("kernels " << kernel_level_name(level) << " m " << m << " n " << n << " k " << k << " at " << i << ", " << j);
          REQUIRE(std::fabs(c[static_cast<size_t>(i) * n + j] - want) <= 1e-5 * mag + 1e-30);
        }
    }
  }
  set_kernel_level(best_kernel_level());
}

TEST_CASE("kernels: relu_dot weighs only the positive elements, NaN counting as zero") {
  for (int n : {1, 7, 8, 17, 64, 100}) {
    std::vector<float> a(n), b(n);
    for (int i = 0; i < n; ++i) {
      a[i] = std::sin(1.3f * i + 0.2f) * 3;  // about half negative
      b[i] = std::cos(0.7f * i) + 0.25f;
    }
    if (n > 5) a[5] = NAN;
    double want = 0, mag = 0;
    for (int i = 0; i < n; ++i)
      if (a[i] > 0) want += static_cast<double>(a[i]) * b[i], mag += std::fabs(static_cast<double>(a[i]) * b[i]);
    INFO("n " << n);
    CHECK(std::fabs(relu_dot(a.data(), b.data(), n) - want) <= 1e-6 * mag + 1e-30);
  }
}
