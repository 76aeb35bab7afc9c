#include "kafka_ports.hpp"

#include <librdkafka/rdkafka.h>

#include "fetch_waker.hpp"
#include "sink.hpp"

namespace eddy::detail {

namespace {

bool is_fencing(RdKafka::ErrorCode code) {
  return code == RdKafka::ERR__FENCED || code == RdKafka::ERR_PRODUCER_FENCED
         || code == RdKafka::ERR_INVALID_PRODUCER_EPOCH
         // A member the group moved on from may not commit for its old generation.
         || code == RdKafka::ERR_ILLEGAL_GENERATION || code == RdKafka::ERR_UNKNOWN_MEMBER_ID
         || code == RdKafka::ERR_FENCED_INSTANCE_ID
         // The coordinator ended the transaction of a stalled instance (past its
         // transaction.timeout.ms) and bumped its epoch: another instance took over.
         || code == RdKafka::ERR_INVALID_TXN_STATE;
}

/// Classifies (and frees) a librdkafka transactional error; null is success.
txn_status classify(RdKafka::Error* raw) {
  std::unique_ptr<RdKafka::Error> err{raw};
  if (!err)
    return txn_status::success();
  txn_status status;
  status.ok = false;
  status.retriable = err->is_retriable();
  status.requires_abort = err->txn_requires_abort();
  status.fenced = is_fencing(err->code());
  status.fatal = err->is_fatal() || status.fenced;
  status.message = err->str();
  return status;
}

} // namespace

void append_headers(rd_kafka_message_t* raw, std::vector<header>& out) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(raw, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i)
    out.emplace_back(name, value ? std::string{static_cast<const char*>(value), size}
                                 : std::string{});
}

partition_list::partition_list(const std::vector<partition_offset>& offsets) {
  for (auto& at : offsets)
    items.push_back(RdKafka::TopicPartition::create(at.topic, at.partition, at.offset));
}

// -- kafka_group_port -----------------------------------------------------------------------

expected<void> kafka_group_port::commit(const std::vector<partition_offset>& offsets,
                                        bool sync) {
  partition_list list{offsets};
  auto err = sync ? consumer_.commitSync(list.items) : consumer_.commitAsync(list.items);
  if (err != RdKafka::ERR_NO_ERROR)
    return error{errc::commit_failed, RdKafka::err2str(err)};
  return {};
}

expected<void> kafka_group_port::seek(const partition_offset& at) {
  std::unique_ptr<RdKafka::TopicPartition> position{
    RdKafka::TopicPartition::create(at.topic, at.partition, at.offset)};
  if (auto err = consumer_.seek(*position, 5000); err != RdKafka::ERR_NO_ERROR)
    return error{errc::kafka_error, "seek " + at.topic + "[" + std::to_string(at.partition)
                                      + "] to " + std::to_string(at.offset) + ": "
                                      + RdKafka::err2str(err)};
  if (waker_)
    waker_->note_seek(at.topic, at.partition, at.offset);
  return {};
}

// -- kafka_transaction_port -----------------------------------------------------------------

txn_status kafka_transaction_port::begin() {
  return classify(out_.producer()->begin_transaction());
}

txn_status kafka_transaction_port::send_offsets(const std::vector<partition_offset>& offsets) {
  partition_list list{offsets};
  std::unique_ptr<RdKafka::ConsumerGroupMetadata> group{consumer_.groupMetadata()};
  return classify(out_.producer()->send_offsets_to_transaction(
    list.items, group.get(), static_cast<int>(timeout_.count())));
}

txn_status kafka_transaction_port::commit() {
  return classify(out_.producer()->commit_transaction(static_cast<int>(timeout_.count())));
}

txn_status kafka_transaction_port::abort() {
  auto closed = out_.close_gate();
  // A coordinator that does not answer must not hang the service (and the tasks waiting on
  // the gate) for ever: a timed-out abort may be called again, once, then it fails.
  txn_status status;
  for (int attempt = 0; attempt < 2; ++attempt) {
    status = classify(out_.producer()->abort_transaction(static_cast<int>(timeout_.count())));
    if (status.ok || !status.retriable)
      break;
  }
  return status;
}

// -- kafka_log_reader -----------------------------------------------------------------------

kafka_log_reader::kafka_log_reader(std::unique_ptr<RdKafka::KafkaConsumer> consumer)
  : consumer_(std::move(consumer)),
    fetch_(std::make_unique<fetch_waker>(*consumer_)) {}

kafka_log_reader::~kafka_log_reader() {
  if (consumer_)
    consumer_->close();
}

expected<std::pair<std::int64_t, std::int64_t>>
kafka_log_reader::watermarks(const std::string& topic, std::int32_t partition) {
  std::int64_t low = -1;
  std::int64_t high = -1;
  auto err = consumer_->query_watermark_offsets(topic, partition, &low, &high, 10000);
  if (err != RdKafka::ERR_NO_ERROR)
    return error{errc::kafka_error, RdKafka::err2str(err)};
  if (low < 0 || high < low)
    return error{errc::kafka_error, "implausible watermarks low=" + std::to_string(low)
                                      + " high=" + std::to_string(high)};
  return std::make_pair(low, high);
}

void kafka_log_reader::assign(const std::vector<partition_offset>& from) {
  fetch_->forget_all();
  partition_list list{from};
  consumer_->assign(list.items);
}

void kafka_log_reader::next(log_read& into, std::chrono::milliseconds timeout) {
  auto m = fetch_->consume(static_cast<int>(timeout.count()));
  auto* raw = m->c_ptr();
  switch (m->err()) {
  case RdKafka::ERR_NO_ERROR:
    break;
  case RdKafka::ERR__PARTITION_EOF:
    into.what = log_read::kind::end_of_partition;
    into.rec.topic = m->topic_name();
    into.rec.partition = m->partition();
    return;
  case RdKafka::ERR__TIMED_OUT:
    into.what = log_read::kind::nothing;
    return;
  default:
    into.what = log_read::kind::error;
    into.message = m->errstr();
    return;
  }
  into.what = log_read::kind::record;
  auto& r = into.rec;
  r.topic.assign(rd_kafka_topic_name(raw->rkt)); // reuses the string's room
  r.partition = m->partition();
  r.offset = m->offset();
  r.timestamp_ms = m->timestamp().timestamp;
  if (raw->key)
    r.key.assign(static_cast<const char*>(raw->key), raw->key_len);
  else
    r.key.clear();
  r.key_null = raw->key == nullptr;
  r.value_null = raw->payload == nullptr;
  into.value_null = r.value_null;
  if (raw->payload)
    r.value.assign(static_cast<const char*>(raw->payload), raw->len);
  else
    r.value.clear();
  r.headers.clear();
  append_headers(raw, r.headers);
}

std::int64_t kafka_log_reader::position(const std::string& topic, std::int32_t partition) {
  return fetch_->position(topic, partition);
}

void kafka_log_reader::unassign() {
  consumer_->unassign();
}

} // namespace eddy::detail
