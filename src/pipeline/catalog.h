#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "lake/delta/scan.h"
#include "sql/sql_engine.h"

namespace strata {

// True when reading `snapshot` needs the Delta scanner (lake/delta/scan.h): deletion vectors,
// column mapping, or nested columns.
bool NeedsDeltaScan(const delta::Snapshot& snapshot);

// The files and columns of a Delta snapshot, as SqlEngine::RegisterTable and the delta.`path`
// resolver read them. NotSupported for a snapshot that NeedsDeltaScan (sql::TableFiles cannot
// express deletion vectors or renamed columns; RegisterDeltaTable can).
Result<sql::TableFiles> TableFilesOf(const delta::Snapshot& snapshot);

// Registers `snapshot` as the view `name` in `engine`: plain tables through RegisterTable,
// tables with deletion vectors / column mapping / nested columns through delta::RegisterSnapshot
// (which applies them). With `range`, only the files that may hold rows in the time range are
// in the view (delta::PruneFiles: partition values and min/max/nullCount stats); the caller's
// query must still filter on the range. Errors name the table.
Status RegisterDeltaTable(sql::SqlEngine* engine, const std::string& name,
                          const delta::Snapshot& snapshot,
                          const std::optional<delta::TimeRange>& range = std::nullopt);

// The resolver of delta.`/path` references used by OpenCatalog: the latest snapshot, VERSION AS
// OF n (SnapshotAt) or TIMESTAMP AS OF '...' (a date or timestamp, UTC unless it carries an
// offset; SnapshotAtTimestamp), as TableFiles (so NotSupported for tables that NeedsDeltaScan).
// InvalidArgument for a timestamp that does not parse; the table's errors otherwise.
sql::DeltaResolver DeltaPathResolver();

// Opens a SQL engine and registers every Delta table found in `tables` (catalog name -> path;
// tables that do not exist yet are skipped) plus a resolver for delta.`/path` references with
// VERSION AS OF / TIMESTAMP AS OF (a date or timestamp, UTC unless it carries an offset;
// resolved with DeltaTable::SnapshotAtTimestamp). Catalog tables with deletion vectors or
// column mapping are read correctly; the delta.`path` form refuses them (see TableFilesOf).
// Tables in `merged` are registered as sql::MergedView says (files under partials_name).
Result<std::unique_ptr<sql::SqlEngine>> OpenCatalog(
    const std::map<std::string, std::string>& tables, const sql::SqlEngineOptions& options = {},
    const std::map<std::string, sql::MergedView>& merged = {});

// Resolves a user's table argument: a catalog name from `tables`, or a directory path.
// NotFound naming the argument when neither exists.
Result<std::string> ResolveTablePath(const std::string& arg,
                                     const std::map<std::string, std::string>& tables);

}  // namespace strata
