// The host side of the CPU backend: owns the arrays of a batch, validates input, runs the thread pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aip/batch.h"
#include "aip/errors.h"
#include "aip/thread_pool.h"

namespace aip {

// Description of one array of the batch, for views and copies.
struct ArrayInfo {
  const char* name;
  void* data;
  char dtype;  // 'd' float64, 'f' float32, 'i' int32, 'u' uint64, 'B' uint8, 'b' bool
  int d1, d2;  // per-world shape; 0 = no such dimension
  int itemsize;
};

// Initial per-world parameter values (every world starts with the same).
struct ParamDefaults {
  double player_speed, enemy_speed, enemy_speed_scale, missile_speed;
  double arena_width, arena_height, fire_probability;
  int32_t max_missiles, player_bot, enemy_bot, guidance;
};

// Limits checked before anything is allocated (aip_engine._batch_args has the same numbers).
constexpr int64_t kMaxWorlds = int64_t(1) << 30;
constexpr int kMaxThreads = 1024;

// The bytes a batch of `num_worlds` worlds allocates (0 when the size does not fit in size_t).
size_t batch_bytes(int64_t num_worlds);

// Checks the batch-wide rule numbers (the ranges of aip_engine.Config); throws ConfigError.
void check_rules(const Rules& rules);

// The threading contract (docs/engine-api.md): one call at a time per batch. reset, step, observe
// and write_state take the batch for their whole duration and refuse (BusyError) a second call
// before touching anything. The per-world parameters and the actions are copied into the engine's
// own buffers and checked there at the start of a step or reset, so writes made meanwhile by
// another thread only affect the next call. A fork() waits for calls in flight to finish (at-fork
// handlers), so a child process never inherits a half-stepped batch or a held flag.
class Engine {
 public:
  // Throws ConfigError (bad sizes, rules or parameters, or a batch larger than kMaxWorlds or this
  // machine's memory) or ResourceError (memory or threads refused by the operating system).
  Engine(int64_t num_worlds, const Rules& rules, const ParamDefaults& params, int threads);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int64_t num_worlds() const { return batch_.num_worlds; }
  int threads() const { return pool_->size(); }

  // Smallest number of worlds worth a thread of its own (default 256); tests lower it to exercise
  // the split on small batches. Results never depend on it.
  void set_min_chunk(int64_t worlds) { min_chunk_ = worlds < 1 ? 1 : worlds; }
  const Rules& rules() const { return batch_.r; }

  // Reseeds (when `reseed`) and resets the worlds selected by `mask` (all when null), then writes
  // the observations of the agent roles and clears their step outputs.
  // `rng_states` (N generator states, or null) replaces the generators first (per-world seeds).
  void reset(bool reseed, uint64_t seed, const uint8_t* mask, const uint64_t* rng_states = nullptr);

  // One frame of every world. Actions of agent roles must be set (checked, finite) first.
  void step(const float* player, const float* enemy, const float* missile);

  // Writes the observation of `role` for every world into its buffer (with the parameters of the
  // last step or reset).
  void observe(int32_t role);

  // Overwrites the state array `name` with `bytes` bytes (exactly its size) and recomputes the
  // agents' observations. Throws ConfigError for an unknown name, ShapeError for a wrong size.
  void write_state(const std::string& name, const void* data, size_t bytes);

  // One array to overwrite: group "state", "params" or "outputs", its name, and exactly its bytes.
  struct ArrayWrite {
    std::string group, name;
    const void* data;
    size_t bytes;
  };
  // Overwrites several arrays under one guard (Worlds.import_state): every target and size is
  // checked, and imported parameters are checked like a step's, before anything is written; the
  // imported parameters are then also the ones the rules read. Throws ConfigError or ShapeError.
  void write_arrays(const std::vector<ArrayWrite>& items);

  // Checks the writable per-world parameters (param_arrays()); throws ConfigError naming the field,
  // the world and the range.
  void check_params() const { check_params(input_); }

  // Checks that agent actions are finite; throws ActionError naming role, world and field.
  void check_actions(const float* player, const float* enemy, const float* missile) const;

  std::vector<ArrayInfo> state_arrays() const;
  std::vector<ArrayInfo> param_arrays() const;  // the writable parameters (copied in at each call)
  std::vector<ArrayInfo> output_arrays() const;

  // For the at-fork handlers: wait until no call is in flight and hold the batch; release it.
  void hold_for_fork();
  void release_after_fork();

 private:
  class Busy;  // RAII guard over busy_
  struct Free {
    void operator()(void* p) const;
  };
  // Whether every parameter of worlds [begin, end) of `p` is in range: a fast pass.
  bool params_ok(const Params& p, int64_t begin, int64_t end) const;
  void check_params(const Params& p) const;
  // Copies the writable parameters into the staging block and checks them there; on success the
  // staging block becomes the one the rules read (a swap of pointers; with a mask, the masked
  // worlds' rows are copied over), else nothing changes.
  void take_params(const uint8_t* mask = nullptr);

  Batch batch_;        // batch_.p: the parameters of the last step or reset (what the rules read)
  Params input_{};     // the writable parameters (Worlds.params)
  Params staged_{};    // scratch: the next call's copy, checked before it is swapped in
  float* action_copy_[3] = {nullptr, nullptr, nullptr};  // the actions of the current step
  uint8_t* mask_copy_ = nullptr;                         // the mask of the current reset
  std::atomic<int> busy_{0};  // 0 free, 1 in a call, 2 held while the process forks
  int64_t min_chunk_ = 256;
  std::unique_ptr<unsigned char, Free> memory_;
  std::unique_ptr<ThreadPool> pool_;  // started last, once every check has passed
};

}  // namespace aip
