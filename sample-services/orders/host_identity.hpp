// Names for an orders API instance: random hex ids and the machine's host name.
#pragma once

#include <cstddef>
#include <string>

namespace shop {

/// Returns `bytes` random bytes as lower-case hex (2 digits each).
std::string random_hex(std::size_t bytes);

/// Returns the machine's host name, or "localhost" if it has none.
std::string host_name();

} // namespace shop
