#pragma once

// The schema-evolution check: compares the published events of two descriptor snapshots.

#include <string>
#include <vector>

#include <google/protobuf/descriptor.pb.h>

namespace eddy::codegen {

/// Compares the events (messages with `(eddy.topic)`) of `before` with those of `after`,
/// both FileDescriptorSets as `protoc --descriptor_set_out --include_imports` writes them,
/// and returns one message per breaking change, each naming the file, the message, the
/// field and the fix; empty if `after` can read every record `before` could write.
///
/// Breaking: an event type removed; an event moved to another topic or key field; a field
/// number removed without `reserved`; a field number reused with another type or
/// cardinality, or reused after it was reserved. Compatible: new fields, new event types,
/// renamed fields of the same number and type, new messages without a topic.
std::vector<std::string> check_evolution(const google::protobuf::FileDescriptorSet& before,
                                         const google::protobuf::FileDescriptorSet& after);

} // namespace eddy::codegen
