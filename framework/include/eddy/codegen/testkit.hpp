#pragma once

/// @file
/// What the generated test kits (`<file>.eddy.testkit.h`) build on: a context that
/// captures what handlers emit, keeps a service's state in memory and serves table rows a
/// test puts, and the records a kit dead-lettered or saw skipped. Included by tests only,
/// so service binaries carry no test code.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <eddy/codegen/runtime.hpp>
#include <eddy/context.hpp>
#include <eddy/record.hpp>
#include <eddy/state_store.hpp>
#include <eddy/state_view.hpp>

namespace eddy::codegen {

// -- test kits -----------------------------------------------------------------------------

/// A record a handler skipped (see `context::skipped`), with the reason it gave.
struct skipped_record {
  /// The record that was skipped.
  record input;
  /// Why, e.g. that the service does not consume its type.
  std::string reason;
};

/// A record a generated test kit sent to the dead-letter topic, with the error's message.
struct dead_letter {
  /// The record the handler failed on.
  record input;
  /// What the exception said.
  std::string error;
};

/// A context that keeps what handlers emit instead of producing it; the heart of the
/// generated test kits. With a journal it also keeps the service's state, in an in-memory
/// store folded by the service's journal applier as the runtime would, and it serves table
/// lookups from rows seeded with `put_row()`. Records that handlers report as skipped are
/// kept too, as the runtime counts them. Not thread-safe: a test kit drives its handlers on
/// one thread.
class capture_context : public context {
public:
  /// Creates a context for a service named `service_name` without a journal.
  explicit capture_context(std::string service_name)
    : service_name_(std::move(service_name)) {}

  /// Creates a context for a service named `service_name` whose own events go to `journal`
  /// and are folded into its state by `apply`.
  capture_context(std::string service_name, std::string journal, journal_applier apply)
    : service_name_(std::move(service_name)),
      journal_(std::move(journal)),
      apply_(std::move(apply)),
      store_(state_store::open_in_memory()) {}

  /// Keeps the record instead of producing it.
  void emit(const std::string& topic, std::string_view key, std::string_view value,
            const std::vector<header>& headers) override {
    record rec;
    rec.topic = topic;
    rec.key = std::string{key};
    rec.key_null = key.data() == nullptr;
    rec.value = std::string{value};
    rec.headers = headers;
    records_.push_back(std::move(rec));
  }

  /// Keeps the tombstone (a record with `value_null` set) instead of producing it.
  void emit_tombstone(const std::string& topic, std::string_view key,
                      const std::vector<header>& headers) override {
    emit(topic, key, {}, headers);
    records_.back().value_null = true;
  }

  /// The name given at construction.
  const std::string& service_name() const noexcept override { return service_name_; }

  /// A view of the in-memory state store; throws std::logic_error without a journal.
  state_view state() override {
    if (!store_)
      throw std::logic_error{"service " + service_name_ + " declares no journal"};
    return *store_;
  }

  /// Applies the event to the state store and then keeps it as a record of the journal,
  /// like `emit()`, as the runtime does: an event whose applier throws is not kept, and
  /// the exception propagates. Throws std::logic_error without a journal.
  void emit_event(std::string_view key, std::string_view value,
                  const std::vector<header>& headers) override {
    auto states = state();
    record event;
    event.topic = journal_;
    event.key = std::string{key};
    event.value = std::string{value};
    event.headers = headers;
    apply_(event, states);
    records_.push_back(std::move(event));
  }

  /// Keeps `input` and `reason`, as the runtime counts and logs a skipped record.
  void skipped(const record& input, std::string_view reason) override {
    skipped_.push_back({input, std::string{reason}});
  }

  /// The row seeded for `key` in the table of `topic`, or nullopt.
  std::optional<std::string> lookup(const std::string& topic, const std::string& key) override {
    auto row = tables_.find({topic, key});
    if (row == tables_.end())
      return std::nullopt;
    return row->second;
  }

  /// Seeds the table of `topic` with `key` = `value`; an empty value is a value, as in
  /// the runtime (a Protobuf row whose fields all have their defaults).
  void put_row(const std::string& topic, const std::string& key, std::string value) {
    tables_[{topic, key}] = std::move(value);
  }

  /// Deletes `key` from the table of `topic`, as a tombstone does.
  void erase_row(const std::string& topic, const std::string& key) {
    tables_.erase({topic, key});
  }

  /// The state store, read-only; throws std::logic_error without a journal.
  const state_store& store() const {
    if (!store_)
      throw std::logic_error{"service " + service_name_ + " declares no journal"};
    return *store_;
  }

  /// Everything emitted so far, in order.
  const std::vector<record>& records() const noexcept { return records_; }

  /// The records reported as skipped so far, in order, with their reasons.
  const std::vector<skipped_record>& skipped_records() const noexcept { return skipped_; }

  /// Forgets everything emitted so far; keeps the skipped records (a counter).
  void clear() noexcept { records_.clear(); }

  /// Decodes the emitted records of type `Message`, in order.
  template <class Message>
  std::vector<Message> emitted() const {
    static_assert(std::is_base_of_v<google::protobuf::Message, Message>,
                  "emitted<T>() takes a generated Protobuf message type");
    std::vector<Message> result;
    for (auto& rec : records_)
      if (type_of(rec) == Message::descriptor()->full_name())
        result.push_back(decode<Message>(rec));
    return result;
  }

private:
  std::string service_name_;
  std::string journal_;
  journal_applier apply_;
  std::optional<state_store> store_;
  std::map<std::pair<std::string, std::string>, std::string> tables_;
  std::vector<record> records_;
  std::vector<skipped_record> skipped_;
};

} // namespace eddy::codegen
