#include "agent/http.hpp"

#include <algorithm>
#include <cctype>

#include "agent/curl_api.hpp"

namespace dsv4::agent {
namespace {

struct Transfer {
  CURL* curl;
  const std::function<void(std::string_view)>* on_body;
  HttpResponse* response;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_api().easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300)
    (*t->on_body)(std::string_view(data, n));
  else
    t->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string line(data, n);
  std::string lower = line;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower.starts_with("retry-after:")) {
    std::string value = line.substr(12);
    auto first = value.find_first_not_of(" \t");
    auto last = value.find_last_not_of(" \t\r\n");
    t->response->retry_after =
        first == std::string::npos ? "" : value.substr(first, last - first + 1);
  }
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel && cancel->load() ? 1 : 0;
}

}  // namespace

HttpResponse http_post(const HttpRequest& request,
                       const std::function<void(std::string_view)>& on_body) {
  const CurlApi& api = curl_api();
  HttpResponse response;
  CURL* curl = api.easy_init();
  if (!curl) {
    response.error = "libcurl could not start a transfer";
    return response;
  }
  Transfer transfer{curl, &on_body, &response};
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = api.slist_append(headers, h.c_str());
  api.easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  api.easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  api.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  api.easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  api.easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                   static_cast<long>(request.connect_timeout.count()));
  // Below 1 byte/s for idle_timeout seconds: the stream is dead.
  api.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.idle_timeout.count()));
  api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (request.cancel) {
    api.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    api.easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(request.cancel));
    api.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  CURLcode code = api.easy_perform(curl);
  long status = 0;
  api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  if (code != CURLE_OK) response.error = api.easy_strerror(code);
  api.slist_free_all(headers);
  api.easy_cleanup(curl);
  return response;
}

}  // namespace dsv4::agent
