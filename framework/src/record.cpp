#include <eddy/record.hpp>

namespace eddy {

namespace {

/// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), seed 0x9747b28c.
std::uint32_t murmur2(std::string_view data) noexcept {
  constexpr std::uint32_t seed = 0x9747b28c;
  constexpr std::uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  auto length = static_cast<std::uint32_t>(data.size());
  std::uint32_t h = seed ^ length;
  auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])); };
  std::size_t blocks = data.size() / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k = byte(4 * i) | (byte(4 * i + 1) << 8) | (byte(4 * i + 2) << 16)
                      | (byte(4 * i + 3) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  auto tail = blocks * 4;
  switch (data.size() % 4) {
    case 3:
      h ^= byte(tail + 2) << 16;
      [[fallthrough]];
    case 2:
      h ^= byte(tail + 1) << 8;
      [[fallthrough]];
    case 1:
      h ^= byte(tail);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

} // namespace

std::int32_t partition_for(std::string_view key, std::int32_t partitions) noexcept {
  if (partitions <= 0)
    return 0;
  return static_cast<std::int32_t>((murmur2(key) & 0x7fffffff) % static_cast<std::uint32_t>(partitions));
}

} // namespace eddy
