#include "server/sql_service.h"

#include <filesystem>

#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "pipeline/catalog.h"

namespace strata::server {

namespace fs = std::filesystem;

namespace {

std::string Normal(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path).lexically_normal();
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

bool PathIsWithin(const std::string& path, const std::vector<std::string>& dirs) {
  std::string p = Normal(path);
  for (const auto& d : dirs) {
    std::string dir = Normal(d);
    if (p == dir) return true;
    if (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 &&
        (dir == "/" || p[dir.size()] == '/'))
      return true;
  }
  return false;
}

Result<std::unique_ptr<SqlService>> SqlService::Open(SqlServiceOptions options) {
  for (auto& d : options.allowed_directories) d = Normal(d);
  std::unique_ptr<SqlService> service(new SqlService(std::move(options)));
  sql::SqlEngineOptions eo;
  eo.restrict_file_access = true;
  eo.allowed_directories = service->options_.allowed_directories;
  eo.threads = service->options_.threads;
  eo.memory_limit = service->options_.memory_limit;
  STRATA_ASSIGN_OR_RETURN(service->engine_, sql::SqlEngine::Open(eo));
  std::vector<std::string> allowed = service->options_.allowed_directories;
  service->engine_->SetDeltaResolver(
      [allowed](const std::string& path, std::optional<int64_t> version,
                std::optional<std::string> timestamp) -> Result<sql::TableFiles> {
        if (!PathIsWithin(path, allowed)) {
          return InvalidArgument("delta.`" + path +
                                 "`: only tables under the data directory can be read");
        }
        auto table = delta::DeltaTable::Open(path);
        if (!table.ok()) return table.status().WithContext("delta.`" + path + "`");
        std::shared_ptr<const delta::Snapshot> snapshot;
        if (version) {
          STRATA_ASSIGN_OR_RETURN(snapshot, (*table)->SnapshotAt(*version));
        } else if (timestamp) {
          return NotSupported("TIMESTAMP AS OF is not supported yet; use VERSION AS OF");
        } else {
          STRATA_ASSIGN_OR_RETURN(snapshot, (*table)->LatestSnapshot());
        }
        return TableFilesOf(*snapshot);
      });
  // Tables that exist now are registered at once; failures are retried on each request.
  (void)service->Refresh();
  return service;
}

SqlService::SqlService(SqlServiceOptions options) : options_(std::move(options)) {}

SqlService::~SqlService() = default;

Status SqlService::Refresh() {
  std::lock_guard<std::mutex> lock(mu_);
  Status first;
  for (const auto& [name, path] : options_.tables) {
    auto it = open_.find(name);
    if (it == open_.end()) {
      auto table = delta::DeltaTable::Open(path);
      if (!table.ok()) {
        if (table.status().code() != StatusCode::kNotFound && first.ok())
          first = table.status().WithContext("table " + name);
        continue;
      }
      it = open_.emplace(name, std::move(*table)).first;
    }
    // A merged view's SELECT is built before the snapshot is taken: what it reads of the
    // partitions' progress (their watermarks) is then already in that snapshot.
    auto merged = options_.merged.find(name);
    const bool is_merged = merged != options_.merged.end();
    const std::string& view = is_merged ? merged->second.partials_name : name;
    std::string merged_sql;
    if (is_merged) merged_sql = merged->second.select_sql(sql::QuotedTableName(view));
    auto snapshot = it->second->LatestSnapshot();
    if (!snapshot.ok()) {
      if (first.ok()) first = snapshot.status().WithContext("table " + name);
      continue;
    }
    auto v = versions_.find(name);
    if (v == versions_.end() || v->second != (*snapshot)->version()) {
      auto files = TableFilesOf(**snapshot);
      Status st = files.ok() ? engine_->RegisterTable(view, *files) : files.status();
      if (!st.ok()) {
        if (first.ok()) first = st.WithContext("table " + name);
        continue;
      }
      versions_[name] = (*snapshot)->version();
    }
    if (is_merged) {
      // Rebuilt every time: its finality follows the partitions' watermarks.
      sql::TableFiles select;
      select.select_sql = std::move(merged_sql);
      Status st = engine_->RegisterTable(name, select);
      if (!st.ok() && first.ok()) first = st.WithContext("table " + name);
    }
  }
  return first;
}

Result<sql::QueryResult> SqlService::Execute(const std::string& sql, size_t row_limit) {
  // A table that cannot be refreshed keeps its previous view; the statement still runs.
  (void)Refresh();
  sql::QueryOptions qo;
  qo.read_only = true;
  qo.timeout_ms = options_.timeout_ms;
  qo.row_limit =
      row_limit == 0 ? options_.max_row_limit : std::min(row_limit, options_.max_row_limit);
  return engine_->Execute(sql, qo);
}

std::map<std::string, int64_t> SqlService::Versions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return versions_;
}

}  // namespace strata::server
