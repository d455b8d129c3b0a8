#pragma once

#include <string>
#include <string_view>

#include "batch/record_batch.h"
#include "core/status.h"

namespace strata {

// Finds column `name` in `batch` and checks its type (kString also accepts kBinary, kTimestamp
// also accepts kInt64). InvalidArgument naming `op` and the column otherwise. The pointer is
// owned by the batch.
inline Result<const Column*> FindColumn(const RecordBatch& batch, std::string_view name,
                                        TypeId type, std::string_view op) {
  const int idx = batch.schema()->IndexOf(std::string(name));
  if (idx < 0) {
    return InvalidArgument(std::string(op) + ": input has no column '" + std::string(name) + "'");
  }
  const Column& c = batch.column(static_cast<size_t>(idx));
  bool ok = c.type() == type;
  if (type == TypeId::kString) ok = ok || c.type() == TypeId::kBinary;
  if (type == TypeId::kTimestamp) ok = ok || c.type() == TypeId::kInt64;
  if (!ok) {
    return InvalidArgument(std::string(op) + ": column '" + std::string(name) + "' has type " +
                           DeltaTypeName(c.type()) + ", expected " + DeltaTypeName(type));
  }
  return &c;
}

}  // namespace strata
