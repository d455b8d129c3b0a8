#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"
#include "lake/parquet/parquet_writer.h"

namespace strata {

// Options of the native encoder. The first four mirror ParquetWriteOptions; the rest are limits
// that tests lower to reach page, dictionary and row-group boundaries with few rows.
struct NativeParquetOptions {
  ParquetCodec codec = ParquetCodec::kSnappy;
  // zstd level; 0 means 3 (zstd's and DuckDB's default). Other codecs ignore it.
  int compression_level = 0;
  int64_t row_group_size = 122880;
  // Dictionary-encode string and binary columns while their dictionary fits.
  bool dictionary = true;
  // A data page is cut once its values reach this many plain-encoded bytes.
  size_t page_bytes = 1 << 20;
  // A column chunk's dictionary stops growing at this many plain-encoded bytes or entries; the
  // rest of that chunk is written PLAIN.
  size_t dictionary_max_bytes = 1 << 20;
  size_t dictionary_max_entries = 1 << 16;
  // Non-null values of a chunk looked at before committing to a dictionary: when more than half
  // of them are distinct, the repeats among them estimate the chunk's cardinality, and a chunk
  // whose estimated dictionary exceeds the limits is written PLAIN (ids, addresses, ...).
  size_t dictionary_sample_values = 2048;
};

// Encodes RecordBatches into Parquet files without DuckDB: one row group per row_group_size
// rows, one column chunk per column, DataPage V1 pages. Every column is OPTIONAL with
// RLE/bit-packed definition levels; values are PLAIN except string/binary chunks, which are
// dictionary-encoded (PLAIN dictionary page + RLE_DICTIONARY pages) until the dictionary
// outgrows its limit. Column chunks carry min/max/null_count statistics (string min/max by
// unsigned byte order, omitted when longer than 4 KiB). Logical types: string -> STRING/UTF8,
// timestamp -> TIMESTAMP(MICROS, UTC), date -> DATE.
//
// Owns reusable encode buffers (page, compression, dictionary, file output) that grow to the
// largest page/chunk seen and are kept across files: no allocation per value. Thread-compatible:
// one writer per thread.
class NativeParquetWriter {
 public:
  NativeParquetWriter();
  ~NativeParquetWriter();
  NativeParquetWriter(const NativeParquetWriter&) = delete;
  NativeParquetWriter& operator=(const NativeParquetWriter&) = delete;

  // Writes the rows of `batch` (all of them when `rows` is null, else rows[0..n) in that order;
  // the caller has range-checked them) to `path`, created or truncated. Returns the file size.
  // Writes in place: the caller handles temporary names and renames. IOError naming the path
  // for file system failures (the partial file is left for the caller to remove), Internal for
  // a codec failure, InvalidArgument for a row_group_size < 1. When `column_stats` is not null
  // it receives one entry per column with that column's statistics over all rows written
  // (gathered while encoding; on error its contents are unspecified).
  Result<int64_t> WriteFile(const RecordBatch& batch, const std::vector<uint32_t>* rows,
                            const std::string& path, const NativeParquetOptions& opts,
                            std::vector<ColumnSummary>* column_stats = nullptr);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace strata
