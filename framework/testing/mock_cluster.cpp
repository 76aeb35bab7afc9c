#include <eddy/testing/mock_cluster.hpp>

#include <stdexcept>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace eddy::testing {

struct mock_cluster::impl {
  rd_kafka_t* handle = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
};

mock_cluster::mock_cluster(int brokers)
  : impl_(std::make_unique<impl>()) {
  char reason[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", reason, sizeof reason);
  impl_->handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof reason);
  if (impl_->handle == nullptr)
    throw std::runtime_error{std::string{"mock cluster: "} + reason};
  impl_->cluster = rd_kafka_mock_cluster_new(impl_->handle, brokers);
  if (impl_->cluster == nullptr) {
    rd_kafka_destroy(impl_->handle);
    throw std::runtime_error{"mock cluster: rd_kafka_mock_cluster_new failed"};
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

mock_cluster::~mock_cluster() {
  rd_kafka_mock_cluster_destroy(impl_->cluster);
  rd_kafka_destroy(impl_->handle);
}

void mock_cluster::create_topic(const std::string& topic, int partitions) {
  auto err = rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error{"mock cluster: cannot create topic '" + topic
                             + "': " + rd_kafka_err2str(err)};
}

void mock_cluster::set_broker_up(int id, bool up) {
  auto err = up ? rd_kafka_mock_broker_set_up(impl_->cluster, id)
                : rd_kafka_mock_broker_set_down(impl_->cluster, id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error{"mock cluster: cannot set broker " + std::to_string(id)
                             + (up ? " up: " : " down: ") + rd_kafka_err2str(err)};
}

} // namespace eddy::testing
