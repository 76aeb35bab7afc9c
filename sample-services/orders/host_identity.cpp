#include "host_identity.hpp"

#include <cstdint>
#include <random>

#include <unistd.h>

namespace shop {

std::string random_hex(std::size_t bytes) {
  static thread_local std::mt19937_64 engine{std::random_device{}()
                                             ^ (std::uint64_t{std::random_device{}()} << 32)};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    auto byte = engine() & 0xff;
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xf]);
  }
  return out;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0')
    return "localhost";
  return name;
}

} // namespace shop
