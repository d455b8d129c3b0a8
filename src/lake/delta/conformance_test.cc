// Reads every table of the shared Delta conformance set (../shared/conformance/delta, see its
// README.md) and checks the reconstructed snapshots against manifest.json and the expected
// results stored beside each table.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <set>

#include "core/file_util.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"

namespace strata::delta {
namespace {

namespace fs = std::filesystem;

std::string ConformanceDir() {
  return std::string(STRATA_SOURCE_DIR) + "/../shared/conformance/delta";
}

// The manifest entry of one table, kept as JSON text (parsed per test).
struct TableCase {
  std::string name;
  std::string json;
};

void PrintTo(const TableCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<TableCase> LoadCases() {
  std::vector<TableCase> out;
  auto content = ReadFile(ConformanceDir() + "/manifest.json");
  if (!content.ok()) return out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*content).get(doc)) return out;
  simdjson::dom::array tables;
  if (doc["tables"].get_array().get(tables)) return out;
  for (auto t : tables) {
    std::string_view name;
    if (t["name"].get_string().get(name)) continue;
    out.push_back({std::string(name), simdjson::minify(t)});
  }
  return out;
}

std::string SqlList(const std::vector<std::string>& paths) {
  std::string out = "[";
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i) out += ", ";
    out += duck::QuoteLiteral(paths[i]);
  }
  return out + "]";
}

std::vector<std::string> DataFiles(const Snapshot& snap) {
  std::vector<std::string> paths;
  for (const auto& f : snap.files()) paths.push_back(ResolveDataPath(snap.table_path(), f.path));
  return paths;
}

// Rows of a snapshot: Parquet row counts of the active files minus deletion-vector
// cardinalities.
Result<int64_t> RowCount(duck::Connection& conn, const Snapshot& snap) {
  std::vector<std::string> paths = DataFiles(snap);
  if (paths.empty()) return int64_t{0};
  STRATA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT sum(num_rows) FROM parquet_file_metadata(" +
                                             SqlList(paths) + ")"));
  int64_t rows = r.GetInt64(0, 0);
  for (const auto& f : snap.files()) {
    if (f.deletion_vector) rows -= f.deletion_vector->cardinality;
  }
  return rows;
}

std::vector<std::string> ExpectedParts(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() > 8 && n[0] != '.' && n.substr(n.size() - 8) == ".parquet") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class DeltaConformanceTest : public ::testing::TestWithParam<TableCase> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(parser_.parse(GetParam().json).get(entry_));
    root_ = ConformanceDir() + "/" + GetParam().name;
    auto db = duck::Database::Open("", {{"threads", "1"}});
    ASSERT_TRUE(db.ok());
    auto conn = duck::Connection::Open(*db);
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
  }

  bool Negative() {
    std::string_view cat;
    return !entry_["category"].get_string().get(cat) && cat == "negative";
  }
  bool LogOnly() {
    bool b = false;
    return !entry_["derived"]["log_only"].get_bool().get(b) && b;
  }

  simdjson::dom::parser parser_;
  simdjson::dom::element entry_;
  std::string root_;
  std::unique_ptr<duck::Connection> conn_;
};

TEST_P(DeltaConformanceTest, SnapshotMatchesManifest) {
  auto table = DeltaTable::Open(root_ + "/delta");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto snap = (*table)->LatestSnapshot();
  if (Negative()) {
    ASSERT_FALSE(snap.ok()) << "table must be refused";
    EXPECT_TRUE(snap.status().code() == StatusCode::kCorruption ||
                snap.status().code() == StatusCode::kNotSupported)
        << snap.status().ToString();
    std::cout << "  refused: " << snap.status().ToString() << "\n";
    return;
  }
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  const Snapshot& s = **snap;
  auto features = entry_["features"];
  int64_t latest = -1;
  ASSERT_FALSE(features["latest_version"].get_int64().get(latest));
  EXPECT_EQ(s.version(), latest);
  int64_t live = -1;
  ASSERT_FALSE(entry_["derived"]["live_files"].get_int64().get(live));
  EXPECT_EQ(static_cast<int64_t>(s.files().size()), live);

  // Protocol.
  int64_t r = 0, w = 0;
  ASSERT_FALSE(features["protocol"]["minReaderVersion"].get_int64().get(r));
  ASSERT_FALSE(features["protocol"]["minWriterVersion"].get_int64().get(w));
  EXPECT_EQ(s.protocol().min_reader_version, r);
  EXPECT_EQ(s.protocol().min_writer_version, w);
  simdjson::dom::array rf;
  if (!features["protocol"]["readerFeatures"].get_array().get(rf)) {
    std::set<std::string> want, got;
    for (auto f : rf) want.insert(std::string(f.get_string().value()));
    if (s.protocol().reader_features)
      got.insert(s.protocol().reader_features->begin(), s.protocol().reader_features->end());
    EXPECT_EQ(got, want);
  }
  // Metadata.
  std::vector<std::string> parts;
  for (auto p : features["partition_columns"].get_array())
    parts.emplace_back(p.get_string().value());
  EXPECT_EQ(s.partition_columns(), parts);
  std::string_view cm;
  if (!features["column_mapping"].get_string().get(cm)) {
    EXPECT_EQ(s.column_mapping_mode(), cm);
  }
  // Transactions and domains.
  simdjson::dom::object txn;
  if (!features["txn"].get_object().get(txn)) {
    for (auto kv : txn) {
      EXPECT_EQ(s.TxnVersion(std::string(kv.key)), kv.value.get_int64().value()) << kv.key;
    }
    EXPECT_EQ(s.txns().size(), txn.size());
  }
  EXPECT_EQ(s.TxnVersion("no-such-app"), std::nullopt);
  std::set<std::string> want_domains, got_domains;
  for (auto d : features["domain_metadata"].get_array())
    want_domains.emplace(d.get_string().value());
  for (const auto& [d, m] : s.domain_metadata()) got_domains.insert(d);
  EXPECT_EQ(got_domains, want_domains);
  // The newest checkpoint at or below the latest version is the one used.
  std::optional<int64_t> newest_cp;
  simdjson::dom::object cps;
  if (!features["checkpoints"].get_object().get(cps)) {
    for (auto kv : cps) {
      int64_t v = std::stoll(std::string(kv.key));
      if (v <= latest && (!newest_cp || v > *newest_cp)) newest_cp = v;
    }
  }
  EXPECT_EQ(s.checkpoint_version(), newest_cp);
  int64_t dv_files = 0;
  if (!features["files_with_deletion_vectors"].get_int64().get(dv_files)) {
    EXPECT_EQ(static_cast<int64_t>(s.num_files_with_deletion_vectors()), dv_files);
  }

  if (LogOnly()) return;
  auto rows = RowCount(*conn_, s);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  int64_t derived_rows = -1;
  ASSERT_FALSE(entry_["derived"]["rows"].get_int64().get(derived_rows));
  EXPECT_EQ(*rows, derived_rows);
}

// Row counts of every version that has upstream expected results, and DAT's version metadata.
TEST_P(DeltaConformanceTest, ExpectedVersionsMatch) {
  if (Negative()) GTEST_SKIP() << "negative table: nothing expected";
  std::string expected = root_ + "/expected";
  if (!fs::exists(expected))
    GTEST_SKIP() << "no upstream expected results (manifest 'derived' only)";
  auto table = DeltaTable::Open(root_ + "/delta");
  ASSERT_TRUE(table.ok());
  int checked = 0;
  for (const auto& e : fs::directory_iterator(expected)) {
    std::string v = e.path().filename().string();
    auto snap =
        v == "latest" ? (*table)->LatestSnapshot() : (*table)->SnapshotAt(std::stoll(v.substr(1)));
    ASSERT_TRUE(snap.ok()) << v << ": " << snap.status().ToString();
    std::vector<std::string> parts = ExpectedParts(e.path().string() + "/table_content");
    int64_t want = 0;
    if (!parts.empty()) {
      auto r =
          conn_->Query("SELECT sum(num_rows) FROM parquet_file_metadata(" + SqlList(parts) + ")");
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      want = r->GetInt64(0, 0);
    }
    int64_t manifest_count = -1;
    if (!entry_["expected"]["row_counts"][v].get_int64().get(manifest_count)) {
      EXPECT_EQ(want, manifest_count) << v;
    }
    auto got = RowCount(*conn_, **snap);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want) << "version " << v;
    // DAT: table_version_metadata.json.
    auto meta = ReadFile(e.path().string() + "/table_version_metadata.json");
    if (meta.ok()) {
      simdjson::dom::parser p;
      simdjson::dom::element m;
      ASSERT_FALSE(p.parse(*meta).get(m));
      EXPECT_EQ((*snap)->version(), m["version"].get_int64().value());
      EXPECT_EQ((*snap)->protocol().min_reader_version,
                m["min_reader_version"].get_int64().value());
      EXPECT_EQ((*snap)->protocol().min_writer_version,
                m["min_writer_version"].get_int64().value());
      std::map<std::string, std::string> props;
      for (auto kv : m["properties"].get_object()) {
        props[std::string(kv.key)] = std::string(kv.value.get_string().value());
      }
      EXPECT_EQ((*snap)->configuration(), props);
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// Full row contents (partition values, column mapping, deletion vectors applied) are compared
// through the SQL path in scan_conformance_test.cc.

std::string CaseName(const ::testing::TestParamInfo<TableCase>& info) {
  std::string n;
  for (char c : info.param.name) n.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Tables, DeltaConformanceTest, ::testing::ValuesIn(LoadCases()), CaseName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DeltaConformanceTest);

TEST(DeltaConformanceSetTest, ManifestIsPresent) {
  EXPECT_GE(LoadCases().size(), 70u) << "conformance set missing at " << ConformanceDir();
}

}  // namespace
}  // namespace strata::delta
