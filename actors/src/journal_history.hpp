#pragma once

// The start-up check that a service's journal keeps every event (internal to the runtime):
// the journal is the truth, so one whose topic configs would let the broker delete or
// compact events stops the service before it runs on a history that may already be gone.

#include <chrono>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include <eddy/error.hpp>
#include <eddy/service.hpp>

namespace eddy::detail {

/// Checks that the journal `topic` keeps every event, as the broker behind `admin` reports
/// its configs (see `journal_options::snapshots_replace_history`). A null `admin`
/// (`eddy.journal.check.retention=false`) skips the check with a warning. A
/// question the broker does not answer is asked again a few times, then fails the start:
/// it never counts as a pass.
expected<void> check_journal_history(RdKafka::Handle* admin, const std::string& topic,
                                     const journal_options& options,
                                     std::chrono::milliseconds timeout);

} // namespace eddy::detail
