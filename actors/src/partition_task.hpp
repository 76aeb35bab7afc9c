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
/// `state` is the partition's state, or null if the service is stateless. With `table`
/// set, the task applies the records of that local table to `state` instead of calling
/// `fn` (then null).
caf::behavior partition_task(caf::event_based_actor* self, runtime* rt,
                             std::shared_ptr<partition_progress> progress, const handler* fn,
                             std::shared_ptr<partition_state> state,
                             const local_table_spec* table = nullptr);

} // namespace eddy::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eddy::detail::record_batch)
