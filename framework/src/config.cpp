#include <eddy/config.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <CLI/CLI.hpp>

#include <librdkafka/rdkafkacpp.h>

extern char** environ;

namespace eddy {

namespace {

/// One Eddy setting: its key, default and meaning. Integer settings have a minimum.
struct setting {
  const char* key;
  const char* default_value;
  const char* meaning;
  bool integer;
  std::int64_t minimum;
};

constexpr setting settings[] = {
  {"eddy.credit.window", "30000",
   "records a partition task may have in flight before its partition is paused", true, 1},
  {"eddy.batch.max.records", "500", "records sent to a partition task in one message", true, 1},
  {"eddy.commit.interval.ms", "1000",
   "how often completed offsets are committed (exactly_once: default 100)", true, 1},
  {"eddy.processing.guarantee", "at_least_once",
   "at_least_once or exactly_once (Kafka transactions; needs a real broker)", false, 0},
  {"eddy.transactional.id", "",
   "exactly_once: the producer's transactional.id (default <group.id>-<state folder hash>-"
   "<slot>, the same for an instance restarted on its state folder); an instance started "
   "with the same id fences the older one",
   false, 0},
  {"eddy.journal.check.retention", "true",
   "read the journal's topic configs at start and refuse one that would lose events; false "
   "only where the client may not describe configs (an ACL, librdkafka's mock cluster)",
   false, 0},
  {"eddy.startup.timeout.ms", "15000", "how long start-up waits for the cluster", true, 1},
  {"eddy.shutdown.timeout.ms", "30000", "how long a graceful stop waits for in-flight work",
   true, 1},
  {"eddy.scheduler.threads", "2", "CAF scheduler threads running partition tasks", true, 1},
  {"eddy.scheduler.idle.polls", "20",
   "times an idle scheduler thread looks for work, 50 us apart, before it sleeps until work "
   "comes (CAF's default of 500 keeps threads spinning at moderate load)",
   true, 0},
  {"eddy.state.dir", "eddy-state",
   "folder of the services' state stores (one SQLite file per journal partition)", false, 0},
  {"eddy.dead.letter.topic", "",
   "topic of dead letters: records that failed, outputs refused (default <service>-dlq)", false,
   0},
  {"eddy.errors.decode", "dead_letter",
   "a consumed record that does not decode: dead_letter, continue (log, count, skip) or fail "
   "(stop the service)",
   false, 0},
  {"eddy.errors.handler", "dead_letter",
   "a record whose handler throws: dead_letter, continue or fail", false, 0},
  {"eddy.errors.restore", "fail",
   "a journal event whose applier throws while a restore replays it: fail (stop with the "
   "partition, offset and error) or continue (log, count, skip: the state lacks it)",
   false, 0},
  {"eddy.http.listen", "",
   "HOST:PORT of the service's HTTP endpoint (/health, /ready, /topology); port 0 picks a "
   "free one (the bound address is logged); empty: no endpoint",
   false, 0},
  {"eddy.http.threads", "4", "threads answering HTTP requests", true, 1},
  {"eddy.http.max.body.bytes", "1048576", "largest HTTP request body accepted (larger: 413)",
   true, 1},
  {"eddy.errors.production", "dead_letter",
   "an output the broker refuses for good (too large, invalid, unknown topic or partition): "
   "dead_letter, continue or fail; other delivery failures always stop the service",
   false, 0},
};

const setting* find_setting(const std::string& key) {
  for (auto& s : settings)
    if (key == s.key)
      return &s;
  return nullptr;
}

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// Splits "key=value"; returns false if there is no '=' or the key is empty.
bool split_assignment(const std::string& text, std::string& key, std::string& value) {
  auto eq = text.find('=');
  if (eq == std::string::npos)
    return false;
  key = trim(text.substr(0, eq));
  value = trim(text.substr(eq + 1));
  return !key.empty();
}

/// "host:port", ":port" (every interface) or "[v6 host]:port" with a port from 0 to
/// 65535; an IPv6 host must be bracketed ("::1:80" could mean two things).
std::optional<listen_address> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt;
  }
  auto port = parse_integer(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535)
    return std::nullopt;
  return listen_address{host, static_cast<int>(*port)};
}

} // namespace

config& config::set(std::string key, std::string value) {
  entries_[std::move(key)] = std::move(value);
  return *this;
}

expected<void> config::load_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return error{errc::invalid_config, "cannot read config file '" + path + "'"};
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    line = trim(line);
    if (line.empty() || line[0] == '#')
      continue;
    std::string key, value;
    if (!split_assignment(line, key, value))
      return error{errc::invalid_config, path + ":" + std::to_string(line_number)
                                           + ": expected 'key=value', got '" + line + "'"};
    set(key, value);
  }
  return {};
}

void config::load_environment() {
  for (char** env = environ; env && *env; ++env) {
    std::string entry{*env};
    if (!starts_with(entry, "EDDY_"))
      continue;
    std::string name, value;
    if (!split_assignment(entry, name, value))
      continue;
    // The local Kafka launcher's own variables are not librdkafka properties.
    if (name == "EDDY_KAFKA_DIR" || name == "EDDY_KAFKA_CACHE")
      continue;
    bool kafka = starts_with(name, "EDDY_KAFKA_");
    std::string key = kafka ? name.substr(11) : "eddy." + name.substr(5);
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) {
      return c == '_' ? '.' : static_cast<char>(std::tolower(c));
    });
    // Other EDDY_* variables (of scripts and tests) are not settings and are skipped.
    if (!kafka && find_setting(key) == nullptr)
      continue;
    set(key, value);
  }
}

expected<config> config::from_command_line(int argc, const char* const* argv) {
  config result;
  result.load_environment();
  // CLI11 parses; the help text is usage(), which lists every Eddy setting.
  CLI::App app{"", argc > 0 ? argv[0] : "service"};
  app.set_help_flag();
  std::vector<std::string> files;
  std::vector<std::string> assignments;
  app.add_flag("-h,--help", result.help_requested_);
  app.add_option("-c,--config", files)->allow_extra_args(false);
  app.add_option("-X,--set", assignments)->allow_extra_args(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return error{errc::invalid_config, std::string{e.what()} + " (see --help)"};
  }
  for (auto& path : files)
    if (auto loaded = result.load_file(path); !loaded)
      return loaded.error_value();
  for (auto& assignment : assignments) {
    std::string key, value;
    if (!split_assignment(assignment, key, value))
      return error{errc::invalid_config, "-X needs key=value, got '" + assignment + "'"};
    result.set(key, value);
  }
  return result;
}

std::int64_t config::integer(const std::string& key, std::int64_t fallback,
                             std::int64_t minimum, std::int64_t maximum) const {
  auto value = get(key);
  if (!value)
    return fallback;
  auto parsed = parse_integer(*value);
  if (!parsed || *parsed < minimum || *parsed > maximum)
    throw std::invalid_argument{"setting '" + key + "' needs an integer from "
                                + std::to_string(minimum) + " to " + std::to_string(maximum)
                                + ", got '" + *value + "'"};
  return *parsed;
}

std::string config::usage(const std::string& program) {
  std::ostringstream out;
  out << "usage: " << program << " [--config FILE]... [-X key=value]... [--help]\n\n"
      << "  -c, --config FILE   read key=value lines from FILE\n"
      << "  -X, --set K=V       set a key (an Eddy setting or any librdkafka property)\n"
      << "  -h, --help          show this help\n\n"
      << "Keys: 'eddy.*' are Eddy settings; 'app.*' belong to the service itself;\n"
      << "'consumer.*' / 'producer.*' are librdkafka properties for one client; anything\n"
      << "else is a librdkafka property for both clients.\n"
      << "Environment: EDDY_KAFKA_<PROP> sets a librdkafka property (bootstrap.servers as\n"
      << "EDDY_KAFKA_BOOTSTRAP_SERVERS), EDDY_<SETTING> an Eddy setting. Command-line\n"
      << "values win over files, files over the environment.\n\n"
      << "Eddy settings:\n"
      << describe_settings();
  return out.str();
}

std::string config::describe_settings() {
  std::ostringstream out;
  for (auto& s : settings)
    out << "  " << s.key << " (default " << (*s.default_value ? s.default_value : "''")
        << "): " << s.meaning << "\n";
  return out.str();
}

expected<void> config::validate() const {
  for (auto& [key, value] : entries_) {
    if (!starts_with(key, "eddy."))
      continue;
    auto* s = find_setting(key);
    if (s == nullptr)
      return error{errc::invalid_config, "unknown Eddy setting '" + key + "'; known settings:\n"
                                           + describe_settings()};
    if (key == "eddy.processing.guarantee" && value != "at_least_once"
        && value != "exactly_once")
      return error{errc::invalid_config, "setting '" + key
                                           + "' must be at_least_once or exactly_once, got '"
                                           + value + "'"};
    if (key == "eddy.journal.check.retention" && value != "true" && value != "false")
      return error{errc::invalid_config,
                   "setting '" + key + "' must be true or false, got '" + value + "'"};
    if (key == "eddy.errors.restore" && value != "fail" && value != "continue")
      return error{errc::invalid_config,
                   "setting '" + key + "' must be fail or continue, got '" + value + "'"};
    if (starts_with(key, "eddy.errors.") && !parse_error_response(value))
      return error{errc::invalid_config, "setting '" + key
                                           + "' must be dead_letter, continue or fail, got '"
                                           + value + "'"};
    if (key == "eddy.http.listen" && !value.empty() && !parse_listen_address(value))
      return error{errc::invalid_config, "setting '" + key
                                           + "' needs HOST:PORT with a port from 0 to 65535 "
                                             "(:PORT for every interface, [HOST]:PORT for "
                                             "IPv6), got '"
                                           + value + "'"};
    if (key == "eddy.http.threads" && parse_integer(value).value_or(0) > 1024)
      return error{errc::invalid_config, "setting '" + key
                                           + "' needs an integer from 1 to 1024, got '" + value
                                           + "'"};
    if (s->integer) {
      auto parsed = parse_integer(value);
      if (!parsed || *parsed < s->minimum)
        return error{errc::invalid_config,
                     "setting '" + key + "' needs an integer >= " + std::to_string(s->minimum)
                       + ", got '" + value + "'"};
    }
  }
  for (auto kind : {client_kind::consumer, client_kind::producer}) {
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    for (auto& [key, value] : kafka_properties(kind)) {
      std::string reason;
      if (conf->set(key, value, reason) != RdKafka::Conf::CONF_OK)
        return error{errc::invalid_config,
                     "librdkafka property '" + key + "' = '" + value + "': " + reason};
    }
  }
  return {};
}

std::optional<std::string> config::get(const std::string& key) const {
  if (auto i = entries_.find(key); i != entries_.end())
    return i->second;
  return std::nullopt;
}

std::map<std::string, std::string> config::kafka_properties(client_kind kind) const {
  const char* own = kind == client_kind::consumer ? "consumer." : "producer.";
  std::map<std::string, std::string> result;
  for (auto& [key, value] : entries_)
    if (!starts_with(key, "eddy.") && !starts_with(key, "app.")
        && !starts_with(key, "consumer.") && !starts_with(key, "producer."))
      result[key] = value;
  for (auto& [key, value] : entries_)
    if (starts_with(key, own))
      result[key.substr(std::char_traits<char>::length(own))] = value;
  // The group identity is the consumer's alone; librdkafka warns if a producer gets it.
  if (kind == client_kind::producer) {
    result.erase("group.id");
    result.erase("group.instance.id");
  }
  return result;
}

std::int64_t config::integer_setting(const std::string& key) const {
  auto* s = find_setting(key);
  auto value = get(key).value_or(s->default_value);
  return parse_integer(value).value_or(*parse_integer(s->default_value));
}

std::int64_t config::credit_window() const {
  return integer_setting("eddy.credit.window");
}

std::int64_t config::batch_max_records() const {
  return integer_setting("eddy.batch.max.records");
}

std::chrono::milliseconds config::commit_interval() const {
  if (!get("eddy.commit.interval.ms") && guarantee() == processing_guarantee::exactly_once)
    return std::chrono::milliseconds{100};
  return std::chrono::milliseconds{integer_setting("eddy.commit.interval.ms")};
}

processing_guarantee config::guarantee() const {
  return get("eddy.processing.guarantee") == "exactly_once"
           ? processing_guarantee::exactly_once
           : processing_guarantee::at_least_once;
}

std::string config::transactional_id() const {
  return get("eddy.transactional.id").value_or("");
}

std::chrono::milliseconds config::startup_timeout() const {
  return std::chrono::milliseconds{integer_setting("eddy.startup.timeout.ms")};
}

std::chrono::milliseconds config::shutdown_timeout() const {
  return std::chrono::milliseconds{integer_setting("eddy.shutdown.timeout.ms")};
}

int config::scheduler_threads() const {
  return static_cast<int>(integer_setting("eddy.scheduler.threads"));
}

std::int64_t config::scheduler_idle_polls() const {
  return integer_setting("eddy.scheduler.idle.polls");
}

bool config::restore_skips_bad_events() const {
  return get("eddy.errors.restore").value_or("fail") == "continue";
}

bool config::check_journal_retention() const {
  return get("eddy.journal.check.retention").value_or("true") == "true";
}

std::string config::state_dir() const {
  return get("eddy.state.dir").value_or("eddy-state");
}

std::string config::dead_letter_topic() const {
  return get("eddy.dead.letter.topic").value_or("");
}

error_response config::error_response_for(error_moment moment) const {
  auto key = std::string{"eddy.errors."} + to_string(moment);
  return parse_error_response(get(key).value_or(find_setting(key)->default_value))
    .value_or(error_response::dead_letter);
}

std::optional<listen_address> config::http_listen() const {
  auto value = get("eddy.http.listen").value_or("");
  if (value.empty())
    return std::nullopt;
  return parse_listen_address(value);
}

int config::http_threads() const {
  return static_cast<int>(integer_setting("eddy.http.threads"));
}

std::size_t config::http_max_body_bytes() const {
  return static_cast<std::size_t>(integer_setting("eddy.http.max.body.bytes"));
}

} // namespace eddy
