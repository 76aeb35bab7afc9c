#include <eddy/state_store.hpp>

#include <chrono>
#include <filesystem>

#include <SQLiteCpp/SQLiteCpp.h>

#include <eddy/log.hpp>

namespace eddy {

struct state_store::impl {
  std::string path;
  std::unique_ptr<SQLite::Database> db;
  // Prepared once per store, reused by every call (declared after `db`: destroyed first).
  std::unique_ptr<SQLite::Statement> select_row;
  std::unique_ptr<SQLite::Statement> select_checkpoint;
  std::unique_ptr<SQLite::Statement> upsert_row;
  std::unique_ptr<SQLite::Statement> delete_row;
  std::unique_ptr<SQLite::Statement> save_checkpoint;
  std::map<std::string, std::optional<std::string>> staged_rows;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> staged_checkpoints;
  bool recovered = false;

  /// Prepares the statements on the open `db`.
  void prepare() {
    select_row =
      std::make_unique<SQLite::Statement>(*db, "SELECT value FROM rows WHERE key = ?");
    select_checkpoint = std::make_unique<SQLite::Statement>(
      *db, "SELECT next_offset FROM checkpoints WHERE topic = ? AND partition = ?");
    upsert_row = std::make_unique<SQLite::Statement>(
      *db, "INSERT INTO rows (key, value) VALUES (?, ?) "
           "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    delete_row = std::make_unique<SQLite::Statement>(*db, "DELETE FROM rows WHERE key = ?");
    save_checkpoint = std::make_unique<SQLite::Statement>(
      *db, "INSERT INTO checkpoints (topic, partition, next_offset) VALUES (?, ?, ?) "
           "ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset");
  }
};

namespace {

/// Opens `path` as a store and checks it; throws SQLite::Exception if it is not healthy.
std::unique_ptr<SQLite::Database> open_checked(const std::string& path) {
  auto db =
    std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db->exec("PRAGMA journal_mode=WAL");
  db->exec("PRAGMA synchronous=NORMAL");
  SQLite::Statement check{*db, "PRAGMA quick_check"};
  if (!check.executeStep() || check.getColumn(0).getString() != "ok")
    throw SQLite::Exception{"quick_check failed"};
  db->exec("CREATE TABLE IF NOT EXISTS rows (key BLOB PRIMARY KEY, value BLOB NOT NULL)");
  db->exec("CREATE TABLE IF NOT EXISTS checkpoints (topic TEXT NOT NULL, partition INTEGER "
           "NOT NULL, next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition))");
  return db;
}

} // namespace

expected<state_store> state_store::open(const std::string& path) {
  auto self = std::make_unique<impl>();
  self->path = path;
  std::error_code ec;
  auto folder = std::filesystem::path{path}.parent_path();
  if (!folder.empty())
    std::filesystem::create_directories(folder, ec);
  try {
    self->db = open_checked(path);
  } catch (const SQLite::Exception& e) {
    // A damaged cache is not worth a crash loop: keep it for inspection, start afresh.
    auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto aside = path + ".corrupt-" + std::to_string(stamp);
    logger().warn("state store corrupt path={} error=\"{}\" moved_to={}", path, e.what(),
                  aside);
    std::filesystem::rename(path, aside, ec);
    for (const char* suffix : {"-wal", "-shm"})
      std::filesystem::remove(path + suffix, ec);
    try {
      self->db = open_checked(path);
      self->recovered = true;
    } catch (const SQLite::Exception& again) {
      return error{errc::invalid_config,
                   "cannot create state store '" + path + "': " + again.what()};
    }
  }
  try {
    self->prepare();
  } catch (const SQLite::Exception& e) {
    return error{errc::invalid_config,
                 "cannot prepare state store '" + path + "': " + e.what()};
  }
  return state_store{std::move(self)};
}

state_store state_store::open_in_memory() {
  auto self = std::make_unique<impl>();
  self->path = ":memory:";
  self->db = open_checked(self->path);
  self->prepare();
  return state_store{std::move(self)};
}

state_store::state_store(std::unique_ptr<impl> self)
  : impl_(std::move(self)) {}
state_store::state_store(state_store&&) noexcept = default;
state_store& state_store::operator=(state_store&&) noexcept = default;
state_store::~state_store() = default;

std::optional<std::string> state_store::get(const std::string& key) const {
  if (auto i = impl_->staged_rows.find(key); i != impl_->staged_rows.end())
    return i->second;
  auto& query = *impl_->select_row;
  query.reset();
  query.bind(1, key.data(), static_cast<int>(key.size()));
  if (!query.executeStep())
    return std::nullopt;
  auto column = query.getColumn(0);
  std::string value{static_cast<const char*>(column.getBlob()),
                    static_cast<std::size_t>(column.getBytes())};
  query.reset(); // ends the read, so a commit on this connection is not held back
  return value;
}

void state_store::put(const std::string& key, std::string value) {
  impl_->staged_rows[key] = std::move(value);
}

void state_store::erase(const std::string& key) {
  impl_->staged_rows[key] = std::nullopt;
}

void state_store::set_checkpoint(const std::string& topic, std::int32_t partition,
                                 std::int64_t next_offset) {
  impl_->staged_checkpoints[{topic, partition}] = next_offset;
}

std::optional<std::int64_t> state_store::checkpoint(const std::string& topic,
                                                    std::int32_t partition) const {
  if (auto i = impl_->staged_checkpoints.find({topic, partition});
      i != impl_->staged_checkpoints.end())
    return i->second;
  auto& query = *impl_->select_checkpoint;
  query.reset();
  query.bind(1, topic);
  query.bind(2, partition);
  if (!query.executeStep())
    return std::nullopt;
  auto offset = query.getColumn(0).getInt64();
  query.reset();
  return offset;
}

expected<void> state_store::commit() {
  if (staged() == 0)
    return {};
  try {
    SQLite::Transaction transaction{*impl_->db};
    auto& upsert = *impl_->upsert_row;
    auto& remove = *impl_->delete_row;
    auto& save = *impl_->save_checkpoint;
    for (auto* statement : {&upsert, &remove, &save})
      statement->reset(); // a previous commit may have failed half-way
    for (auto& [key, value] : impl_->staged_rows) {
      auto& statement = value ? upsert : remove;
      statement.bind(1, key.data(), static_cast<int>(key.size()));
      if (value)
        statement.bind(2, value->data(), static_cast<int>(value->size()));
      statement.exec();
      statement.reset();
    }
    for (auto& [where, offset] : impl_->staged_checkpoints) {
      save.bind(1, where.first);
      save.bind(2, where.second);
      save.bind(3, offset);
      save.exec();
      save.reset();
    }
    transaction.commit();
  } catch (const SQLite::Exception& e) {
    return error{errc::commit_failed, "state store '" + impl_->path + "': " + e.what()};
  }
  rollback();
  return {};
}

void state_store::rollback() noexcept {
  impl_->staged_rows.clear();
  impl_->staged_checkpoints.clear();
}

const std::map<std::string, std::optional<std::string>>&
state_store::staged_rows() const noexcept {
  return impl_->staged_rows;
}

std::size_t state_store::staged() const noexcept {
  return impl_->staged_rows.size() + impl_->staged_checkpoints.size();
}

bool state_store::recovered_from_corruption() const noexcept {
  return impl_->recovered;
}

const std::string& state_store::path() const noexcept {
  return impl_->path;
}

} // namespace eddy
