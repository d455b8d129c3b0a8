#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "sql/sql_engine.h"

namespace strata::delta {
class Snapshot;
}

namespace strata {

// The files and columns of a Delta snapshot, as the SQL engine reads them. NotSupported for a
// snapshot whose data needs deletion vectors or column mapping applied (not yet supported by
// the SQL path).
Result<sql::TableFiles> TableFilesOf(const delta::Snapshot& snapshot);

// Opens a SQL engine and registers every Delta table found in `tables` (catalog name -> path;
// tables that do not exist yet are skipped) plus a resolver for delta.`/path` references with
// VERSION AS OF / TIMESTAMP AS OF.
Result<std::unique_ptr<sql::SqlEngine>> OpenCatalog(
    const std::map<std::string, std::string>& tables, const sql::SqlEngineOptions& options = {});

// Resolves a user's table argument: a catalog name from `tables`, or a directory path.
// NotFound naming the argument when neither exists.
Result<std::string> ResolveTablePath(const std::string& arg,
                                     const std::map<std::string, std::string>& tables);

}  // namespace strata
