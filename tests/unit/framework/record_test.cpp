// Unit tests of eddy::partition_for: the partition of a key must be the one Kafka's Java
// clients (and librdkafka's murmur2_random) choose, or keyed lookups find the wrong owner.

#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

#include <eddy/record.hpp>

namespace {

/// Kafka's Utils.toPositive.
std::int32_t to_positive(std::int32_t hash) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(hash) & 0x7fffffffu);
}

} // namespace

TEST_CASE("partition_for applies Kafka's murmur2 to the key bytes") {
  // Hashes of Kafka's Utils.murmur2 for these keys; with INT32_MAX partitions the
  // partition is the positive hash itself.
  constexpr auto all = std::numeric_limits<std::int32_t>::max();
  CHECK(eddy::partition_for("1", all) == to_positive(-1993445489));
  CHECK(eddy::partition_for("12", all) == to_positive(126087238));
  CHECK(eddy::partition_for("123", all) == to_positive(-267702483));
  CHECK(eddy::partition_for("1234", all) == to_positive(-1614185708));
  CHECK(eddy::partition_for("12345", all) == to_positive(-1188365604));
}

TEST_CASE("partition_for stays within the partition count") {
  for (int i = 0; i < 1000; ++i) {
    auto p = eddy::partition_for("key-" + std::to_string(i), 7);
    CHECK((p >= 0 && p < 7));
  }
  CHECK(eddy::partition_for("any", 1) == 0);
  CHECK(eddy::partition_for("any", 0) == 0);
}
