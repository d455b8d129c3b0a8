#include "operators/hyperloglog.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

namespace strata {
namespace {

constexpr uint32_t kMinTail = 32;
constexpr size_t kHeaderBytes = 5;  // 'H' 'L' version p encoding

inline uint32_t EntryIndex(uint32_t e) {
  return e >> 8;
}
inline uint8_t EntryRank(uint32_t e) {
  return static_cast<uint8_t>(e & 0xff);
}

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}

uint32_t GetU32(const unsigned char* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

// Ertl (2017), "New cardinality estimation algorithms for HyperLogLog sketches", eq. for the
// contributions of the saturated (tau) and the zero (sigma) registers.
double Sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0;
  double z = x;
  double prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (z != prev);
  return z;
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  double prev;
  do {
    x = std::sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != prev);
  return z / 3.0;
}

}  // namespace

HyperLogLog::HyperLogLog(int precision) : p_(precision) {
  assert(IsValidPrecision(precision));
}

void HyperLogLog::Add(uint64_t hash) {
  const uint32_t index = static_cast<uint32_t>(hash >> (64 - p_));
  const uint64_t rest = hash << p_;
  // rest has 64 - p meaningful high bits; an all-zero rest gets the maximum rank.
  const uint8_t rank = rest == 0 ? max_rank() : static_cast<uint8_t>(std::countl_zero(rest) + 1);
  if (!dense_.empty()) {
    uint8_t& r = dense_[index];
    if (rank > r) {
      r = rank;
      if (tracking_) {
        if (journal_.size() < m() / 8) {
          journal_.push_back((index << 8) | rank);
        } else {
          tracking_ = false;
          std::vector<uint32_t>().swap(journal_);
        }
      }
    }
    return;
  }
  const uint32_t entry = (index << 8) | rank;
  if (!sparse_.empty() && sparse_.back() == entry) return;
  sparse_.push_back(entry);
  CompactIfTailIsLong();
}

void HyperLogLog::CompactIfTailIsLong() {
  if (sparse_.size() - sorted_ >= std::max(kMinTail, sorted_)) Compact();
}

void HyperLogLog::Compact() {
  if (!dense_.empty() || sorted_ == sparse_.size()) return;
  tracking_ = false;  // the entries since the mark are merged into the sorted part
  // [0, sorted_) is already sorted: sort the tail and merge the two runs.
  const auto mid = sparse_.begin() + sorted_;
  std::sort(mid, sparse_.end());
  std::inplace_merge(sparse_.begin(), mid, sparse_.end());
  // Entries sort by index then rank: keep the last (highest rank) of each index run.
  size_t out = 0;
  for (size_t i = 0; i < sparse_.size(); ++i) {
    if (i + 1 < sparse_.size() && EntryIndex(sparse_[i + 1]) == EntryIndex(sparse_[i])) continue;
    sparse_[out++] = sparse_[i];
  }
  sparse_.resize(out);
  sorted_ = static_cast<uint32_t>(out);
  if (static_cast<size_t>(sorted_) * 4 > m()) ToDense();
}

void HyperLogLog::ToDense() {
  tracking_ = false;
  dense_.assign(m(), 0);
  FoldEntries(sparse_);
  std::vector<uint32_t>().swap(sparse_);
  sorted_ = 0;
}

void HyperLogLog::FoldEntries(std::span<const uint32_t> entries) {
  for (uint32_t e : entries) {
    uint8_t& r = dense_[EntryIndex(e)];
    r = std::max(r, EntryRank(e));
  }
}

void HyperLogLog::FoldRegisters(const std::vector<uint8_t>& registers) {
  for (uint32_t i = 0; i < m(); ++i) dense_[i] = std::max(dense_[i], registers[i]);
}

size_t HyperLogLog::NonZeroRegisters() const {
  size_t nonzero = 0;
  for (uint8_t r : dense_) nonzero += r != 0;
  return nonzero;
}

std::vector<uint32_t> HyperLogLog::DenseEntries() const {
  std::vector<uint32_t> out;
  out.reserve(m() / 4);  // the most a sketch holds sparse
  for (uint32_t i = 0; i < m(); ++i) {
    if (dense_[i] != 0) out.push_back((i << 8) | dense_[i]);
  }
  return out;
}

const std::vector<uint32_t>& HyperLogLog::SortedSparse(std::vector<uint32_t>* scratch) const {
  if (sorted_ == sparse_.size()) return sparse_;
  HyperLogLog copy(*this);
  copy.Compact();
  *scratch = copy.dense_.empty() ? std::move(copy.sparse_) : copy.DenseEntries();
  return *scratch;
}

Status HyperLogLog::CheckPrecision(const HyperLogLog& other) const {
  if (other.p_ == p_) return Status::OK();
  return InvalidArgument("HyperLogLog merge: precision " + std::to_string(other.p_) +
                         " does not match " + std::to_string(p_));
}

void HyperLogLog::MarkSaved() {
  tracking_ = true;
  saved_ = static_cast<uint32_t>(sparse_.size());
  // Most saves find a few raised registers; give back a journal grown large once.
  if (journal_.capacity() > 256) {
    std::vector<uint32_t>().swap(journal_);
  } else {
    journal_.clear();
  }
}

bool HyperLogLog::Changes(std::span<const uint32_t>* entries) const {
  if (!tracking_ || saved_ > sparse_.size()) return false;  // e.g. a moved-from sketch
  if (dense_.empty()) {
    *entries = std::span<const uint32_t>(sparse_).subspan(saved_);
  } else {
    *entries = journal_;
  }
  return true;
}

Status HyperLogLog::AddEntries(std::span<const uint32_t> entries) {
  for (uint32_t e : entries) {
    if (EntryIndex(e) >= m() || EntryRank(e) == 0 || EntryRank(e) > max_rank()) {
      return Corruption("HyperLogLog entry " + std::to_string(e) + " out of range for precision " +
                        std::to_string(p_));
    }
  }
  tracking_ = false;
  AddValidEntries(entries);
  return Status::OK();
}

void HyperLogLog::AddValidEntries(std::span<const uint32_t> entries) {
  if (!dense_.empty()) {
    FoldEntries(entries);
    return;
  }
  // Appended to the unsorted tail and folded as Add does, when the tail has grown as large as
  // the sorted part (merging many sketches then costs one sort, not one per sketch).
  sparse_.insert(sparse_.end(), entries.begin(), entries.end());
  if (sparse_.size() * 4 > m()) {
    ToDense();
  } else {
    CompactIfTailIsLong();
  }
}

Status HyperLogLog::Merge(const HyperLogLog& other) {
  STRATA_RETURN_IF_ERROR(CheckPrecision(other));
  tracking_ = false;
  if (other.dense_.empty()) {
    AddValidEntries(other.sparse_);
    return Status::OK();
  }
  if (dense_.empty()) ToDense();
  FoldRegisters(other.dense_);
  return Status::OK();
}

Status HyperLogLog::MergeAll(std::span<const HyperLogLog* const> sketches) {
  for (const HyperLogLog* other : sketches) STRATA_RETURN_IF_ERROR(CheckPrecision(*other));
  tracking_ = false;
  if (dense_.empty()) ToDense();
  for (const HyperLogLog* other : sketches) {
    if (other->dense_.empty()) {
      FoldEntries(other->sparse_);
    } else {
      FoldRegisters(other->dense_);
    }
  }
  // Back to sparse if Compact would have kept it so.
  if (NonZeroRegisters() * 4 > m()) return Status::OK();
  sparse_ = DenseEntries();
  sorted_ = static_cast<uint32_t>(sparse_.size());
  std::vector<uint8_t>().swap(dense_);
  return Status::OK();
}

bool HyperLogLog::empty() const {
  if (dense_.empty()) return sparse_.empty();
  return std::all_of(dense_.begin(), dense_.end(), [](uint8_t r) { return r == 0; });
}

double HyperLogLog::Estimate() const {
  const int q = 64 - p_;
  // histogram[k] = number of registers with value k, k in [0, q + 1].
  uint32_t histogram[66] = {0};
  if (dense_.empty()) {
    std::vector<uint32_t> scratch;
    const std::vector<uint32_t>& entries = SortedSparse(&scratch);
    histogram[0] = m() - static_cast<uint32_t>(entries.size());
    for (uint32_t e : entries) ++histogram[EntryRank(e)];
  } else {
    for (uint8_t r : dense_) ++histogram[r];
  }
  const double md = m();
  if (histogram[0] == m()) return 0.0;
  double z = md * Tau(1.0 - histogram[q + 1] / md);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += md * Sigma(histogram[0] / md);
  const double alpha_inf = 0.5 / std::log(2.0);
  return alpha_inf * md * md / z;
}

uint8_t HyperLogLog::Register(uint32_t index) const {
  if (!dense_.empty()) return dense_[index];
  uint8_t r = 0;
  for (uint32_t e : sparse_) {
    if (EntryIndex(e) == index) r = std::max(r, EntryRank(e));
  }
  return r;
}

size_t HyperLogLog::MemoryBytes() const {
  return (sparse_.capacity() + journal_.capacity()) * sizeof(uint32_t) + dense_.capacity();
}

bool HyperLogLog::operator==(const HyperLogLog& other) const {
  if (p_ != other.p_) return false;
  for (uint32_t i = 0; i < m(); ++i) {
    if (Register(i) != other.Register(i)) return false;
  }
  return true;
}

std::string HyperLogLog::Serialize() const {
  std::string out;
  AppendSerialized(&out);
  return out;
}

void HyperLogLog::AppendSerialized(std::string* out) const {
  std::vector<uint32_t> scratch;
  const std::vector<uint32_t>* sorted = &scratch;  // the sparse entries to write
  bool sparse = false;
  if (dense_.empty()) {
    sorted = &SortedSparse(&scratch);
    sparse = 4 + sorted->size() * 4 < m();
  } else if (4 + NonZeroRegisters() * 4 < m()) {
    sparse = true;
    scratch = DenseEntries();
  }
  out->push_back('H');
  out->push_back('L');
  out->push_back(static_cast<char>(kFormatVersion));
  out->push_back(static_cast<char>(p_));
  if (sparse) {
    out->push_back(static_cast<char>(kEncodingSparse));
    PutU32(out, static_cast<uint32_t>(sorted->size()));
    for (uint32_t e : *sorted) PutU32(out, e);
    return;
  }
  out->push_back(static_cast<char>(kEncodingDense));
  if (!dense_.empty()) {
    out->append(reinterpret_cast<const char*>(dense_.data()), dense_.size());
  } else {
    std::string regs(m(), '\0');
    for (uint32_t e : *sorted) regs[EntryIndex(e)] = static_cast<char>(EntryRank(e));
    out->append(regs);
  }
}

Result<HyperLogLog> HyperLogLog::Deserialize(std::string_view bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kHeaderBytes || b[0] != 'H' || b[1] != 'L') {
    return Corruption("HyperLogLog sketch: bad magic or truncated header (" +
                      std::to_string(bytes.size()) + " bytes)");
  }
  if (b[2] != kFormatVersion) {
    return Corruption("HyperLogLog sketch: unsupported format version " + std::to_string(b[2]));
  }
  const int p = b[3];
  if (!IsValidPrecision(p)) {
    return Corruption("HyperLogLog sketch: precision " + std::to_string(p) + " out of range");
  }
  HyperLogLog h(p);
  const uint8_t max_rank = h.max_rank();
  const size_t body = bytes.size() - kHeaderBytes;
  if (b[4] == kEncodingDense) {
    if (body != h.m()) {
      return Corruption("HyperLogLog sketch: dense body has " + std::to_string(body) +
                        " bytes, expected " + std::to_string(h.m()));
    }
    h.dense_.assign(b + kHeaderBytes, b + bytes.size());
    for (uint8_t r : h.dense_) {
      if (r > max_rank) return Corruption("HyperLogLog sketch: register value out of range");
    }
    return h;
  }
  if (b[4] != kEncodingSparse) {
    return Corruption("HyperLogLog sketch: unknown encoding " + std::to_string(b[4]));
  }
  if (body < 4) return Corruption("HyperLogLog sketch: truncated sparse count");
  const uint32_t n = GetU32(b + kHeaderBytes);
  if (body != 4 + static_cast<size_t>(n) * 4 || n > h.m()) {
    return Corruption("HyperLogLog sketch: sparse body length does not match count " +
                      std::to_string(n));
  }
  h.sparse_.resize(n);
  int64_t prev_index = -1;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t e = GetU32(b + kHeaderBytes + 4 + 4 * i);
    const uint32_t index = EntryIndex(e);
    const uint8_t rank = EntryRank(e);
    if (static_cast<int64_t>(index) <= prev_index || index >= h.m() || rank == 0 ||
        rank > max_rank) {
      return Corruption("HyperLogLog sketch: sparse entry " + std::to_string(i) +
                        " unsorted or out of range");
    }
    prev_index = index;
    h.sparse_[i] = e;
  }
  h.sorted_ = n;
  if (static_cast<size_t>(n) * 4 > h.m()) h.ToDense();
  return h;
}

}  // namespace strata
