#include <eddy/internal/admin_request.hpp>

namespace eddy::internal {

admin_request::admin_request(RdKafka::Handle& handle, rd_kafka_admin_op_t op,
                             std::chrono::milliseconds timeout)
  : client_(handle.c_ptr()),
    timeout_(timeout),
    options_(rd_kafka_AdminOptions_new(client_, op)),
    queue_(rd_kafka_queue_new(client_)) {
  char reason[512];
  rd_kafka_AdminOptions_set_request_timeout(options_, static_cast<int>(timeout.count()), reason,
                                            sizeof reason);
}

admin_request::~admin_request() {
  if (event_ != nullptr)
    rd_kafka_event_destroy(event_);
  rd_kafka_queue_destroy(queue_);
  rd_kafka_AdminOptions_destroy(options_);
}

rd_kafka_event_t* admin_request::wait() {
  if (event_ == nullptr)
    event_ = rd_kafka_queue_poll(queue_, static_cast<int>(timeout_.count()) + 1000);
  return event_;
}

} // namespace eddy::internal
