// A persistent pool of worker threads that runs one job over contiguous chunks of worlds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace aip {

class ThreadPool {
 public:
  // `threads` >= 1 is the total number of threads, the calling thread included. When the operating
  // system refuses to start one, the threads already started are stopped and joined, and
  // ResourceError says how many started and why (no thread is left behind, nothing blocks).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }

  // Calls fn(begin, end) on contiguous chunks covering [0, n), in parallel; returns when all are done.
  // Chunks never split a world, and each world is stepped by exactly one thread, so results do not
  // depend on the number of threads. `min_chunk` avoids waking threads for tiny batches.
  // If fn throws, run waits for every chunk to finish, then rethrows the first exception.
  void run(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_chunk = 256);

 private:
  void work(int index);
  void stop_workers();

  int threads_;
  long owner_pid_;  // a forked child has no workers: it runs every chunk on the calling thread
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  // A short spin before blocking keeps the hand-over cheap when steps follow each other quickly,
  // without burning a core when the pool is idle.
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  int chunks_ = 0;
  int64_t n_ = 0;
  bool stop_ = false;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  std::exception_ptr failure_;  // the first exception a worker's chunk threw (under mutex_)
};

}  // namespace aip
