// Unit tests of eddy::state_store: rows and checkpoints become durable together, staged
// changes vanish with a crash, and a corrupt file is moved aside instead of crashing.

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include <eddy/state_store.hpp>

namespace {

/// A fresh folder under the system's temporary directory, removed at the end.
struct temp_folder {
  std::filesystem::path path;
  temp_folder() {
    std::string pattern =
      (std::filesystem::temp_directory_path() / "eddy-store-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~temp_folder() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

} // namespace

TEST_CASE("committed rows and checkpoints survive a reopen together") {
  temp_folder dir;
  {
    auto store = eddy::state_store::open(dir.file("p0.db"));
    REQUIRE(store);
    CHECK_FALSE(store->recovered_from_corruption());
    store->put("apple", "3");
    store->put(std::string{"bin\0key", 7}, std::string{"\0\1\2", 3});
    store->set_checkpoint("orders", 0, 42);
    CHECK(store->get("apple") == "3"); // staged changes are visible before the commit
    REQUIRE(store->commit());
    CHECK(store->staged() == 0);
  }
  auto reopened = eddy::state_store::open(dir.file("p0.db"));
  REQUIRE(reopened);
  CHECK(reopened->get("apple") == "3");
  CHECK(reopened->get(std::string{"bin\0key", 7}) == std::string{"\0\1\2", 3});
  CHECK(reopened->checkpoint("orders", 0) == 42);
  CHECK_FALSE(reopened->checkpoint("orders", 1));
}

TEST_CASE("changes staged but not committed are gone after a crash, checkpoint included") {
  temp_folder dir;
  {
    auto store = eddy::state_store::open(dir.file("p0.db"));
    store->put("apple", "1");
    store->set_checkpoint("orders", 0, 10);
    REQUIRE(store->commit());
    store->put("apple", "2");
    store->erase("apple");
    store->set_checkpoint("orders", 0, 20);
    CHECK_FALSE(store->get("apple"));
    // The process dies here: the store is dropped without commit().
  }
  auto reopened = eddy::state_store::open(dir.file("p0.db"));
  CHECK(reopened->get("apple") == "1");
  CHECK(reopened->checkpoint("orders", 0) == 10);
}

TEST_CASE("erase removes a committed row and rollback drops staged changes") {
  temp_folder dir;
  auto store = eddy::state_store::open(dir.file("p0.db"));
  store->put("a", "1");
  store->put("b", "2");
  REQUIRE(store->commit());
  store->erase("a");
  REQUIRE(store->commit());
  CHECK_FALSE(store->get("a"));
  store->put("b", "changed");
  store->rollback();
  CHECK(store->get("b") == "2");
}

TEST_CASE("a corrupt store file is moved aside and replaced by an empty store") {
  temp_folder dir;
  auto path = dir.file("p3.db");
  std::ofstream{path} << "this is not a SQLite database, it is garbage left by a bad disk";
  auto store = eddy::state_store::open(path);
  REQUIRE(store);
  CHECK(store->recovered_from_corruption());
  CHECK_FALSE(store->checkpoint("orders", 3));
  int moved_aside = 0;
  for (auto& entry : std::filesystem::directory_iterator{dir.path})
    moved_aside += entry.path().filename().string().rfind("p3.db.corrupt-", 0) == 0;
  CHECK(moved_aside == 1);
  store->put("k", "v");
  CHECK(store->commit());
}
