#include "order_json.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace shop {

namespace {

constexpr std::array<std::string_view, 5> known_fields{"id", "customer_id", "product",
                                                       "quantity", "price"};

order_request refuse(std::string reason) {
  return order_request{std::nullopt, std::move(reason)};
}

/// The non-empty string field `name` of `body`, or nullopt with `reason` set.
std::optional<std::string> string_field(const nlohmann::json& body, const char* name,
                                        std::string& reason) {
  auto i = body.find(name);
  if (i == body.end()) {
    reason = std::string{"field '"} + name + "' is missing";
    return std::nullopt;
  }
  if (!i->is_string() || i->get_ref<const std::string&>().empty()) {
    reason = std::string{"field '"} + name + "' must be a non-empty string";
    return std::nullopt;
  }
  return i->get<std::string>();
}

} // namespace

bool valid_order_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > max_order_id_length)
    return false;
  for (char c : id) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                      || c == '-' || c == '.' || c == '_' || c == '~';
    if (!unreserved)
      return false;
  }
  return true;
}

order_request order_from_json(std::string_view body) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return refuse("body is not valid JSON (at byte " + std::to_string(e.byte) + ")");
  }
  if (!json.is_object())
    return refuse("body must be a JSON object");
  for (auto& [name, value] : json.items()) {
    if (name == "state")
      return refuse("field 'state' is set by the service: a new order is CREATED");
    bool known = false;
    for (auto field : known_fields)
      known = known || name == field;
    if (!known)
      return refuse("unknown field '" + name
                    + "' (an order has id, customer_id, product, quantity, price)");
  }

  Order order;
  order.set_state(Order::CREATED);
  std::string reason;
  if (auto i = json.find("id"); i != json.end()) {
    if (!i->is_string() || !valid_order_id(i->get_ref<const std::string&>()))
      return refuse("field 'id' must be a string of 1 to " + std::to_string(max_order_id_length)
                    + " characters from A-Z a-z 0-9 - . _ ~");
    order.set_id(i->get<std::string>());
  }
  auto customer = string_field(json, "customer_id", reason);
  if (!customer)
    return refuse(reason);
  order.set_customer_id(*customer);
  auto product = string_field(json, "product", reason);
  if (!product)
    return refuse(reason);
  order.set_product(*product);

  auto quantity = json.find("quantity");
  if (quantity == json.end())
    return refuse("field 'quantity' is missing");
  if (!quantity->is_number_integer())
    return refuse("field 'quantity' must be an integer");
  constexpr auto min = std::numeric_limits<std::int32_t>::min();
  constexpr auto max = std::numeric_limits<std::int32_t>::max();
  if (quantity->is_number_unsigned()
        ? quantity->get<std::uint64_t>() > std::uint64_t{max}
        : quantity->get<std::int64_t>() < min || quantity->get<std::int64_t>() > max)
    return refuse("field 'quantity' is out of range");
  order.set_quantity(quantity->get<std::int32_t>());

  auto price = json.find("price");
  if (price == json.end())
    return refuse("field 'price' is missing");
  if (!price->is_number())
    return refuse("field 'price' must be a number");
  order.set_price(price->get<double>());
  return order_request{std::move(order), {}};
}

nlohmann::json order_to_json(const Order& order) {
  return nlohmann::json{{"id", order.id()},
                        {"customer_id", order.customer_id()},
                        {"state", Order::State_Name(order.state())},
                        {"product", order.product()},
                        {"quantity", order.quantity()},
                        {"price", order.price()}};
}

bool same_request(const Order& a, const Order& b) noexcept {
  return a.customer_id() == b.customer_id() && a.product() == b.product()
         && a.quantity() == b.quantity() && a.price() == b.price();
}

} // namespace shop
