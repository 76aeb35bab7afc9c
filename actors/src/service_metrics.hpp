#pragma once
// `GET /metrics` (internal to the runtime): the service's counters and gauges in the
// Prometheus text format (through prometheus-cpp's serializer), labelled by service and
// instance. Read from the runtime's atomics when scraped: nothing on the records' path.
#include <string>

#include "service_face.hpp"

namespace eddy::detail {

/// The exposition of `face`'s service, as Prometheus scrapes it.
std::string metrics_text(const service_face& face);

} // namespace eddy::detail
