#include "pipeline/catalog.h"

#include <filesystem>

#include "duck/duck.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"

namespace strata {

bool NeedsDeltaScan(const delta::Snapshot& snapshot) {
  return snapshot.num_files_with_deletion_vectors() > 0 ||
         snapshot.column_mapping_mode() != "none" || !snapshot.schema().ok();
}

Result<sql::TableFiles> TableFilesOf(const delta::Snapshot& snapshot) {
  if (NeedsDeltaScan(snapshot)) {
    return NotSupported("table " + snapshot.table_path() +
                        " has deletion vectors, column mapping or nested columns; the delta.`path` "
                        "form cannot read it yet, query it by its catalog name");
  }
  STRATA_ASSIGN_OR_RETURN(Schema schema, snapshot.schema());
  sql::TableFiles t;
  t.schema = std::make_shared<Schema>(std::move(schema));
  t.partition_columns = snapshot.partition_columns();
  for (const auto& add : snapshot.files()) {
    t.files.push_back(
        {delta::ResolveDataPath(snapshot.table_path(), add.path), add.partition_values});
  }
  return t;
}

Status RegisterDeltaTable(sql::SqlEngine* engine, const std::string& name,
                          const delta::Snapshot& snapshot,
                          const std::optional<delta::TimeRange>& range) {
  std::vector<delta::AddFile> files;
  if (range) {
    STRATA_ASSIGN_OR_RETURN(files, delta::PruneFiles(snapshot, *range));
  }
  if (!range && !NeedsDeltaScan(snapshot)) {
    STRATA_ASSIGN_OR_RETURN(sql::TableFiles t, TableFilesOf(snapshot));
    return engine->RegisterTable(name, t).WithContext("table " + name);
  }
  return delta::RegisterSnapshot(engine, name, snapshot, range ? files : snapshot.files())
      .WithContext("table " + name);
}

sql::DeltaResolver DeltaPathResolver() {
  return [](const std::string& path, std::optional<int64_t> version,
            std::optional<std::string> timestamp) -> Result<sql::TableFiles> {
    auto table = delta::DeltaTable::Open(path);
    if (!table.ok()) return table.status().WithContext("delta.`" + path + "`");
    std::shared_ptr<const delta::Snapshot> snapshot;
    if (version) {
      STRATA_ASSIGN_OR_RETURN(snapshot, (*table)->SnapshotAt(*version));
    } else if (timestamp) {
      std::optional<int64_t> us = delta::ParseTimestampMicros(*timestamp);
      if (!us) {
        return InvalidArgument("TIMESTAMP AS OF '" + *timestamp +
                               "' is not a timestamp (want 'YYYY-MM-DD[ HH:MM:SS[.ffffff]][Z]')");
      }
      // Round down to the millisecond: commit timestamps are in ms.
      int64_t ms = *us >= 0 ? *us / 1000 : (*us - 999) / 1000;
      STRATA_ASSIGN_OR_RETURN(snapshot, (*table)->SnapshotAtTimestamp(ms));
    } else {
      STRATA_ASSIGN_OR_RETURN(snapshot, (*table)->LatestSnapshot());
    }
    if (NeedsDeltaScan(*snapshot)) {
      // Deletion vectors, column mapping or nested columns: the scan SQL applies them. Reading
      // the files' physical columns takes a connection of our own.
      STRATA_ASSIGN_OR_RETURN(auto db, duck::Database::Open("", {{"threads", "1"}}));
      STRATA_ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db));
      sql::TableFiles t;
      STRATA_ASSIGN_OR_RETURN(t.select_sql,
                              delta::ScanSql(conn.get(), *snapshot, snapshot->files()));
      return t;
    }
    return TableFilesOf(*snapshot);
  };
}

Result<std::unique_ptr<sql::SqlEngine>> OpenCatalog(
    const std::map<std::string, std::string>& tables, const sql::SqlEngineOptions& options,
    const std::map<std::string, sql::MergedView>& merged) {
  STRATA_ASSIGN_OR_RETURN(auto engine, sql::SqlEngine::Open(options));
  for (const auto& [name, path] : tables) {
    auto table = delta::DeltaTable::Open(path);
    if (!table.ok()) {
      if (table.status().code() == StatusCode::kNotFound) continue;
      return table.status().WithContext("table " + name);
    }
    auto m = merged.find(name);
    // As in SqlService: the merged SELECT (the partitions' progress) before the snapshot.
    std::string merged_sql;
    if (m != merged.end())
      merged_sql = m->second.select_sql(sql::QuotedTableName(m->second.partials_name));
    STRATA_ASSIGN_OR_RETURN(auto snapshot, (*table)->LatestSnapshot());
    if (m == merged.end()) {
      STRATA_RETURN_IF_ERROR(RegisterDeltaTable(engine.get(), name, *snapshot));
      continue;
    }
    STRATA_RETURN_IF_ERROR(RegisterDeltaTable(engine.get(), m->second.partials_name, *snapshot));
    sql::TableFiles view;
    view.select_sql = std::move(merged_sql);
    STRATA_RETURN_IF_ERROR(engine->RegisterTable(name, view));
  }
  engine->SetDeltaResolver(DeltaPathResolver());
  return engine;
}

Result<std::string> ResolveTablePath(const std::string& arg,
                                     const std::map<std::string, std::string>& tables) {
  if (auto it = tables.find(arg); it != tables.end()) return it->second;
  std::error_code ec;
  if (std::filesystem::is_directory(arg, ec)) return arg;
  std::string known;
  for (const auto& [name, path] : tables) known += (known.empty() ? "" : ", ") + name;
  return NotFound("no table '" + arg + "': not a table of this pipeline (" + known +
                  ") nor a directory");
}

}  // namespace strata
