#pragma once

// The partition task actor (internal to the runtime): one per assigned partition, fed
// batches of records in offset order by the source, calling the user's handler for each
// and tying every emitted record to the batch's commit ticket.

#include <memory>
#include <vector>

#include <caf/all.hpp>

#include <eddy/record.hpp>

#include "partition_progress.hpp"
#include "runtime.hpp"

namespace eddy::detail {

/// Records of one partition, consecutive and in offset order.
struct record_batch {
  std::vector<record> records;
};

/// Spawnable behavior of a partition task.
/// `state` is the journal partition's state, or null if the service has no journal.
caf::behavior partition_task(caf::event_based_actor* self, runtime* rt,
                             std::shared_ptr<partition_progress> progress, const handler* fn,
                             std::shared_ptr<partition_state> state);

} // namespace eddy::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eddy::detail::record_batch)
