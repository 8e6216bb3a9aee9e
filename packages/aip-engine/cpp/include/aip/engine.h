// The host side of the CPU backend: owns the arrays of a batch, validates input, runs the thread pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aip/batch.h"
#include "aip/thread_pool.h"

namespace aip {

// Errors the bindings turn into the Python classes of aip_engine._errors.
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct ActionError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// A second call while a step, reset or observe of the same batch is running (from another thread).
struct BusyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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

class Engine {
 public:
  Engine(int64_t num_worlds, const Rules& rules, const ParamDefaults& params, int threads);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int64_t num_worlds() const { return batch_.num_worlds; }
  int threads() const { return pool_.size(); }

  // Smallest number of worlds worth a thread of its own (default 256); tests lower it to exercise
  // the split on small batches. Results never depend on it.
  void set_min_chunk(int64_t worlds) { min_chunk_ = worlds < 1 ? 1 : worlds; }
  const Rules& rules() const { return batch_.r; }

  // Reseeds (when `reseed`) and resets the worlds selected by `mask` (all when null), then writes
  // the observations of the agent roles and clears their step outputs.
  void reset(bool reseed, uint64_t seed, const uint8_t* mask);

  // One frame of every world. Actions of agent roles must be set (checked, finite) first.
  void step(const float* player, const float* enemy, const float* missile);

  // Writes the observation of `role` for every world into its buffer.
  void observe(int32_t role);

  // Checks the per-world parameters; throws ConfigError naming the field, the world and the range.
  void check_params() const;

  // Checks that agent actions are finite; throws ActionError naming role, world and field.
  void check_actions(const float* player, const float* enemy, const float* missile) const;

  std::vector<ArrayInfo> state_arrays() const;
  std::vector<ArrayInfo> param_arrays() const;
  std::vector<ArrayInfo> output_arrays() const;

 private:
  class Busy;  // RAII guard over busy_
  bool params_ok(int64_t begin, int64_t end) const;  // a fast pass over worlds [begin, end)

  Batch batch_;
  std::atomic<bool> busy_{false};
  int64_t min_chunk_ = 256;
  std::unique_ptr<unsigned char[]> memory_;
  ThreadPool pool_;
};

}  // namespace aip
