// Task wiring: shaping distances, success and failure per role, termination (docs/rules.md, "Tasks").
#pragma once

#include "aip/geometry.h"

namespace aip {

// What happened in a frame that the task logic needs.
struct FrameEvents {
  uint8_t counts[kNumEvents];
  bool slot0_hit;      // missile slot 0 hit the enemy
  bool slot0_expired;  // missile slot 0 expired (lifetime, or left the arena under clamp)
};

// The distance an agent role's shaping measures, or -1 when the agent or its target is missing.
// player and enemy: player <-> enemy (enemy active); missile: slot 0 -> enemy (both present).
AIP_HD AIP_INLINE double shaping_distance(const Batch& b, int64_t i, const Arena& ar, int32_t role) {
  const State& s = b.s;
  if (!s.enemy_active[i]) return -1;
  if (role == kMissile) {
    const int64_t m = kMaxMissiles * i;
    if (!s.missile_alive[m]) return -1;
    return distance(ar, s.missile_pos[2 * m], s.missile_pos[2 * m + 1], s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1]);
  }
  return distance(ar, s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1], s.player_pos[2 * i], s.player_pos[2 * i + 1]);
}

// The conditions a frame ended with (aip/task_table.h: the event bits, slot 0, the time limit).
AIP_HD AIP_INLINE uint32_t frame_conditions(const FrameEvents& e, bool truncated) {
  uint32_t c = 0;
  for (int k = 0; k < kNumEvents; ++k) {
    if (e.counts[k] > 0) c |= 1u << k;
  }
  if (e.slot0_hit) c |= kCondSlot0Hit;
  if (e.slot0_expired) c |= kCondSlot0Expire;
  if (truncated) c |= kCondTimeLimit;
  return c;
}

AIP_HD AIP_INLINE bool role_success(const TaskWiring& w, int32_t role, uint32_t conditions) {
  return (w.success[role] & conditions) != 0;
}

AIP_HD AIP_INLINE bool role_failure(const TaskWiring& w, int32_t role, uint32_t conditions) {
  return (w.failure[role] & conditions) != 0;
}

// Whether the task ends the episode on this frame's events (the time limit is a truncation).
AIP_HD AIP_INLINE bool task_terminated(const TaskWiring& w, uint32_t conditions) {
  return (w.ends & conditions & ~static_cast<uint32_t>(kCondTimeLimit)) != 0;
}

// Shaping divides by the mover's base speed, but never by less than this (px/frame).
constexpr double kMinShapingSpeed = 1e-3;

// The reward of one role for this frame, in float64 (the caller rounds it to float32): the terms of
// the task's declaration, added in the order of RewardTerm.
AIP_HD AIP_INLINE double role_reward(const Batch& b, int64_t i, int32_t role, double d_before, double d_after,
                                     const FrameEvents& e, uint32_t conditions) {
  const TaskWiring& w = b.r.wiring;
  const double* weight = w.reward[role];
  double r = 0;
  double speed;
  if (role == kPlayer) {
    speed = b.p.player_speed[i];
  } else if (role == kEnemy) {
    speed = b.p.enemy_speed[i];
  } else {
    speed = b.p.missile_speed[i];
  }
  if (d_before >= 0 && d_after >= 0 && speed > 0) {
    // "toward": paid for decreasing the distance; "away" (the player's): for increasing it.
    const double progress = w.shaping_sign[role] < 0 ? d_after - d_before : d_before - d_after;
    // A floor under the divisor keeps the reward finite in float32 for any speed above 0.
    r = weight[kTermShaping] * progress / dmax(speed, kMinShapingSpeed);
  }
  if (role_success(w, role, conditions)) r += weight[kTermSuccess];
  if (role_failure(w, role, conditions)) r += weight[kTermFailure];
  if (weight[kTermAlive] != 0) r += weight[kTermAlive];
  for (int k = 0; k < kNumEvents; ++k) {
    if (weight[kTermFire + k] != 0 && e.counts[k] > 0) r += weight[kTermFire + k] * static_cast<double>(e.counts[k]);
  }
  return r;
}

}  // namespace aip
