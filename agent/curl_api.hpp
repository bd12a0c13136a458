#pragma once
// libcurl, loaded when the first HTTP request is made. Most dsv4 commands (tools, the MCP
// server, the engine) never speak HTTP, and linking libcurl with its two dozen TLS, Kerberos,
// LDAP and IDN libraries would make every one of them pay for loading those at start-up.
#include <curl/curl.h>

namespace dsv4::agent {

struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  void (*easy_cleanup)(CURL* handle);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

// Loads libcurl once (thread-safe) and returns its functions, initialised. Throws
// std::runtime_error saying which library is missing and what to install.
const CurlApi& curl_api();

}  // namespace dsv4::agent
