// One frame of one world, and its reset (docs/rules.md, "One frame", "Tasks", "Automatic reset").
//
// step_world(batch, i) is the whole per-world step: the CPU backend calls it in a loop over a chunk
// of worlds, a CUDA kernel calls it once per thread. It touches only world i's slots and generator.
#pragma once

#include "aip/bots.h"
#include "aip/observe.h"
#include "aip/tasks.h"

namespace aip {

// Whether the role's scripted bot drives it in world i: a role the batch gives to no agent, or an
// agent role whose driver for this episode (latched at the world's reset) is its bot.
AIP_HD AIP_INLINE bool bot_drives(const Batch& b, int32_t role, int64_t i) {
  if (!b.r.agent[role]) return true;
  if (role == kPlayer) return b.s.player_driver_episode[i] >= kDriverFirstBot;
  if (role == kEnemy) return b.s.enemy_driver_episode[i] >= kDriverFirstBot;
  return false;
}

// The bot code of a role driven by its bot: the episode's driver for an agent role, else the
// per-world parameter (read every frame).
AIP_HD AIP_INLINE int32_t player_bot_of(const Batch& b, int64_t i) {
  return b.r.agent[kPlayer] ? b.s.player_driver_episode[i] - kDriverFirstBot : b.p.player_bot[i];
}
AIP_HD AIP_INLINE int32_t enemy_bot_of(const Batch& b, int64_t i) {
  return b.r.agent[kEnemy] ? b.s.enemy_driver_episode[i] - kDriverFirstBot : b.p.enemy_bot[i];
}

// The respawn rule: returns the chosen position in (x, y).
AIP_HD inline void respawn_position(const Batch& b, int64_t i, const Arena& ar, Rng& rng, double* x, double* y) {
  const double m = b.r.respawn_margin;
  const double px = b.s.player_pos[2 * i];
  const double py = b.s.player_pos[2 * i + 1];
  double best_x = 0, best_y = 0, best_d = -1;
  for (int32_t t = 0; t < b.r.respawn_tries; ++t) {
    const double cx = rng.uniform(m, ar.w - m);
    const double cy = rng.uniform(m, ar.h - m);
    const double d = distance(ar, px, py, cx, cy);
    if (d >= b.r.respawn_min_distance) {
      *x = cx;
      *y = cy;
      return;
    }
    if (d > best_d) {
      best_d = d;
      best_x = cx;
      best_y = cy;
    }
  }
  *x = best_x;
  *y = best_y;
}

// Put a missile in slot k at the player's centre, aimed at the enemy's centre with the aim error.
AIP_HD inline void launch_missile(const Batch& b, int64_t i, const Arena& ar, Rng& rng, int k) {
  const State& s = b.s;
  const int64_t m = kMaxMissiles * i + k;
  const double px = s.player_pos[2 * i];
  const double py = s.player_pos[2 * i + 1];
  double dx, dy, hx, hy;
  displacement(ar, px, py, s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1], &dx, &dy);
  unit_or(dx, dy, 1, 0, &hx, &hy);
  const double err = rng.uniform(-b.r.aim_error, b.r.aim_error);
  rotate(&hx, &hy, err);
  s.missile_pos[2 * m] = px;
  s.missile_pos[2 * m + 1] = py;
  s.missile_heading[2 * m] = hx;
  s.missile_heading[2 * m + 1] = hy;
  s.missile_life[m] = rng.randint(b.r.missile_life_min, b.r.missile_life_max);
  s.missile_alive[m] = 1;
  s.player_cooldown[i] = b.r.fire_cooldown;
}

AIP_HD AIP_INLINE void remove_missile(const State& s, int64_t m) { s.missile_alive[m] = 0; }

// A new episode for world i, drawing on from its generator (reseeding is the caller's business).
AIP_HD inline void reset_world(const Batch& b, int64_t i) {
  const State& s = b.s;
  const Arena ar = arena_of(b, i);
  Rng rng{s.rng + i};
  const double m = b.r.respawn_margin;
  s.player_pos[2 * i] = rng.uniform(m, ar.w - m);
  s.player_pos[2 * i + 1] = rng.uniform(m, ar.h - m);
  s.player_vel[2 * i] = 0;
  s.player_vel[2 * i + 1] = 0;
  respawn_position(b, i, ar, rng, s.enemy_pos + 2 * i, s.enemy_pos + 2 * i + 1);
  s.enemy_vel[2 * i] = 0;
  s.enemy_vel[2 * i + 1] = 0;
  s.enemy_active[i] = 1;
  s.enemy_respawn_timer[i] = 0;
  s.enemy_fade[i] = 60;
  for (int k = 0; k < kMaxMissiles; ++k) {
    const int64_t mm = kMaxMissiles * i + k;
    s.missile_alive[mm] = 0;
    s.missile_life[mm] = 0;
    s.missile_pos[2 * mm] = s.missile_pos[2 * mm + 1] = 0;
    s.missile_heading[2 * mm] = s.missile_heading[2 * mm + 1] = 0;
  }
  s.player_cooldown[i] = 0;
  s.player_invulnerable[i] = 0;
  s.stage[i] = 0;
  s.stage_clock[i] = 0;
  s.frame[i] = 0;
  s.episode_return[3 * i] = s.episode_return[3 * i + 1] = s.episode_return[3 * i + 2] = 0;
  bot_state_defaults(b, i);
  s.player_driver_episode[i] = b.p.player_driver[i];
  s.enemy_driver_episode[i] = b.p.enemy_driver[i];
  if (bot_drives(b, kPlayer, i)) player_bot_reset(b, i, rng, player_bot_of(b, i));
  if (bot_drives(b, kEnemy, i)) enemy_bot_reset(b, i, rng, enemy_bot_of(b, i));
  if (b.r.wiring.launch_at_reset) launch_missile(b, i, ar, rng, 0);
}

AIP_HD AIP_INLINE float* obs_row(const Batch& b, int32_t role, int64_t i) {
  if (role == kPlayer) return b.o.obs_player + kObsPlayer * i;
  if (role == kEnemy) return b.o.obs_enemy + kObsEnemy * i;
  return b.o.obs_missile + kObsMissile * i;
}

AIP_HD AIP_INLINE float* final_obs_row(const Batch& b, int32_t role, int64_t i) {
  if (role == kPlayer) return b.o.final_obs_player + kObsPlayer * i;
  if (role == kEnemy) return b.o.final_obs_enemy + kObsEnemy * i;
  return b.o.final_obs_missile + kObsMissile * i;
}

AIP_HD AIP_INLINE int obs_size(int32_t role) {
  return role == kPlayer ? kObsPlayer : (role == kEnemy ? kObsEnemy : kObsMissile);
}

// Observations of every agent role for world i (current state), into the current and final rows.
AIP_HD AIP_INLINE void observe_agents(const Batch& b, int64_t i) {
  const Arena ar = arena_of(b, i);
  for (int32_t role = 0; role < 3; ++role) {
    if (b.r.agent[role]) observe_role(b, i, ar, role, ObsOut{obs_row(b, role, i), final_obs_row(b, role, i)});
  }
}

// Steps 1 to 5 of a frame (actions, movement, guidance and expiry, collisions, respawns).
AIP_HD inline void simulate_frame(const Batch& b, int64_t i, const Arena& ar, Rng& rng, FrameEvents& ev) {
  const State& s = b.s;
  const Params& p = b.p;
  const bool enemy_was_active = s.enemy_active[i] != 0;

  // 1. Actions, from the state at the start of the frame.
  double pmx, pmy;
  bool fire;
  if (!bot_drives(b, kPlayer, i)) {
    const float* a = b.a.player + kActPlayer * i;
    pmx = a[0];
    pmy = a[1];
    clip_disc(&pmx, &pmy);
    fire = a[2] >= 0.5f;
  } else {
    const CircleStep cs{0.9998000066665778, 0.01999866669333308};  // cos(0.02), sin(0.02) as Python prints them
    player_bot_move(b, i, ar, rng, player_bot_of(b, i), cs, &pmx, &pmy);
    fire = player_bot_fire(b, i, ar, rng);
  }
  double emx = 0, emy = 0, factor = 1;
  if (enemy_was_active) {
    if (!bot_drives(b, kEnemy, i)) {
      const float* a = b.a.enemy + kActEnemy * i;
      emx = a[0];
      emy = a[1];
      clip_disc(&emx, &emy);
    } else {
      enemy_bot_move(b, i, ar, rng, enemy_bot_of(b, i), &emx, &emy, &factor);
    }
  }

  // 2. Movement, then the fire decision, then the missiles alive at the start of the frame.
  {
    const double sp = p.player_speed[i];
    double* pos = s.player_pos + 2 * i;
    double* vel = s.player_vel + 2 * i;
    vel[0] = pmx * sp;
    vel[1] = pmy * sp;
    pos[0] += vel[0];
    pos[1] += vel[1];
    bound_body(ar, pos, b.r.player_radius);
  }
  {
    double* pos = s.enemy_pos + 2 * i;
    double* vel = s.enemy_vel + 2 * i;
    if (enemy_was_active) {
      const double es = p.enemy_speed[i];
      const double sc = p.enemy_speed_scale[i];
      vel[0] = emx * es * sc * factor;
      vel[1] = emy * es * sc * factor;
      pos[0] += vel[0];
      pos[1] += vel[1];
      bound_body(ar, pos, b.r.enemy_radius);
    } else {
      vel[0] = 0;
      vel[1] = 0;
    }
  }
  int fired = -1;
  if (fire && s.player_cooldown[i] == 0 && missiles_alive(b, i) < p.max_missiles[i]) {
    for (int k = 0; k < kMaxMissiles; ++k) {
      if (!s.missile_alive[kMaxMissiles * i + k]) {
        fired = k;
        break;
      }
    }
    launch_missile(b, i, ar, rng, fired);
    ev.counts[kFire] += 1;
  } else if (s.player_cooldown[i] > 0) {
    s.player_cooldown[i] -= 1;
  }
  // Steps 2 (missiles), 3 and 4 (missile collisions) only concern alive missiles: a world without
  // any (every world of a task with max_missiles 0) skips them.
  const bool any_missile = missiles_alive(b, i) > 0;
  if (any_missile) {
    const double ms = p.missile_speed[i];
    for (int k = 0; k < kMaxMissiles; ++k) {
      const int64_t m = kMaxMissiles * i + k;
      if (!s.missile_alive[m] || k == fired) continue;
      double* pos = s.missile_pos + 2 * m;
      pos[0] += s.missile_heading[2 * m] * ms;
      pos[1] += s.missile_heading[2 * m + 1] * ms;
      if (ar.boundary == kWrap) {
        wrap_point(ar, pos);
      } else if (pos[0] < 0 || pos[0] > ar.w || pos[1] < 0 || pos[1] > ar.h) {
        remove_missile(s, m);
        ev.counts[kExpire] += 1;
        if (k == 0) ev.slot0_expired = true;
      }
    }

    // 3. Guidance and expiry.
    const int32_t guidance = p.guidance[i];
    for (int k = 0; k < kMaxMissiles; ++k) {
      const int64_t m = kMaxMissiles * i + k;
      if (!s.missile_alive[m]) continue;
      double turn;
      if (k == 0 && b.r.agent[kMissile]) {
        turn = b.a.missile[i];
      } else {
        turn = guidance_turn(b, i, ar, k, guidance);
      }
      turn = clamp_to(turn, -1, 1);
      if (turn != 0) rotate(s.missile_heading + 2 * m, s.missile_heading + 2 * m + 1, turn * b.r.max_turn);
      s.missile_life[m] -= 1;
      if (s.missile_life[m] <= 0) {
        remove_missile(s, m);
        ev.counts[kExpire] += 1;
        if (k == 0) ev.slot0_expired = true;
      }
    }

    // 4. Collisions.
    const double hit_r = b.r.missile_radius + b.r.enemy_radius;
    for (int k = 0; k < kMaxMissiles && s.enemy_active[i]; ++k) {
      const int64_t m = kMaxMissiles * i + k;
      if (!s.missile_alive[m]) continue;
      const double d = distance(ar, s.missile_pos[2 * m], s.missile_pos[2 * m + 1], s.enemy_pos[2 * i],
                                s.enemy_pos[2 * i + 1]);
      if (d < hit_r) {
        remove_missile(s, m);
        s.enemy_active[i] = 0;
        s.enemy_respawn_timer[i] = b.r.respawn_delay;
        ev.counts[kHit] += 1;
        if (k == 0) ev.slot0_hit = true;
      }
    }
  }  // any_missile
  bool caught = false;
  if (s.enemy_active[i] && s.player_invulnerable[i] == 0 &&
      distance(ar, s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1], s.player_pos[2 * i], s.player_pos[2 * i + 1]) <
          b.r.player_radius + b.r.enemy_radius) {
    caught = true;
    ev.counts[kCatch] += 1;
    s.enemy_active[i] = 0;
    s.enemy_respawn_timer[i] = b.r.respawn_delay;
    s.player_invulnerable[i] = b.r.catch_invulnerability;
  } else if (s.player_invulnerable[i] > 0) {
    s.player_invulnerable[i] -= 1;
  }

  // 5. Respawns, fade, stage clock.
  if (!enemy_was_active) {
    s.enemy_respawn_timer[i] -= 1;
    if (s.enemy_respawn_timer[i] <= 0) {
      s.enemy_respawn_timer[i] = 0;
      respawn_position(b, i, ar, rng, s.enemy_pos + 2 * i, s.enemy_pos + 2 * i + 1);
      s.enemy_active[i] = 1;
      s.enemy_fade[i] = 0;
      ev.counts[kRespawn] += 1;
    }
  } else if (s.enemy_active[i] && s.enemy_fade[i] < 65535) {
    s.enemy_fade[i] += 1;
  }
  if (caught) {
    s.stage_clock[i] = 0;
  } else if (s.stage_clock[i] < 2147483647) {
    s.stage_clock[i] += 1;
  }
  const int32_t stage = s.stage_clock[i] / 600;
  s.stage[i] = stage > 3 ? 3 : stage;
}

// A new episode for world i with its step outputs cleared, as a reset leaves them: observations
// (current and final) of the new episode, zero rewards, returns, successes, events and frames.
AIP_HD inline void restart_world(const Batch& b, int64_t i) {
  const Outputs& o = b.o;
  reset_world(b, i);
  observe_agents(b, i);
  o.reward_player[i] = o.reward_enemy[i] = o.reward_missile[i] = 0;
  o.return_player[i] = o.return_enemy[i] = o.return_missile[i] = 0;
  o.success_player[i] = o.success_enemy[i] = o.success_missile[i] = o.success[i] = 0;
  o.terminated[i] = o.truncated[i] = 0;
  for (int e = 0; e < kNumEvents; ++e) o.events[kNumEvents * i + e] = 0;
  o.episode_frames[i] = 0;
}

// One whole frame of world i: simulate, reward, end episodes, observe, reset automatically.
AIP_HD inline void step_world(const Batch& b, int64_t i) {
  const State& s = b.s;
  const Outputs& o = b.o;
  // Next-step autoreset: a world whose episode ended in the previous step (its outputs still say so)
  // starts the next episode in this step instead of simulating a frame; its action is ignored.
  if (b.r.auto_reset == kAutoresetNextStep && (o.terminated[i] || o.truncated[i])) {
    restart_world(b, i);
    return;
  }
  Arena ar = arena_of(b, i);
  Rng rng{s.rng + i};
  FrameEvents ev;
  for (int e = 0; e < kNumEvents; ++e) ev.counts[e] = 0;
  ev.slot0_hit = false;
  ev.slot0_expired = false;

  double d_before[3];
  for (int32_t role = 0; role < 3; ++role) {
    d_before[role] = b.r.rewarded[role] ? shaping_distance(b, i, ar, role) : -1;
  }

  simulate_frame(b, i, ar, rng, ev);

  // 6. Rewards, termination, truncation.
  if (s.frame[i] < 2147483647) s.frame[i] += 1;  // saturates (play-v1 never ends)
  const uint32_t event_conditions = frame_conditions(ev, false);
  const bool terminated = task_terminated(b.r.wiring, event_conditions);
  const bool truncated = !terminated && b.r.time_limit > 0 && s.frame[i] >= b.r.time_limit;
  const bool done = terminated || truncated;
  const uint32_t conditions = truncated ? event_conditions | kCondTimeLimit : event_conditions;
  float* rewards[3] = {o.reward_player, o.reward_enemy, o.reward_missile};
  float* returns[3] = {o.return_player, o.return_enemy, o.return_missile};
  bool* successes[3] = {o.success_player, o.success_enemy, o.success_missile};
  for (int32_t role = 0; role < 3; ++role) {
    if (b.r.rewarded[role]) {
      const double d_after = shaping_distance(b, i, ar, role);
      const double r = role_reward(b, i, role, d_before[role], d_after, ev, conditions);
      rewards[role][i] = static_cast<float>(r);
      s.episode_return[3 * i + role] += r;
      returns[role][i] = static_cast<float>(s.episode_return[3 * i + role]);
    } else {
      rewards[role][i] = 0.0f;
      returns[role][i] = 0.0f;
    }
    successes[role][i] = done && role_success(b.r.wiring, role, conditions);
  }
  const int32_t success_role = b.r.wiring.success_role;
  o.success[i] = success_role >= 0 && successes[success_role][i];
  o.terminated[i] = terminated;
  o.truncated[i] = truncated;
  for (int e = 0; e < kNumEvents; ++e) o.events[kNumEvents * i + e] = ev.counts[e];
  o.episode_frames[i] = s.frame[i];

  // Observations: final_observations hold the end-of-frame observation before any automatic reset;
  // for a world that goes on, the current observation is the same.
  const bool reset = done && b.r.auto_reset == kAutoresetSameStep;
  for (int32_t role = 0; role < 3; ++role) {
    if (!b.r.agent[role]) continue;
    float* fin = final_obs_row(b, role, i);
    observe_role(b, i, ar, role, ObsOut{fin, reset ? fin : obs_row(b, role, i)});
  }
  if (reset) {
    reset_world(b, i);
    ar = arena_of(b, i);
    for (int32_t role = 0; role < 3; ++role) {
      if (b.r.agent[role]) {
        float* cur = obs_row(b, role, i);
        observe_role(b, i, ar, role, ObsOut{cur, cur});
      }
    }
  }
}

}  // namespace aip
