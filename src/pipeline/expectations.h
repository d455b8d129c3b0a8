#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "batch/record_batch.h"
#include "batch/schema.h"
#include "core/status.h"

namespace strata {

// What silver does with a row that fails an expectation (Delta Live Tables' expect,
// expect_or_drop, expect_or_fail).
enum class ExpectationAction : uint8_t {
  kWarn,  // keep the row in silver, count the failure
  kDrop,  // keep it out of silver: quarantine, with the expectation's name as the rule
  kFail,  // stop the query; the batch is not committed
};
const char* ExpectationActionName(ExpectationAction action);

// One [[silver.expectations]] entry as written in the config.
struct ExpectationConfig {
  std::string name;
  std::string expr;             // a predicate, see Predicate
  std::string action = "warn";  // "warn" | "drop" | "fail"
};

// A boolean predicate over the columns of a batch, compiled once against a schema and evaluated
// a column at a time: each node of the expression runs one loop over all rows of the batch
// into a byte vector (no per-row virtual calls, no per-row allocation).
//
// Supported, case-insensitive keywords:
//   col IS [NOT] NULL
//   col = | == | <> | != | < | <= | > | >= literal     (string columns: string literals,
//                                                        compared bytewise; integer columns:
//                                                        integer literals)
//   col [NOT] IN (literal, ...)
//   col [NOT] BETWEEN literal AND literal
//   length(col) <op> N, length(col) [NOT] BETWEEN N AND M   (UTF-8 characters of a string)
//   AND, OR, NOT, parentheses
// `col` is a column of the schema; string literals are '...' ('' for a quote). Logic is SQL's
// three-valued one: a comparison with a NULL value is unknown, and a row passes only when the
// whole predicate is TRUE (unknown fails, as in a SQL WHERE clause).
// Immutable after Compile; Evaluate is const and thread-compatible.
class Predicate {
 public:
  // InvalidArgument saying what is not supported or wrong, and where ("at offset 12").
  static Result<Predicate> Compile(std::string_view text, const SchemaPtr& schema);

  // pass[r] = 1 when the predicate is TRUE for row r of `batch` (which has the schema the
  // predicate was compiled against), else 0. `pass` is resized to batch.num_rows().
  void Evaluate(const RecordBatch& batch, std::vector<uint8_t>* pass) const;

  const std::string& text() const { return text_; }

  enum class Op : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
  enum class Kind : uint8_t { kIsNull, kCompare, kIn, kAnd, kOr, kNot };
  struct Node {
    Kind kind = Kind::kCompare;
    int column = -1;      // leaves
    bool length = false;  // leaves: length(column) instead of the value
    bool negate = false;  // kIsNull (IS NOT NULL), kIn (NOT IN)
    Op op = Op::kEq;      // kCompare
    bool string_literal = false;
    std::string str;                // kCompare on strings
    int64_t num = 0;                // kCompare on integers / lengths
    std::vector<std::string> strs;  // kIn on strings, sorted
    std::vector<int64_t> nums;      // kIn on integers / lengths, sorted
    int left = -1, right = -1;      // kAnd, kOr (both), kNot (left)
  };

 private:
  struct Truth;
  void Eval(int node, const RecordBatch& batch, Truth* out) const;
  std::string text_;
  SchemaPtr schema_;
  std::vector<Node> nodes_;
  int root_ = -1;
};

// The compiled expectations of a layer, in config order.
struct Expectation {
  std::string name;
  ExpectationAction action;
  Predicate predicate;
};

// Compiles `configs` against `schema`. Errors are InvalidArgument naming the key:
// "<key_prefix>[i].name" (empty or repeated), "<key_prefix>[i].action" (not warn/drop/fail),
// "<key_prefix>[i].expr" (with what is not supported).
Result<std::vector<Expectation>> CompileExpectations(const std::vector<ExpectationConfig>& configs,
                                                     const SchemaPtr& schema,
                                                     const std::string& key_prefix);

}  // namespace strata
