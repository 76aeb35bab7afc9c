#pragma once

/// @file
/// The orders API's JSON: reading a new order from a request body (every field checked,
/// every refusal with a reason a client can act on) and writing an order back.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "shop/orders.pb.h"

namespace shop {

/// The longest order id a client may choose.
inline constexpr std::size_t max_order_id_length = 64;

/// A new order read from a POST body, or the reason it was refused.
struct order_request {
  /// The order with state CREATED; its id is empty when the client sent none.
  std::optional<Order> order;
  /// Why the body was refused, e.g. "field 'quantity' must be an integer"; empty on success.
  std::string reason;
};

/// Reads a new order from a JSON body `{"id"?, "customer_id", "product", "quantity",
/// "price"}`. Refuses a body that is not a JSON object, lacks a field, has a field of the
/// wrong type or an unknown field (including `state`, which the service sets). `quantity`
/// must be an integer in the int32 range, `price` a number, the strings non-empty, and an
/// `id`, if given, a valid order id (see `valid_order_id`). Business rules (a positive
/// quantity, a price not negative) are the validators' job, not the API's.
order_request order_from_json(std::string_view body);

/// True if `id` may name an order: 1 to `max_order_id_length` characters from the URL's
/// unreserved set `A-Z a-z 0-9 - . _ ~`, so that it appears in a path unescaped.
bool valid_order_id(std::string_view id) noexcept;

/// The JSON of `order`: its fields, with the state by name (e.g. "VALIDATED").
nlohmann::json order_to_json(const Order& order);

/// True if the client-chosen fields of `a` and `b` (customer, product, quantity, price)
/// are equal; used to tell a retried POST from a conflicting one.
bool same_request(const Order& a, const Order& b) noexcept;

} // namespace shop
