#include <eddy/record.hpp>

#include <librdkafka/rdkafka.h>

namespace eddy {

std::int32_t partition_for(std::string_view key, std::int32_t partitions) noexcept {
  if (partitions <= 0)
    return 0;
  // librdkafka's own murmur2 partitioner (Kafka's Utils.murmur2, positive, modulo the
  // count), the one its `murmur2_random` uses for keyed records; it never reads the topic.
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr,
                                          nullptr);
}

} // namespace eddy
