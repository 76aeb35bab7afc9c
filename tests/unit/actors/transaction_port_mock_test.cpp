// Unit test of the transactional producer port on librdkafka's mock cluster: an abort whose
// coordinator never answers fails within its timeout instead of hanging the service (and
// every task waiting on the produce gate) for ever.

#include <chrono>
#include <future>

#include <catch2/catch.hpp>

#include <eddy/config.hpp>
#include <eddy/internal/kafka.hpp>
#include <eddy/testing/mock_cluster.hpp>

#include "kafka_ports.hpp"
#include "sink.hpp"

using namespace std::chrono_literals;

TEST_CASE("an abort the coordinator never answers fails within its timeout") {
  eddy::testing::mock_cluster cluster;
  cluster.create_topic("port-out", 1);
  eddy::config cfg;
  cfg.set("bootstrap.servers", cluster.bootstrap())
    .set("group.id", "port-test")
    .set("producer.transactional.id", "port-test");
  auto producer_conf = eddy::internal::make_conf(cfg, eddy::client_kind::producer);
  REQUIRE(producer_conf);
  eddy::detail::sink out{**producer_conf};
  REQUIRE(out.producer() != nullptr);
  out.start();
  std::unique_ptr<RdKafka::Error> init{out.producer()->init_transactions(10000)};
  REQUIRE(init == nullptr);
  auto consumer_conf = eddy::internal::make_conf(cfg, eddy::client_kind::consumer);
  REQUIRE(consumer_conf);
  auto consumer = eddy::internal::make_consumer(**consumer_conf);
  REQUIRE(consumer);
  eddy::detail::kafka_transaction_port port{out, **consumer, 1000ms};

  REQUIRE(port.begin().ok);
  std::string value = "v";
  REQUIRE(out.producer()->produce("port-out", 0, RdKafka::Producer::RK_MSG_COPY, value.data(),
                                  value.size(), nullptr, 0, 0, nullptr)
          == RdKafka::ERR_NO_ERROR);
  // Delivered, so the partition is in the transaction and only EndTxn can end it.
  REQUIRE(out.producer()->flush(10000) == RdKafka::ERR_NO_ERROR);
  cluster.set_broker_up(1, false);
  auto started = std::chrono::steady_clock::now();
  auto aborted = std::async(std::launch::async, [&] { return port.abort(); });
  bool returned = aborted.wait_for(30s) == std::future_status::ready;
  cluster.set_broker_up(1, true); // lets an abort that hung finish, so the test ends either way
  REQUIRE(returned);
  auto status = aborted.get();
  CHECK_FALSE(status.ok);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
}
