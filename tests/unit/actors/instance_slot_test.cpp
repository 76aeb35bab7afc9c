// Unit tests of instance slots: instances sharing a state folder get different slots, and a
// restarted instance gets its predecessor's slot (and so its transactional.id) back.

#include <filesystem>

#include <catch2/catch.hpp>

#include "instance_slot.hpp"
#include "kafka_fixture.hpp"

TEST_CASE("instances sharing a state folder get different slots; a freed slot is reused") {
  auto folder = std::filesystem::temp_directory_path() / eddy::test::unique_name("eddy-slots");
  std::string first_name;
  {
    auto first = eddy::detail::instance_slot::claim(folder.string());
    auto second = eddy::detail::instance_slot::claim(folder.string());
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->number() == 0);
    CHECK(second->number() == 1);
    CHECK(first->stable_name() != second->stable_name());
    first_name = first->stable_name();
  }
  auto again = eddy::detail::instance_slot::claim(folder.string());
  REQUIRE(again);
  CHECK(again->number() == 0);
  CHECK(again->stable_name() == first_name);
  auto elsewhere = eddy::detail::instance_slot::claim((folder / "other").string());
  REQUIRE(elsewhere);
  CHECK(elsewhere->stable_name() != first_name);
  std::filesystem::remove_all(folder);
}
