#include "agent/pricing.hpp"

namespace dsv4::agent {

Prices default_prices(std::string_view model) {
  // api-docs.deepseek.com/quick_start/pricing, USD per 1M tokens.
  if (model == "deepseek-v4-flash") return {0.0028, 0.14, 0.28};
  if (model == "deepseek-v4-pro") return {0.003625, 0.435, 0.87};
  return {};
}

double cost_usd(const Prices& p, const Usage& u) {
  return (p.cache_hit * u.cache_hit + p.cache_miss * u.cache_miss + p.output * u.output) / 1e6;
}

}  // namespace dsv4::agent
