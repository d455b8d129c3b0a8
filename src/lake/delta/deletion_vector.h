#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/delta/actions.h"

namespace strata::delta {

// Deletion vectors (PROTOCOL.md "Deletion Vector Format"): a RoaringBitmapArray of the row
// indexes (0-based position in the data file) that are deleted.

// Decodes Z85 (the Base85 alphabet Delta uses); the text length must be a multiple of 5.
// InvalidArgument naming the bad character otherwise.
Result<std::string> DecodeZ85(std::string_view text);

// Parses a serialized RoaringBitmapArray (magic 1681511377, int64 bitmap count, then per bitmap
// its high 32-bit key and a portable 32-bit Roaring bitmap). Returns the sorted row indexes.
// Corruption naming `what` on a bad magic, a truncated buffer or an unknown container layout.
Result<std::vector<uint64_t>> ParseRoaringBitmapArray(std::string_view data,
                                                      const std::string& what);

// File-system path of an on-disk deletion vector ('u': <table>/<prefix>/deletion_vector_<uuid>.bin
// with the UUID Z85-encoded in the last 20 characters; 'p': an absolute path or file: URI).
// InvalidArgument for an inline ('i') vector or a malformed descriptor.
Result<std::string> DeletionVectorPath(const std::string& table_path,
                                       const delta::DeletionVector& dv);

// The deleted row indexes of one data file, sorted. Reads the .bin file for 'u'/'p' vectors
// (version byte 1, then at `offset` a big-endian size, the bitmap and its big-endian CRC-32,
// which is verified) or decodes an inline one. Errors name the DV file and offset; the
// number of rows decoded must equal `cardinality` (Corruption otherwise). Thread-safe.
Result<std::vector<uint64_t>> ReadDeletionVector(const std::string& table_path,
                                                 const delta::DeletionVector& dv);

}  // namespace strata::delta
