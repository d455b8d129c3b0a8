#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch/column.h"
#include "core/status.h"
#include "lake/delta/actions.h"

namespace strata::delta {

// Directory name used for a null partition value (Hive convention).
inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

// Serializes row `row` of a partition column as Delta's partitionValues wants it
// (PROTOCOL.md "Partition Value Serialization"): string as is, numbers in decimal, bool
// "true"/"false", date "2026-11-24", timestamp ISO-8601 UTC with microseconds
// "2026-11-24T06:34:14.123456Z"; a null gives nullopt (JSON null). NotSupported for binary.
Result<std::optional<std::string>> SerializePartitionValue(const Column& column, size_t row);

// Escapes one partition value for use in a directory name as Spark/Hive do (%XX for '/', '=',
// ':', '%', '#', '?', control characters and a few others); nullopt gives
// __HIVE_DEFAULT_PARTITION__.
std::string EscapePartitionPathValue(const std::optional<std::string>& value);

// "event_date=2026-11-24/country=DE/": the relative directory of a file with these partition
// values, in the order of `partition_columns` (file-system form, not URL-encoded).
std::string PartitionDirectory(const std::vector<std::string>& partition_columns,
                               const PartitionValues& values);

// URL-encodes a relative file-system path for add.path (RFC 3986 path: unreserved characters,
// '/', '=' and a few sub-delimiters stay, everything else becomes %XX, e.g. ' ' -> %20 and
// '%' -> %25). UrlDecode(UrlEncodePath(p)) == p.
std::string UrlEncodePath(std::string_view path);
// Decodes %XX escapes ("a%20b" -> "a b"); malformed escapes are kept verbatim.
std::string UrlDecode(std::string_view s);

}  // namespace strata::delta
