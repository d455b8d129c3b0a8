#include "pipeline/enrichment.h"

#include "core/file_util.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"

namespace strata {

DimensionTable::DimensionTable(std::string path, std::string key_column,
                               std::vector<std::string> value_columns)
    : path_(std::move(path)),
      key_column_(std::move(key_column)),
      value_columns_(std::move(value_columns)) {}
DimensionTable::~DimensionTable() = default;

Status DimensionTable::Refresh() {
  if (!table_) {
    auto t = delta::DeltaTable::Open(path_);
    if (t.status().code() == StatusCode::kNotFound) return Status::OK();
    if (!t.ok()) return t.status().WithContext("dimension table " + path_);
    table_ = std::move(*t);
  }
  auto snap = table_->LatestSnapshot();
  if (!snap.ok()) return snap.status().WithContext("dimension table " + path_);
  if ((*snap)->version() == version_) return Status::OK();
  std::vector<Field> fields = {{key_column_, TypeId::kString, true}};
  for (const auto& c : value_columns_) fields.push_back({c, TypeId::kString, true});
  auto schema = std::make_shared<const Schema>(std::move(fields));
  std::vector<std::string> files;
  for (const auto& f : (*snap)->files()) files.push_back(path_ + "/" + delta::UrlDecode(f.path));
  if (!reader_) {
    STRATA_ASSIGN_OR_RETURN(reader_, ParquetReader::Create(1));
  }
  decltype(rows_) rows;
  if (!files.empty()) {
    auto batch = reader_->Read(files, schema);
    if (!batch.ok()) return batch.status().WithContext("dimension table " + path_);
    const Column& key = batch->column(0);
    for (size_t r = 0; r < batch->num_rows(); ++r) {
      if (key.IsNull(r)) continue;
      std::vector<std::optional<std::string>> values;
      for (size_t c = 1; c < batch->num_columns(); ++c) {
        const Column& col = batch->column(c);
        values.push_back(col.IsNull(r) ? std::nullopt
                                       : std::optional<std::string>(std::string(col.String(r))));
      }
      rows[std::string(key.String(r))] = std::move(values);
    }
  }
  rows_ = std::move(rows);
  version_ = (*snap)->version();
  return Status::OK();
}

const std::vector<std::optional<std::string>>* DimensionTable::Find(std::string_view key) const {
  auto it = rows_.find(key);
  return it == rows_.end() ? nullptr : &it->second;
}

SchemaPtr PagesDimensionSchema() {
  static const SchemaPtr s =
      std::make_shared<const Schema>(std::vector<Field>{{"page_url", TypeId::kString, false},
                                                        {"page_category", TypeId::kString, true},
                                                        {"product", TypeId::kString, true}});
  return s;
}

SchemaPtr CountriesDimensionSchema() {
  static const SchemaPtr s = std::make_shared<const Schema>(
      std::vector<Field>{{"country", TypeId::kString, false}, {"region", TypeId::kString, true}});
  return s;
}

Status OverwriteDimensionTable(const std::string& path, const std::string& name,
                               const RecordBatch& rows) {
  STRATA_ASSIGN_OR_RETURN(auto table,
                          delta::DeltaTable::CreateIfNotExists(path, *rows.schema(), {}, {}, name));
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table->LatestSnapshot());
  STRATA_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Create());
  const std::string rel = "part-" + NewUuid() + ".snappy.parquet";
  STRATA_ASSIGN_OR_RETURN(ParquetFileInfo info, writer->Write(rows, path + "/" + rel));
  auto txn = table->StartTransaction(snapshot);
  for (const auto& f : snapshot->files()) {
    delta::RemoveFile rm;
    rm.path = f.path;
    rm.data_change = true;
    rm.size = f.size;
    txn->RemoveFile(std::move(rm));
  }
  delta::AddFile add;
  add.path = delta::UrlEncodePath(rel);
  add.size = info.size_bytes;
  add.modification_time = NowMillis();
  add.stats = delta::ComputeStatsJson(rows, delta::kDefaultNumIndexedCols, {});
  txn->AddFile(std::move(add));
  txn->SetOperation("WRITE", {{"mode", "Overwrite"}});
  auto v = txn->Commit();
  return v.ok() ? Status::OK() : v.status().WithContext("dimension table " + name);
}

RecordBatch DemoPagesDimension(int num_pages, int revision) {
  static constexpr const char* kSections[] = {"product", "category", "blog", "help", "deals"};
  RecordBatch b(PagesDimensionSchema());
  for (int i = 0; i < num_pages; ++i) {
    const char* section = kSections[i % 5];
    b.column(0).AppendString(i == 0 ? std::string("https://shop.example.com/")
                                    : std::string("https://shop.example.com/") + section + "/" +
                                          std::to_string(i));
    // Each revision moves a different tenth of the pages to a seasonal category.
    if (i == 0) {
      b.column(1).AppendString("home");
    } else if ((i + revision) % 10 == 0) {
      b.column(1).AppendString("seasonal-" + std::to_string(revision));
    } else {
      b.column(1).AppendString(section);
    }
    if (i % 5 == 0 && i > 0) {
      b.column(2).AppendString("product-" + std::to_string(i));
    } else {
      b.column(2).AppendNull();
    }
  }
  return b;
}

RecordBatch DemoCountriesDimension() {
  static constexpr const char* kRegions[][2] = {
      {"US", "North America"}, {"CA", "North America"}, {"MX", "Latin America"},
      {"BR", "Latin America"}, {"GB", "Europe"},        {"DE", "Europe"},
      {"FR", "Europe"},        {"ES", "Europe"},        {"IT", "Europe"},
      {"NL", "Europe"},        {"SE", "Europe"},        {"PL", "Europe"},
      {"IN", "Asia Pacific"},  {"JP", "Asia Pacific"},  {"KR", "Asia Pacific"},
      {"AU", "Asia Pacific"},  {"NG", "Africa"},        {"ZA", "Africa"}};
  RecordBatch b(CountriesDimensionSchema());
  for (const auto& [country, region] : kRegions) {
    b.column(0).AppendString(country);
    b.column(1).AppendString(region);
  }
  return b;
}

}  // namespace strata
