#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

namespace strata {

// The allocator's view of the heap. With glibc: mallinfo2 over all arenas; under
// AddressSanitizer: its allocator's figures.
struct HeapStats {
  size_t in_use = 0;  // bytes handed out to the program (including large mmapped blocks)
  size_t free = 0;    // bytes the allocator holds free (resident unless released)
};
HeapStats ReadHeapStats();

// The process's resident set size in bytes (/proc/self/statm); 0 if unreadable.
size_t ResidentBytes();

// Gives the allocator's free pages back to the operating system (glibc: malloc_trim(0), which
// releases whole free pages inside every arena, not just the heap's top). Takes each arena's
// lock in turn while it walks that arena's free chunks. Thread-safe.
void ReleaseFreeHeap();

// Calls ReleaseFreeHeap() on its own thread every `interval` while the allocator holds at least
// `min_free_bytes` free. A long run whose state grows (tables re-sized, batches of many sizes)
// leaves freed memory in glibc's arenas that stays resident (~1 GiB after 11 minutes at 200K
// events/s); the whole free pages of it go back (at that rate 15-65 MiB per call, 1-40 ms;
// the rest is free space smaller than a page between live blocks, docs/benchmarks.md).
// Start/Stop from one thread; the counters from any.
class HeapReclaimer {
 public:
  HeapReclaimer(std::chrono::milliseconds interval, size_t min_free_bytes)
      : interval_(interval), min_free_bytes_(min_free_bytes) {}
  ~HeapReclaimer() { Stop(); }
  HeapReclaimer(const HeapReclaimer&) = delete;
  HeapReclaimer& operator=(const HeapReclaimer&) = delete;

  void Start();
  // Returns once the thread has ended (at most one ReleaseFreeHeap() call later).
  void Stop();
  uint64_t releases() const;

 private:
  void Run();

  const std::chrono::milliseconds interval_;
  const size_t min_free_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;      // guarded by mu_
  uint64_t releases_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace strata
