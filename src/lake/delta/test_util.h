#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "lake/delta/actions.h"
#include "lake/delta/table.h"

namespace strata::delta::testing {

// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-delta-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline Schema EventSchema() {
  return Schema({{"event_id", TypeId::kString, false},
                 {"user_id", TypeId::kInt64, true},
                 {"ts", TypeId::kTimestamp, true},
                 {"event_date", TypeId::kDate, true}});
}

// An AddFile for a (not necessarily existing) data file with a small stats document.
inline AddFile MakeAdd(const std::string& path, int64_t rows = 10, int64_t size = 1000) {
  AddFile a;
  a.path = path;
  a.size = size;
  a.modification_time = 1764000000000;
  a.stats = "{\"numRecords\":" + std::to_string(rows) + "}";
  return a;
}

#define ASSERT_OK(expr)                    \
  do {                                     \
    auto _s = (expr);                      \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                    \
  auto STRATA_CONCAT(_r_, __LINE__) = (expr);              \
  ASSERT_TRUE(STRATA_CONCAT(_r_, __LINE__).ok())           \
      << STRATA_CONCAT(_r_, __LINE__).status().ToString(); \
  lhs = std::move(STRATA_CONCAT(_r_, __LINE__)).value()

}  // namespace strata::delta::testing
