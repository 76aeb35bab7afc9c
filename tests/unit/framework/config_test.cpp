// Unit tests of eddy::config: sources, precedence, and errors that name the bad key.

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <eddy/config.hpp>

namespace {

std::string write_temp_file(const std::string& text) {
  std::string path = (std::filesystem::temp_directory_path() / "eddy-config-XXXXXX").string();
  int fd = mkstemp(path.data());
  REQUIRE(fd >= 0);
  std::ofstream{path} << text;
  close(fd);
  return path;
}

} // namespace

TEST_CASE("command line values win over config files, which win over the environment") {
  setenv("EDDY_KAFKA_CLIENT_ID", "from-env", 1);
  setenv("EDDY_COMMIT_INTERVAL_MS", "250", 1);
  auto file = write_temp_file("# comment\nclient.id = from-file\nlinger.ms=7\n");
  const char* argv[] = {"svc", "--config", file.c_str(), "-X", "linger.ms=9"};
  auto cfg = eddy::config::from_command_line(5, argv);
  std::remove(file.c_str());
  unsetenv("EDDY_KAFKA_CLIENT_ID");
  unsetenv("EDDY_COMMIT_INTERVAL_MS");
  REQUIRE(cfg);
  CHECK(cfg->get("client.id") == "from-file");
  CHECK(cfg->get("linger.ms") == "9");
  CHECK(cfg->commit_interval() == std::chrono::milliseconds{250});
  CHECK(cfg->validate());
}

TEST_CASE("an unknown librdkafka property fails validation naming the property") {
  eddy::config cfg;
  cfg.set("bootstrap.servers", "127.0.0.1:9092").set("no.such.property", "1");
  auto valid = cfg.validate();
  REQUIRE_FALSE(valid);
  CHECK(valid.error_value().code == eddy::errc::invalid_config);
  CHECK(valid.error_value().message.find("no.such.property") != std::string::npos);
}

TEST_CASE("an invalid librdkafka value fails validation naming the property") {
  eddy::config cfg;
  cfg.set("acks", "sometimes");
  auto valid = cfg.validate();
  REQUIRE_FALSE(valid);
  CHECK(valid.error_value().message.find("'acks'") != std::string::npos);
}

TEST_CASE("unknown and malformed Eddy settings fail validation") {
  eddy::config unknown;
  unknown.set("eddy.credit.windw", "5");
  REQUIRE_FALSE(unknown.validate());
  CHECK(unknown.validate().error_value().message.find("eddy.credit.windw")
        != std::string::npos);

  eddy::config malformed;
  malformed.set("eddy.credit.window", "0");
  REQUIRE_FALSE(malformed.validate());
  CHECK(malformed.validate().error_value().message.find(">= 1") != std::string::npos);
}

TEST_CASE("client prefixes route a property to one client and app keys to none") {
  eddy::config cfg;
  cfg.set("client.id", "both")
    .set("consumer.fetch.min.bytes", "10")
    .set("producer.linger.ms", "3")
    .set("app.input", "orders");
  auto consumer = cfg.kafka_properties(eddy::client_kind::consumer);
  auto producer = cfg.kafka_properties(eddy::client_kind::producer);
  CHECK(consumer.at("client.id") == "both");
  CHECK(consumer.at("fetch.min.bytes") == "10");
  CHECK(consumer.count("linger.ms") == 0);
  CHECK(producer.at("linger.ms") == "3");
  CHECK(producer.count("app.input") == 0);
  CHECK(cfg.validate());
}

TEST_CASE("bad command lines and files are reported with the culprit") {
  const char* unknown_arg[] = {"svc", "--frobnicate"};
  auto a = eddy::config::from_command_line(2, unknown_arg);
  REQUIRE_FALSE(a);
  CHECK(a.error_value().message.find("--frobnicate") != std::string::npos);

  const char* missing_file[] = {"svc", "--config", "does-not-exist.properties"};
  auto b = eddy::config::from_command_line(3, missing_file);
  REQUIRE_FALSE(b);
  CHECK(b.error_value().message.find("does-not-exist.properties") != std::string::npos);

  auto file = write_temp_file("ok=1\nthis line has no equals sign\n");
  eddy::config cfg;
  auto loaded = cfg.load_file(file);
  std::remove(file.c_str());
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error_value().message.find(":2:") != std::string::npos);
}

TEST_CASE("the command line takes both option spellings, in order, and rejects a bare -X") {
  const char* argv[] = {"svc", "--set=linger.ms=3", "-X", "client.id=a", "-Xclient.id=b"};
  auto cfg = eddy::config::from_command_line(5, argv);
  REQUIRE(cfg);
  CHECK(cfg->get("linger.ms") == "3");
  CHECK(cfg->get("client.id") == "b");

  const char* bare[] = {"svc", "-X"};
  auto missing = eddy::config::from_command_line(2, bare);
  REQUIRE_FALSE(missing);
  CHECK(missing.error_value().message.find("--set") != std::string::npos);

  const char* no_equals[] = {"svc", "-X", "linger.ms"};
  auto malformed = eddy::config::from_command_line(3, no_equals);
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error_value().message.find("key=value") != std::string::npos);
}

TEST_CASE("integer settings of a service are parsed and range-checked in one place") {
  eddy::config cfg;
  CHECK(cfg.integer("app.partitions", 4, 1, 100) == 4);
  cfg.set("app.partitions", "12");
  CHECK(cfg.integer("app.partitions", 4, 1, 100) == 12);
  for (auto bad : {"0", "101", "12x", "", "-"}) {
    INFO(bad);
    cfg.set("app.partitions", bad);
    try {
      cfg.integer("app.partitions", 4, 1, 100);
      FAIL("no error for '" << bad << "'");
    } catch (const std::invalid_argument& e) {
      std::string message = e.what();
      CHECK(message.find("app.partitions") != std::string::npos);
      CHECK(message.find("from 1 to 100") != std::string::npos);
    }
  }
}

TEST_CASE("defaults apply when a setting is absent") {
  eddy::config cfg;
  CHECK(cfg.credit_window() == 30000);
  CHECK(cfg.dead_letter_topic().empty());
  const char* help[] = {"svc", "--help"};
  auto parsed = eddy::config::from_command_line(2, help);
  REQUIRE(parsed);
  CHECK(parsed->help_requested());
  CHECK(eddy::config::usage("svc").find("eddy.credit.window") != std::string::npos);
}

TEST_CASE("error policy settings default to dead_letter and accept only the three responses") {
  eddy::config cfg;
  for (auto moment : {eddy::error_moment::decode, eddy::error_moment::handler,
                      eddy::error_moment::production})
    CHECK(cfg.error_response_for(moment) == eddy::error_response::dead_letter);
  cfg.set("eddy.errors.decode", "continue").set("eddy.errors.handler", "fail");
  REQUIRE(cfg.validate());
  CHECK(cfg.error_response_for(eddy::error_moment::decode)
        == eddy::error_response::log_and_continue);
  CHECK(cfg.error_response_for(eddy::error_moment::handler) == eddy::error_response::fail);
  cfg.set("eddy.errors.production", "retry");
  auto invalid = cfg.validate();
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error_value().code == eddy::errc::invalid_config);
  CHECK_THAT(invalid.error_value().message,
             Catch::Contains("eddy.errors.production") && Catch::Contains("retry"));
  CHECK_THAT(eddy::config::describe_settings(), Catch::Contains("eddy.errors.decode"));
}

TEST_CASE("a restore fails on a rejected event by default, and skips it only when told") {
  eddy::config cfg;
  CHECK_FALSE(cfg.restore_skips_bad_events());
  cfg.set("eddy.errors.restore", "continue");
  REQUIRE(cfg.validate());
  CHECK(cfg.restore_skips_bad_events());
  cfg.set("eddy.errors.restore", "dead_letter"); // a restore has nowhere to send it
  auto invalid = cfg.validate();
  REQUIRE_FALSE(invalid);
  CHECK_THAT(invalid.error_value().message, Catch::Contains("fail or continue"));
}

TEST_CASE("the scheduler's idle polls default to 20 and may be 0, never negative") {
  eddy::config cfg;
  CHECK(cfg.scheduler_idle_polls() == 20);
  cfg.set("eddy.scheduler.idle.polls", "0");
  REQUIRE(cfg.validate());
  CHECK(cfg.scheduler_idle_polls() == 0);
  cfg.set("eddy.scheduler.idle.polls", "-1");
  CHECK_FALSE(cfg.validate());
}

TEST_CASE("error responses keep their documented values and setting names") {
  CHECK(static_cast<int>(eddy::error_response::fail) == 1);
  CHECK(static_cast<int>(eddy::error_response::log_and_continue) == 2);
  CHECK(static_cast<int>(eddy::error_response::dead_letter) == 3);
  for (auto response : {eddy::error_response::fail, eddy::error_response::log_and_continue,
                        eddy::error_response::dead_letter})
    CHECK(eddy::parse_error_response(eddy::to_string(response)) == response);
  CHECK(eddy::parse_error_response("log_and_continue") == std::nullopt);
}

TEST_CASE("the HTTP endpoint's address is off by default and checked when set") {
  eddy::config cfg;
  CHECK_FALSE(cfg.http_listen());
  CHECK(cfg.http_threads() == 4);
  CHECK(cfg.http_max_body_bytes() == 1048576);
  auto parsed = [&](const std::string& text) {
    cfg.set("eddy.http.listen", text);
    REQUIRE(cfg.validate());
    return *cfg.http_listen();
  };
  CHECK(parsed("127.0.0.1:8080").host == "127.0.0.1");
  CHECK(parsed("127.0.0.1:8080").port == 8080);
  CHECK(parsed("localhost:0").port == 0);
  CHECK(parsed(":9100").host.empty());
  CHECK(parsed("[::1]:8080").host == "::1");
  CHECK(parsed("[::1]:8080").port == 8080);
  cfg.set("eddy.http.listen", "");
  REQUIRE(cfg.validate());
  CHECK_FALSE(cfg.http_listen());
  for (auto bad : {"8080", "host:", "host:65536", "host:-1", "host:http", "::1:8080",
                   "fe80::1:8080", "[::1:8080", "[]:80"}) {
    cfg.set("eddy.http.listen", bad);
    auto invalid = cfg.validate();
    INFO(bad);
    REQUIRE_FALSE(invalid);
    CHECK_THAT(invalid.error_value().message, Catch::Contains("eddy.http.listen"));
  }
  cfg.set("eddy.http.listen", "127.0.0.1:0").set("eddy.http.threads", "1025");
  CHECK_FALSE(cfg.validate());
  cfg.set("eddy.http.threads", "0");
  CHECK_FALSE(cfg.validate());
}
