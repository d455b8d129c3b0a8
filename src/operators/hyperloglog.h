#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/status.h"

namespace strata {

// A HyperLogLog distinct-count sketch over 64-bit hashes (Flajolet et al.), with Ertl's
// "improved" estimator (2017), which is unbiased over the whole range without empirical bias
// tables or a linear-counting switch-over. Relative standard error ~1.04 / sqrt(2^p).
//
// Register mapping (the SQL merge aggregate relies on it, see docs/formats/hll.md):
//   index = hash >> (64 - p)                    (the top p bits)
//   rank  = 1 + number of leading zero bits of (hash << p), at most 64 - p + 1
//   register[index] = max(register[index], rank)
//
// Small sketches are kept sparse in memory (sorted (index, rank) pairs, 4 bytes each) and
// switch to a dense byte-per-register array once that is smaller; both forms estimate and
// merge identically. A value type: copyable, movable. Not thread-safe.
class HyperLogLog {
 public:
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 18;
  static constexpr int kDefaultPrecision = 12;
  // Serialized header: magic "HL", version, p, encoding.
  static constexpr uint8_t kFormatVersion = 1;
  static constexpr uint8_t kEncodingDense = 0;
  static constexpr uint8_t kEncodingSparse = 1;

  // `precision` must be in [kMinPrecision, kMaxPrecision]; asserts otherwise (use
  // IsValidPrecision to check user input first).
  explicit HyperLogLog(int precision = kDefaultPrecision);

  static bool IsValidPrecision(int p) { return p >= kMinPrecision && p <= kMaxPrecision; }

  int precision() const { return p_; }
  bool is_sparse() const { return dense_.empty(); }

  // Adds one hashed element. Use HashBytes (core/hash.h) for strings, or AddString.
  void Add(uint64_t hash);
  void AddString(std::string_view s) { Add(HashBytes(s)); }

  // Folds `other` into this sketch (register-wise max). InvalidArgument if the precisions
  // differ; this sketch is unchanged then.
  Status Merge(const HyperLogLog& other);
  // Folds all of `sketches` into this sketch at once (through the dense registers, then back to
  // sparse when that is smaller), leaving it compacted: for many sketches much cheaper than
  // Merge one at a time. InvalidArgument (and this sketch unchanged) if a precision differs.
  Status MergeAll(std::span<const HyperLogLog* const> sketches);

  // Estimated number of distinct hashes added (0 for an empty sketch).
  double Estimate() const;
  // True if nothing was added.
  bool empty() const;

  // Compact versioned bytes: sparse or dense, whichever is smaller. Deterministic: equal
  // register contents give equal bytes. Format in docs/formats/hll.md.
  std::string Serialize() const;
  void AppendSerialized(std::string* out) const;
  // Corruption if `bytes` is not a valid serialized sketch (bad magic, version, precision,
  // length, unsorted or out-of-range sparse entries).
  static Result<HyperLogLog> Deserialize(std::string_view bytes);

  // Change tracking, so that a checkpoint can save what changed rather than the whole sketch.
  // MarkSaved() starts a record of the registers raised from then on; Changes() gives them as
  // sparse entries (index << 8 | rank, possibly repeated or superseded) and true, or false when
  // the record was lost: never started, or the sketch was compacted, densified or merged into
  // since, or the record outgrew m/8 entries (the whole sketch must be saved then). Folding the
  // entries (AddEntries) into the sketch as it was at MarkSaved gives the registers of now.
  void MarkSaved();
  bool Changes(std::span<const uint32_t>* entries) const;
  // Folds sparse entries (as Changes gives them) into the sketch. Corruption (and the sketch
  // unchanged) if an entry's index or rank is out of range for this precision.
  Status AddEntries(std::span<const uint32_t> entries);

  // Register value at `index` (0 if unset), for tests and the SQL merge.
  uint8_t Register(uint32_t index) const;
  // Heap bytes held.
  size_t MemoryBytes() const;

  bool operator==(const HyperLogLog& other) const;

 private:
  uint32_t m() const { return 1u << p_; }
  uint8_t max_rank() const { return static_cast<uint8_t>(64 - p_ + 1); }
  // InvalidArgument if `other`'s precision is not this one's.
  Status CheckPrecision(const HyperLogLog& other) const;
  // Folds the pending sparse entries (Add and Merge append them unsorted), keeping the highest
  // rank per register; densifies when the sparse form would exceed the dense size.
  void Compact();
  // Compacts once the unsorted tail is as long as the sorted part (at least kMinTail), so that
  // compaction costs O(1) amortized per appended entry.
  void CompactIfTailIsLong();
  void ToDense();
  // Adds sparse entries known to be in range: appended to the tail (or densified) when sparse,
  // folded into the registers when dense.
  void AddValidEntries(std::span<const uint32_t> entries);
  // Register-wise max of these entries / registers into dense_ (which must be dense).
  void FoldEntries(std::span<const uint32_t> entries);
  void FoldRegisters(const std::vector<uint8_t>& registers);
  size_t NonZeroRegisters() const;  // dense only
  // The non-zero registers of dense_ as sparse entries, sorted by index.
  std::vector<uint32_t> DenseEntries() const;
  // Sparse only: the entries sorted by index with duplicates folded, in place when no tail is
  // pending, otherwise compacted into `*scratch`.
  const std::vector<uint32_t>& SortedSparse(std::vector<uint32_t>* scratch) const;

  int p_;
  uint32_t sorted_ = 0;
  // Change tracking (MarkSaved): while tracking_, the entries added since the mark are
  // sparse_[saved_, end) in sparse form and journal_ in dense form.
  uint32_t saved_ = 0;
  bool tracking_ = false;
  // Sparse form: entries (index << 8 | rank); [0, sorted_) is sorted and unique by index, the
  // tail is an unsorted append buffer. Empty once dense.
  std::vector<uint32_t> sparse_;
  std::vector<uint32_t> journal_;
  // Dense form: one byte per register; empty while sparse.
  std::vector<uint8_t> dense_;
};

}  // namespace strata
