#include "agent/curl_api.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace dsv4::agent {
namespace {

// The soname of libcurl's ABI 4, the one Debian's libcurl4 packages ship.
constexpr const char* kLibrary = "libcurl.so.4";

template <typename F>
void bind(void* library, const char* name, F& function) {
  void* symbol = ::dlsym(library, name);
  if (!symbol)
    throw std::runtime_error(std::string(kLibrary) + " has no " + name +
                             "; reinstall libcurl4 (scripts/setup.sh does)");
  function = reinterpret_cast<F>(symbol);
}

CurlApi load() {
  void* library = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!library)
    throw std::runtime_error(std::string("cannot load ") + kLibrary + " for HTTP (" + ::dlerror() +
                             "); install libcurl4 (scripts/setup.sh does)");
  CurlApi api{};
  bind(library, "curl_global_init", api.global_init);
  bind(library, "curl_easy_init", api.easy_init);
  bind(library, "curl_easy_setopt", api.easy_setopt);
  bind(library, "curl_easy_perform", api.easy_perform);
  bind(library, "curl_easy_getinfo", api.easy_getinfo);
  bind(library, "curl_easy_strerror", api.easy_strerror);
  bind(library, "curl_easy_cleanup", api.easy_cleanup);
  bind(library, "curl_slist_append", api.slist_append);
  bind(library, "curl_slist_free_all", api.slist_free_all);
  api.global_init(CURL_GLOBAL_DEFAULT);
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const CurlApi& curl_api() {
  static const CurlApi api = load();
  return api;
}

}  // namespace dsv4::agent
