#include "order_mix.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace shop_demo {

namespace {

constexpr std::array<const char*, 12> product_names{"jumper", "scarf",  "boots",   "gloves",
                                                    "beanie", "parka",  "socks",   "mittens",
                                                    "fleece", "poncho", "wellies", "earmuffs"};
constexpr std::array<const char*, 10> first_names{"Ada",      "Grace",  "Alan",    "Edsger",
                                                  "Barbara",  "Donald", "Frances", "Ken",
                                                  "Margaret", "Niklaus"};
constexpr std::array<const char*, 10> last_names{"Lovelace", "Hopper", "Turing", "Dijkstra",
                                                 "Liskov",   "Knuth",  "Allen",  "Thompson",
                                                 "Hamilton", "Wirth"};
constexpr std::array<const char*, 6> streets{"Mill Lane",   "Station Road", "High Street",
                                             "Church Walk", "Harbour View", "Orchard Close"};

/// Customers who place the over-limit orders, and those who place the out-of-stock ones.
constexpr int big_spenders = 3;
constexpr int wholesalers = 3;
/// The most orders a regular customer places: 8 × 3 items × 59.99 stays below 2000.
constexpr std::int64_t orders_per_customer = 8;
/// Fraud fails an order that brings its customer's hour to this much (see fraud.hpp).
constexpr double fraud_limit = 2000;

/// A well-mixed 64-bit hash (splitmix64) of an order's index.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

order_kind kind_of(std::int64_t i) {
  switch (i % 20) {
  case 5:
    return order_kind::invalid_quantity;
  case 10:
    return order_kind::over_limit;
  case 15:
    return order_kind::out_of_stock;
  default:
    return order_kind::regular;
  }
}

std::string numbered(const std::string& prefix, std::int64_t n, const std::string& run_id) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%03lld", static_cast<long long>(n));
  return prefix + "-" + digits + "-" + run_id;
}

} // namespace

const char* to_string(order_kind kind) noexcept {
  switch (kind) {
  case order_kind::regular:
    return "regular";
  case order_kind::invalid_quantity:
    return "quantity 0";
  case order_kind::over_limit:
    return "over the fraud limit";
  case order_kind::out_of_stock:
    return "out of stock";
  }
  return "unknown";
}

shop::Order::State planned_order::expected() const noexcept {
  return kind == order_kind::regular ? shop::Order::VALIDATED : shop::Order::FAILED;
}

order_mix::order_mix(std::string run_id, std::int64_t orders, int products)
  : run_id_(std::move(run_id)),
    orders_(orders),
    regular_customers_(
      std::max<std::int64_t>(10, (orders + orders_per_customer - 1) / orders_per_customer)) {
  for (int p = 0; p < products; ++p) {
    auto base = std::string{product_names[static_cast<std::size_t>(p) % product_names.size()]};
    auto round = p / static_cast<int>(product_names.size());
    products_.push_back(base + (round > 0 ? "-" + std::to_string(round + 1) : "") + "-"
                        + run_id_);
  }
  // Stock covers what the run reserves (regular and over-limit orders), with a margin.
  std::map<std::string, std::int32_t> demand;
  for (auto& product : products_)
    demand[product] = 0;
  for (std::int64_t i = 0; i < orders_; ++i) {
    auto kind = kind_of(i);
    if (kind == order_kind::regular || kind == order_kind::over_limit) {
      auto planned = order(i);
      demand[planned.product] += planned.quantity;
    }
  }
  for (auto& [product, reserved] : demand)
    stock_[product] = reserved + reserved / 10 + 5;
}

planned_order order_mix::order(std::int64_t i) const {
  auto h = mix(static_cast<std::uint64_t>(i));
  char index[24];
  std::snprintf(index, sizeof index, "%06lld", static_cast<long long>(i));
  planned_order planned{run_id_ + "-" + index,           kind_of(i), {},
                        products_[h % products_.size()], 1,          0};
  auto regular_customer = numbered("customer", i % regular_customers_, run_id_);
  auto round = i / 20;
  switch (planned.kind) {
  case order_kind::regular:
    planned.customer_id = regular_customer;
    planned.quantity = static_cast<std::int32_t>(1 + (h >> 16) % 3);
    planned.price = static_cast<double>(500 + (h >> 32) % 5500) / 100.0;
    break;
  case order_kind::invalid_quantity:
    planned.customer_id = regular_customer;
    planned.quantity = 0;
    planned.price = static_cast<double>(500 + (h >> 32) % 5500) / 100.0;
    break;
  case order_kind::over_limit:
    planned.customer_id = numbered("big-spender", round % big_spenders, run_id_);
    planned.price = fraud_limit + 500;
    break;
  case order_kind::out_of_stock: {
    planned.customer_id = numbered("wholesaler", round % wholesalers, run_id_);
    auto stock = stock_.find(planned.product);
    planned.quantity = (stock != stock_.end() ? stock->second : 0) + 1;
    planned.price = 1;
    break;
  }
  }
  return planned;
}

std::int64_t order_mix::count() const noexcept {
  return orders_;
}

std::map<order_kind, std::int64_t> order_mix::planned_kinds(std::int64_t n) const {
  std::map<order_kind, std::int64_t> kinds;
  for (std::int64_t i = 0; i < std::min(n, orders_); ++i)
    ++kinds[kind_of(i)];
  return kinds;
}

std::vector<shop::StockLevel> order_mix::stock() const {
  std::vector<shop::StockLevel> levels;
  for (auto& [product, quantity] : stock_) {
    shop::StockLevel level;
    level.set_product(product);
    level.set_quantity(quantity);
    levels.push_back(std::move(level));
  }
  return levels;
}

std::vector<shop::Customer> order_mix::customers() const {
  std::vector<std::string> ids;
  for (std::int64_t c = 0; c < regular_customers_; ++c)
    ids.push_back(numbered("customer", c, run_id_));
  for (int c = 0; c < big_spenders; ++c)
    ids.push_back(numbered("big-spender", c, run_id_));
  for (int c = 0; c < wholesalers; ++c)
    ids.push_back(numbered("wholesaler", c, run_id_));
  std::vector<shop::Customer> customers;
  std::uint64_t n = 0;
  for (auto& id : ids) {
    auto h = mix(~n++);
    shop::Customer customer;
    customer.set_id(id);
    customer.set_first_name(first_names[h % first_names.size()]);
    customer.set_last_name(last_names[(h >> 8) % last_names.size()]);
    customer.set_email(id + "@example.com");
    customer.set_address(std::to_string(1 + (h >> 16) % 99) + " "
                         + streets[(h >> 24) % streets.size()]);
    customer.set_level(static_cast<shop::Customer::Level>(1 + (h >> 32) % 4));
    customers.push_back(std::move(customer));
  }
  return customers;
}

} // namespace shop_demo
