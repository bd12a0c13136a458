#pragma once
// Read-only, memory-mapped safetensors checkpoints: one model.safetensors, or shards listed in
// model.safetensors.index.json. Tensor bytes are never copied; views point into the mappings.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dsv4::engine {

enum class DType { F32, BF16, F8_E4M3, F8_E8M0, I8, I32, I64 };

const char* dtype_name(DType t);
size_t dtype_size(DType t);

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t bytes = 0;

  int64_t numel() const;
  std::string describe() const;  // "name (BF16 [512, 192])"
};

class MappedFile;

class Checkpoint {
 public:
  // `dir` holds model.safetensors.index.json (sharded) or model.safetensors; a path to a single
  // .safetensors file is accepted too.
  static Checkpoint open(const std::filesystem::path& dir_or_file);
  ~Checkpoint();
  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorView& get(const std::string& name) const;  // throws naming the missing tensor
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  size_t mapped_bytes() const;
  // How much of the mappings the kernel maps in 2 MiB pages (the rest in 4 KiB ones): files
  // read from disk after opening come in whole; pages already cached in small folios (a file
  // just written, for one) stay small until they leave the page cache.
  size_t huge_page_bytes() const;

 private:
  Checkpoint() = default;
  void add_file(const std::filesystem::path& file, const std::vector<std::string>* expected_names);

  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, TensorView> tensors_;
};

}  // namespace dsv4::engine
