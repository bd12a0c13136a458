#pragma once
// What a run cost: DeepSeek's list prices per million tokens (cache-hit input, cache-miss
// input, output; no cache-write charge). Servers we run ourselves cost nothing here.
#include <string_view>

#include "agent/model_client.hpp"

namespace dsv4::agent {

struct Prices {
  double cache_hit = 0;  // USD per 1M input tokens served from the cache
  double cache_miss = 0;
  double output = 0;
};

// The default price of a model by name; zero for models without a known price.
Prices default_prices(std::string_view model);
double cost_usd(const Prices& prices, const Usage& usage);

}  // namespace dsv4::agent
