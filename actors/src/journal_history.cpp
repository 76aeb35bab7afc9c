#include "journal_history.hpp"

#include <algorithm>
#include <thread>

#include <eddy/internal/kafka.hpp>
#include <eddy/log.hpp>

namespace eddy::detail {

expected<void> check_journal_history(RdKafka::Handle* admin, const std::string& topic,
                                     const journal_options& options,
                                     std::chrono::milliseconds timeout) {
  if (options.snapshots_replace_history && !options.snapshots)
    return error{errc::invalid_config, "journal '" + topic
                                         + "': snapshots_replace_history "
                                           "needs snapshots = true"};
  if (admin == nullptr) {
    logger().warn("journal retention not checked topic={}: eddy.journal.check.retention=false",
                  topic);
    return {};
  }
  constexpr int attempts = 4;
  auto per_attempt = std::max(timeout / attempts, std::chrono::milliseconds{1000});
  auto configs = internal::describe_topic_configs(*admin, topic, per_attempt);
  for (int attempt = 1; !configs && attempt < attempts; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds{250 * attempt});
    configs = internal::describe_topic_configs(*admin, topic, per_attempt);
  }
  if (!configs)
    return error{errc::topic_error,
                 "cannot check that journal '" + topic
                   + "' keeps its history: " + configs.error_value().message};
  auto loss = internal::history_loss(*configs);
  if (!loss)
    return {};
  auto policy = configs->find("cleanup.policy");
  auto compacted =
    policy == configs->end() || policy->second.find("compact") != std::string::npos;
  if (options.snapshots_replace_history && !compacted) {
    logger().warn("journal keeps no full history topic={} {}: accepted "
                  "(snapshots_replace_history), a rebuild starts from the latest snapshot",
                  topic, *loss);
    return {};
  }
  return error{errc::topic_error,
               "journal '" + topic + "' loses events: " + *loss
                 + "; a journal must keep every event. Fix: kafka-configs.sh "
                   "--bootstrap-server <broker> --alter --entity-type topics --entity-name "
                 + topic + " --add-config "
                 + (compacted ? "cleanup.policy=delete,retention.ms=-1,retention.bytes=-1"
                              : "retention.ms=-1,retention.bytes=-1")
                 + (compacted ? " (events compacted away are gone)"
                              : " (or journal_options{.snapshots = true, "
                                ".snapshots_replace_history = true} to accept the loss)")};
}

} // namespace eddy::detail
