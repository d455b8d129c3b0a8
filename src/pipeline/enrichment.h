#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"

namespace strata::delta {
class DeltaTable;
}  // namespace strata::delta

namespace strata {

class ParquetReader;

// A small Delta table used as a lookup (the static side of a stream-to-static join): rows of
// `key_column` -> the values of `value_columns` (all strings; the last row of a key wins).
// Refresh() re-reads the table only when it has a new version (the cached snapshot makes the
// check one directory listing), so a dimension updated while the pipeline runs is picked up at
// the next batch without a restart. A table that does not exist yet is empty until it appears.
// Not thread-safe: one query thread.
class DimensionTable {
 public:
  DimensionTable(std::string path, std::string key_column, std::vector<std::string> value_columns);
  ~DimensionTable();

  // IOError/Corruption when the table exists but cannot be read; the previous contents stay.
  Status Refresh();
  // The values for `key`, in value_columns order (nullopt for a null value); nullptr if absent.
  const std::vector<std::optional<std::string>>* Find(std::string_view key) const;
  int64_t version() const { return version_; }  // -1 before the table exists
  size_t size() const { return rows_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::string path_, key_column_;
  std::vector<std::string> value_columns_;
  std::unique_ptr<delta::DeltaTable> table_;
  std::unique_ptr<ParquetReader> reader_;
  int64_t version_ = -1;
  std::unordered_map<std::string, std::vector<std::optional<std::string>>, Hash, std::equal_to<>>
      rows_;
};

// Paths of the dimension tables silver joins with; empty = that join is off.
struct EnrichmentOptions {
  std::string pages_path;      // columns page_url, page_category, product
  std::string countries_path;  // columns country, region
};

// Schemas of the dimension tables (docs/tables.md).
SchemaPtr PagesDimensionSchema();
SchemaPtr CountriesDimensionSchema();

// Replaces the whole contents of a dimension table with `rows` in one commit (removes every
// file, adds one), creating the table if needed. Used by `strata demo` and tests.
Status OverwriteDimensionTable(const std::string& path, const std::string& name,
                               const RecordBatch& rows);

// Demo dimensions for the generator's pages (event/generator.cc: https://shop.example.com/
// then /<section>/<i>) and its countries. `revision` changes some categories, so successive
// calls make new versions with visible differences.
RecordBatch DemoPagesDimension(int num_pages, int revision);
RecordBatch DemoCountriesDimension();

}  // namespace strata
