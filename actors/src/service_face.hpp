#pragma once
// The endpoints every service answers on its HTTP server (internal to the runtime):
// `GET /health` (the lifecycle state and why), `GET /ready` (200 only while running with
// every assigned partition restored, 503 otherwise), `GET /topology` (what the service
// reads, writes, journals and keeps, with partition counts and the current assignment)
// and `GET /metrics` (Prometheus; see service_metrics.hpp).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <eddy/internal/kafka.hpp>
#include <eddy/service.hpp>

#include "consumer_stats.hpp"
#include "http_endpoint.hpp"
#include "runtime.hpp"

namespace eddy::detail {

/// What the endpoints read: the running service's runtime and what it declared. Every
/// function is called from the server's threads while the service runs.
struct service_face {
  std::string service_name;
  /// The instance's label in metrics: the address its endpoint is bound to.
  std::string instance;
  std::string group_id;
  /// The topics the service declared (created if missing), journal and tables included.
  std::vector<internal::topic_spec> declared_topics;
  /// Partition counts of the consumed topics, as the cluster reported them at start.
  std::map<std::string, int> consumed_partitions;
  /// The lifecycle state and the reason for it.
  std::function<service_state()> state;
  std::function<std::string()> reason;
  runtime* rt = nullptr;
  /// The group consumer's lag per partition.
  const consumer_stats* consumer_lag = nullptr;

  /// Empty while the service serves every partition it owns (running, assigned by its
  /// group, nothing left to restore), else why it does not; from one reading of each.
  std::string not_ready_reason() const;
  bool ready() const { return not_ready_reason().empty(); }
};

/// Adds /health, /ready, /topology and /metrics to `endpoint`; `face` outlives the
/// endpoint's serving.
void add_service_routes(http_endpoint& endpoint, const service_face& face);

/// Binds `where` with `cfg`'s thread count and body limit, sets `face.instance` to the
/// bound address, and serves `face`'s routes; `errc::invalid_config` if it cannot bind.
expected<std::unique_ptr<http_endpoint>>
open_service_endpoint(service_face& face, const listen_address& where, const config& cfg);

} // namespace eddy::detail
