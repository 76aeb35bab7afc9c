#include <eddy/state_view.hpp>

#include <utility>

#include <eddy/state_store.hpp>

namespace eddy {

std::optional<std::string> state_view::get(const std::string& key) const {
  return store_->get(key);
}

void state_view::put(const std::string& key, std::string value) {
  store_->put(key, std::move(value));
}

void state_view::erase(const std::string& key) {
  store_->erase(key);
}

} // namespace eddy
