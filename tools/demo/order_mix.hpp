#pragma once

/// @file
/// The shop the demo plays: products with their stock, customers, and the orders it posts,
/// each with the decision it should get.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shop/customers.pb.h"
#include "shop/orders.pb.h"
#include "shop/warehouse.pb.h"

namespace shop_demo {

/// Why an order is made the way it is, and so how it should be decided.
enum class order_kind {
  /// An order of a few items by a customer within budget: VALIDATED.
  regular,
  /// A quantity of 0: order-details (and inventory) fail it.
  invalid_quantity,
  /// A single order worth more than fraud's limit of 2000 per hour: fraud fails it.
  over_limit,
  /// More items than the warehouse holds of the product: inventory fails it.
  out_of_stock,
};

/// Returns how an order of `kind` is described in the summary, e.g. "out of stock".
const char* to_string(order_kind kind) noexcept;

/// One order the demo posts.
struct planned_order {
  /// The order's id, `<run id>-<index>`: chosen by the demo, so that a POST can be retried
  /// safely and the services' logs name orders the summary can be traced to.
  std::string id;
  /// Why it is made this way.
  order_kind kind;
  std::string customer_id;
  std::string product;
  std::int32_t quantity;
  double price;

  /// The decision the shop should reach: VALIDATED for regular orders, else FAILED.
  shop::Order::State expected() const noexcept;
};

/// The products, customers and orders of one demo run, all derived from the run id and
/// the counts, so that the mix is the same for the same arguments.
///
/// Names carry the run id: the shop's topics and the services' journals outlive a run, and
/// a product's reservations or a customer's spending from an earlier run must not decide
/// this run's orders. One order in 20 is each of invalid_quantity, over_limit and
/// out_of_stock; the others are regular. Regular orders are spread over enough customers
/// that none reaches fraud's limit (at most 8 orders of at most 180 each), and each
/// product's stock covers every reservation the run makes, so every regular order is
/// VALIDATED. Read-only after construction, so usable from any thread.
class order_mix {
public:
  // -- constructors, destructors, and assignment operators --------------------------------

  /// Plans `orders` orders over `products` products for the run `run_id`.
  order_mix(std::string run_id, std::int64_t orders, int products);

  // -- properties -------------------------------------------------------------------------

  /// The order with index `i`, 0 <= i < count().
  planned_order order(std::int64_t i) const;

  /// The number of orders planned.
  std::int64_t count() const noexcept;

  /// How many of the first `n` orders are of each kind.
  std::map<order_kind, std::int64_t> planned_kinds(std::int64_t n) const;

  /// The warehouse's stock of every product.
  std::vector<shop::StockLevel> stock() const;

  /// Every customer who orders.
  std::vector<shop::Customer> customers() const;

private:
  std::string run_id_;
  std::int64_t orders_;
  std::vector<std::string> products_;
  std::int64_t regular_customers_;
  std::map<std::string, std::int32_t> stock_;
};

} // namespace shop_demo
