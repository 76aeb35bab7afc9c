#pragma once

// Internal to Eddy (not installed): one call of librdkafka's admin API with everything it
// owns — the options carrying the request timeout, the queue its result arrives on and the
// result event — released together on every path out of the caller.

#include <chrono>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

namespace eddy::internal {

/// One admin request (CreateTopics, DescribeConfigs, DescribeConsumerGroups, ...) on the
/// client `handle`. Make the call with `client()`, `options()` and `queue()`, then `wait()`
/// for its result. Not copyable; one thread uses it.
class admin_request {
public:
  /// Prepares a request of kind `op` that the broker must answer within `timeout`.
  admin_request(RdKafka::Handle& handle, rd_kafka_admin_op_t op,
                std::chrono::milliseconds timeout);
  ~admin_request();

  admin_request(const admin_request&) = delete;
  admin_request& operator=(const admin_request&) = delete;

  /// The C client to pass to the rd_kafka_<Operation>() call.
  rd_kafka_t* client() const noexcept { return client_; }

  /// The request's options (its timeout set).
  rd_kafka_AdminOptions_t* options() const noexcept { return options_; }

  /// The queue the result arrives on.
  rd_kafka_queue_t* queue() const noexcept { return queue_; }

  /// Waits for the result, at most the request timeout plus a second; the result event
  /// (owned by this request: check rd_kafka_event_error()), or nullptr if none came.
  rd_kafka_event_t* wait();

private:
  rd_kafka_t* client_;
  std::chrono::milliseconds timeout_;
  rd_kafka_AdminOptions_t* options_;
  rd_kafka_queue_t* queue_;
  rd_kafka_event_t* event_ = nullptr;
};

} // namespace eddy::internal
