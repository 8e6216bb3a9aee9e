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

AIP_HD AIP_INLINE bool role_success(int32_t role, const FrameEvents& e) {
  if (role == kEnemy) return e.counts[kCatch] > 0;
  if (role == kPlayer) return e.counts[kHit] > 0;
  return e.slot0_hit;
}

AIP_HD AIP_INLINE bool role_failure(int32_t role, const FrameEvents& e) {
  if (role == kEnemy) return e.counts[kHit] > 0;
  if (role == kPlayer) return e.counts[kCatch] > 0;
  return e.slot0_expired;
}

// The role whose success is the world's success; -1 for none.
AIP_HD AIP_INLINE int32_t task_success_role(int32_t task) {
  switch (task) {
    case kChaseV1:
    case kChaseFleeV1:
    case kDodgeV1:
      return kEnemy;
    case kInterceptV1:
      return kMissile;
    case kDuelV1:
      return kPlayer;
    default:
      return -1;
  }
}

AIP_HD AIP_INLINE bool task_terminated(int32_t task, const FrameEvents& e) {
  switch (task) {
    case kChaseV1:
    case kChaseFleeV1:
      return e.counts[kCatch] > 0;
    case kDodgeV1:
    case kDuelV1:
      return e.counts[kCatch] > 0 || e.counts[kHit] > 0;
    case kInterceptV1:
      return e.counts[kHit] > 0 || e.slot0_expired;
    default:
      return false;
  }
}

// Shaping divides by the mover's base speed, but never by less than this (px/frame).
constexpr double kMinShapingSpeed = 1e-3;

// The reward of one role for this frame, in float64 (the caller rounds it to float32).
AIP_HD AIP_INLINE double role_reward(const Batch& b, int64_t i, int32_t role, double d_before, double d_after,
                                     const FrameEvents& e) {
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
    // The player is rewarded for increasing its distance from the enemy.
    const double progress = role == kPlayer ? d_after - d_before : d_before - d_after;
    // A floor under the divisor keeps the reward finite in float32 for any speed above 0.
    r = b.r.shaping_scale * progress / dmax(speed, kMinShapingSpeed);
  }
  if (role_success(role, e)) r += b.r.reward_success;
  if (role_failure(role, e)) r += b.r.reward_failure;
  return r;
}

}  // namespace aip
