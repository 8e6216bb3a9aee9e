// The structure-of-arrays layout of a batch of worlds.
//
// Every array is sized N (times a per-world shape) and allocated once by the host; the rule functions
// only receive pointers. The X-macro lists below are the single place where the state, the per-world
// parameters and the outputs are named, so the allocator, the Python views and the CUDA backend all
// agree on names, element types and shapes.
#pragma once

#include "aip/hd.h"
#include "aip/task_table.h"  // generated from src/aip_engine/tasks.toml

namespace aip {

// X(name, element type, dim1, dim2): per-world shape (dim1, dim2); 0 = no such dimension.
// Flags are `bool` (one byte, like numpy's bool); counters are integers.
// The first block is public (Worlds.state()); the rest is bot and bookkeeping state.
#define AIP_STATE_FIELDS(X)                       \
  X(player_pos, double, 2, 0)                     \
  X(player_vel, double, 2, 0)                     \
  X(enemy_pos, double, 2, 0)                      \
  X(enemy_vel, double, 2, 0)                      \
  X(enemy_active, bool, 0, 0)                  \
  X(enemy_respawn_timer, int32_t, 0, 0)           \
  X(enemy_fade, int32_t, 0, 0)                    \
  X(missile_pos, double, 3, 2)                    \
  X(missile_heading, double, 3, 2)                \
  X(missile_alive, bool, 3, 0)                 \
  X(missile_life, int32_t, 3, 0)                  \
  X(player_cooldown, int32_t, 0, 0)               \
  X(player_invulnerable, int32_t, 0, 0)           \
  X(stage, int32_t, 0, 0)                         \
  X(stage_clock, int32_t, 0, 0)                   \
  X(frame, int32_t, 0, 0)                         \
  X(player_wander, double, 2, 0)                  \
  X(player_wander_timer, int32_t, 0, 0)           \
  X(patterns_mode, int32_t, 0, 0)                 \
  X(patterns_timer, int32_t, 0, 0)                \
  X(patterns_centre, double, 2, 0)                \
  X(patterns_radius, double, 0, 0)                \
  X(patterns_phase, double, 2, 0)                 \
  X(patterns_diagonal, double, 2, 0)              \
  X(kite_side, int32_t, 0, 0)                     \
  X(enemy_wander, double, 2, 0)                   \
  X(enemy_wander_timer, int32_t, 0, 0)            \
  X(enemy_motion, int32_t, 0, 0)                  \
  X(motion_heading, double, 2, 0)                 \
  X(motion_turn, double, 2, 0)                    \
  X(motion_base, double, 0, 0)                    \
  X(motion_leg, int32_t, 0, 0)                    \
  X(motion_sign, int32_t, 0, 0)                   \
  X(episode_return, double, 3, 0)                 \
  X(player_driver_episode, int32_t, 0, 0)         \
  X(enemy_driver_episode, int32_t, 0, 0)          \
  X(rng, uint64_t, 0, 0)

// Per-world task parameters, writable from Python and read at every frame.
#define AIP_PARAM_FIELDS(X)            \
  X(player_speed, double, 0, 0)        \
  X(enemy_speed, double, 0, 0)         \
  X(enemy_speed_scale, double, 0, 0)   \
  X(missile_speed, double, 0, 0)       \
  X(arena_width, double, 0, 0)         \
  X(arena_height, double, 0, 0)        \
  X(fire_probability, double, 0, 0)    \
  X(max_missiles, int32_t, 0, 0)       \
  X(player_bot, int32_t, 0, 0)         \
  X(enemy_bot, int32_t, 0, 0)          \
  X(guidance, int32_t, 0, 0)           \
  X(player_driver, int32_t, 0, 0)      \
  X(enemy_driver, int32_t, 0, 0)

// Per-step outputs. Observation buffers are sized by the role layouts.
#define AIP_OUTPUT_FIELDS(X)                  \
  X(obs_player, float, 26, 0)                 \
  X(obs_enemy, float, 24, 0)                  \
  X(obs_missile, float, 10, 0)                \
  X(final_obs_player, float, 26, 0)           \
  X(final_obs_enemy, float, 24, 0)            \
  X(final_obs_missile, float, 10, 0)          \
  X(reward_player, float, 0, 0)               \
  X(reward_enemy, float, 0, 0)                \
  X(reward_missile, float, 0, 0)              \
  X(return_player, float, 0, 0)               \
  X(return_enemy, float, 0, 0)                \
  X(return_missile, float, 0, 0)              \
  X(success_player, bool, 0, 0)            \
  X(success_enemy, bool, 0, 0)             \
  X(success_missile, bool, 0, 0)           \
  X(success, bool, 0, 0)                   \
  X(terminated, bool, 0, 0)                \
  X(truncated, bool, 0, 0)                 \
  X(events, uint8_t, 5, 0)                    \
  X(episode_frames, int32_t, 0, 0)

#define AIP_DECLARE_POINTER(name, type, d1, d2) type* name;

struct State {
  AIP_STATE_FIELDS(AIP_DECLARE_POINTER)
};
struct Params {
  AIP_PARAM_FIELDS(AIP_DECLARE_POINTER)
};
struct Outputs {
  AIP_OUTPUT_FIELDS(AIP_DECLARE_POINTER)
};

// Role, bot and event codes: the positions of the names in aip_engine/_layouts.py and
// aip_engine/_tasks.py (Python is the source of truth for names; these must match). Task codes are the
// order of src/aip_engine/tasks.toml (aip/task_table.h).
enum Role : int32_t { kPlayer = 0, kEnemy = 1, kMissile = 2 };
enum PlayerBot : int32_t { kIdle = 0, kWander = 1, kPatterns = 2, kKite = 3, kFlee = 4 };
enum EnemyBot : int32_t {
  kRandomMotion = -1,
  kChase = 0,
  kIntercept = 1,
  kDodge = 2,
  kStaged = 3,
  kLinear = 4,
  kCircular = 5,
  kZigzag = 6,
  kEvasive = 7
};
enum Guidance : int32_t { kStraight = 0, kHoming = 1 };
// Who drives an agent role in one world for one episode (params player_driver / enemy_driver, read
// at the world's reset): 0 the caller's actions, 1 + k the role's scripted bot of code k, so that one
// batch can mix learners and scripted opponents world by world.
enum Driver : int32_t { kDriverActions = 0, kDriverFirstBot = 1 };
enum Event : int32_t { kFire = 0, kHit = 1, kCatch = 2, kRespawn = 3, kExpire = 4 };
enum Boundary : int32_t { kWrap = 0, kClamp = 1 };

constexpr int kMaxMissiles = 3;
constexpr int kNumEvents = 5;
constexpr int kObsPlayer = 26;
constexpr int kObsEnemy = 24;
constexpr int kObsMissile = 10;
constexpr int kActPlayer = 3;
constexpr int kActEnemy = 2;
constexpr int kActMissile = 1;

// A task's declaration resolved for one batch (wire_task): condition masks and numeric reward weights.
struct TaskWiring {
  uint32_t ends;
  int32_t success_role;  // -1 none
  uint8_t launch_at_reset;
  uint32_t success[3];
  uint32_t failure[3];
  int32_t shaping_sign[3];
  double reward[3][kNumRewardTerms];
};

// Batch-wide rule numbers (from aip_engine.Config) and the task's wiring.
struct Rules {
  double player_radius, enemy_radius, missile_radius;
  double aim_error, max_turn;  // max_turn in radians
  double respawn_min_distance, respawn_margin;
  double fire_range;
  double reward_success, reward_failure, shaping_scale;
  int32_t boundary;
  int32_t fire_cooldown;
  int32_t missile_life_min, missile_life_max;
  int32_t respawn_delay, respawn_tries;
  int32_t catch_invulnerability;
  int32_t wander_min, wander_max;
  int32_t time_limit;  // 0 = none
  int32_t task;
  uint8_t agent[3];    // role is driven by actions
  uint8_t rewarded[3]; // role gets rewards and returns
  uint8_t auto_reset;  // an Autoreset mode
  TaskWiring wiring;   // filled from `task` by wire_task when an engine is made
};

// The declaration of `r.task` (kTaskDecls) with its weights that name Config fields read from `r`.
// Host code; r.task must be a task code (the engines check it first).
inline TaskWiring wire_task(const Rules& r) {
  const TaskDecl& d = kTaskDecls[r.task];
  TaskWiring w{};
  w.ends = d.ends;
  w.success_role = d.success_role;
  w.launch_at_reset = d.launch_at_reset;
  const double fields[3] = {r.reward_success, r.reward_failure, r.shaping_scale};
  for (int role = 0; role < 3; ++role) {
    w.success[role] = d.success[role];
    w.failure[role] = d.failure[role];
    w.shaping_sign[role] = d.shaping_sign[role];
    for (int t = 0; t < kNumRewardTerms; ++t) {
      const int32_t f = d.weight_field[role][t];
      w.reward[role][t] = f == kWeightLiteral ? d.weight[role][t] : fields[f];
    }
  }
  return w;
}

// What a step does with a world whose episode ended (Gymnasium's autoreset modes): nothing (the caller
// resets it), reset it within the same step, or reset it in the next step instead of simulating a frame.
enum Autoreset : uint8_t { kAutoresetDisabled = 0, kAutoresetSameStep = 1, kAutoresetNextStep = 2 };

// Agent actions of this step (null for roles that are not agents).
struct Actions {
  const float* player;   // (N, 3)
  const float* enemy;    // (N, 2)
  const float* missile;  // (N, 1)
};

// Everything a per-world function needs, passed by value to a CUDA kernel.
struct Batch {
  State s;
  Params p;
  Outputs o;
  Actions a;
  Rules r;
  int64_t num_worlds;
};

}  // namespace aip
