#include "pipeline/catalog.h"

#include <filesystem>

#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"

namespace strata {

Result<sql::TableFiles> TableFilesOf(const delta::Snapshot& snapshot) {
  if (snapshot.num_files_with_deletion_vectors() > 0) {
    return NotSupported("table " + snapshot.table_path() +
                        " has deletion vectors; SQL over such tables is not supported yet");
  }
  if (snapshot.column_mapping_mode() != "none") {
    return NotSupported("table " + snapshot.table_path() +
                        " uses column mapping; SQL over such tables is not supported yet");
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

Result<std::unique_ptr<sql::SqlEngine>> OpenCatalog(
    const std::map<std::string, std::string>& tables, const sql::SqlEngineOptions& options) {
  STRATA_ASSIGN_OR_RETURN(auto engine, sql::SqlEngine::Open(options));
  for (const auto& [name, path] : tables) {
    auto table = delta::DeltaTable::Open(path);
    if (!table.ok()) {
      if (table.status().code() == StatusCode::kNotFound) continue;
      return table.status().WithContext("table " + name);
    }
    STRATA_ASSIGN_OR_RETURN(auto snapshot, (*table)->LatestSnapshot());
    STRATA_ASSIGN_OR_RETURN(sql::TableFiles files, TableFilesOf(*snapshot));
    STRATA_RETURN_IF_ERROR(engine->RegisterTable(name, files).WithContext("table " + name));
  }
  engine->SetDeltaResolver([](const std::string& path, std::optional<int64_t> version,
                              std::optional<std::string> timestamp) -> Result<sql::TableFiles> {
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
