// Scripted bots: player bots, enemy bots and target motions, missile guidance (docs/rules.md, "Bots").
#pragma once

#include "aip/geometry.h"
#include "aip/rng.h"

namespace aip {

constexpr double kDiagonal = 0.7071067811865476;
constexpr double kQuarterPi = 0.7853981633974483;

// ---- wander state (player bots and the staged enemy) -------------------------------------------

AIP_HD AIP_INLINE void wander_reset(const Rules& r, Rng& rng, double* h, int32_t* timer) {
  const double th = rng.angle();
  h[0] = std::cos(th);
  h[1] = std::sin(th);
  *timer = rng.randint(r.wander_min, r.wander_max);
}

AIP_HD AIP_INLINE void wander_step(const Rules& r, Rng& rng, double* h, int32_t* timer) {
  if (*timer == 0) wander_reset(r, rng, h, timer);
  *timer -= 1;
}

// ---- player bots --------------------------------------------------------------------------------

AIP_HD inline void patterns_enter(const Batch& b, int64_t i, Rng& rng) {
  const State& s = b.s;
  const int32_t mode = rng.randint(0, 2);
  s.patterns_mode[i] = mode;
  s.patterns_timer[i] = rng.randint(180, 300);
  if (mode == 1) {
    s.patterns_centre[2 * i] = s.player_pos[2 * i];
    s.patterns_centre[2 * i + 1] = s.player_pos[2 * i + 1];
    s.patterns_radius[i] = rng.uniform(50, 150);
    const double phi = rng.angle();
    s.patterns_phase[2 * i] = std::cos(phi);
    s.patterns_phase[2 * i + 1] = std::sin(phi);
  } else if (mode == 2) {
    const int32_t k = rng.randint(0, 3);
    s.patterns_diagonal[2 * i] = ((k & 1) ? -1.0 : 1.0) * kDiagonal;
    s.patterns_diagonal[2 * i + 1] = ((k & 2) ? -1.0 : 1.0) * kDiagonal;
  }
}

// Every bot's own state at the start of an episode, before the bots in the slots draw theirs: a bot
// switched in through the parameters mid-episode starts from these values, as in the reference
// (its WorldState defaults), whatever the previous episode left behind.
AIP_HD inline void bot_state_defaults(const Batch& b, int64_t i) {
  const State& s = b.s;
  s.player_wander[2 * i] = 1;
  s.player_wander[2 * i + 1] = 0;
  s.player_wander_timer[i] = 0;
  s.patterns_mode[i] = 0;
  s.patterns_timer[i] = 0;
  s.patterns_centre[2 * i] = s.patterns_centre[2 * i + 1] = 0;
  s.patterns_radius[i] = 0;
  s.patterns_phase[2 * i] = 1;
  s.patterns_phase[2 * i + 1] = 0;
  s.patterns_diagonal[2 * i] = s.patterns_diagonal[2 * i + 1] = 0;
  s.kite_side[i] = 1;
  s.enemy_wander[2 * i] = 1;
  s.enemy_wander[2 * i + 1] = 0;
  s.enemy_wander_timer[i] = 0;
  s.enemy_motion[i] = kChase;
  s.motion_heading[2 * i] = 1;
  s.motion_heading[2 * i + 1] = 0;
  s.motion_turn[2 * i] = 1;
  s.motion_turn[2 * i + 1] = 0;
  s.motion_base[i] = 0;
  s.motion_leg[i] = 0;
  s.motion_sign[i] = 1;
}

// The player bot's state at reset (after the common reset).
AIP_HD inline void player_bot_reset(const Batch& b, int64_t i, Rng& rng, int32_t bot) {
  const State& s = b.s;
  wander_reset(b.r, rng, s.player_wander + 2 * i, s.player_wander_timer + i);
  if (bot == kPatterns) {
    patterns_enter(b, i, rng);
  } else if (bot == kKite) {
    s.kite_side[i] = rng.randint(0, 1) * 2 - 1;
  }
}

// Circle mode's rotation per frame: cos(0.02), sin(0.02), computed once by the host.
struct CircleStep {
  double c, s;
};

// Player bot move for this frame (state at the start of the frame). `d`, `dist`: player -> enemy.
AIP_HD inline void player_bot_move(const Batch& b, int64_t i, const Arena& ar, Rng& rng, int32_t bot,
                                   const CircleStep& cs, double* mx, double* my) {
  const State& s = b.s;
  double* h = s.player_wander + 2 * i;
  wander_step(b.r, rng, h, s.player_wander_timer + i);
  *mx = 0;
  *my = 0;
  const double px = s.player_pos[2 * i];
  const double py = s.player_pos[2 * i + 1];
  switch (bot) {
    case kWander:
      *mx = h[0];
      *my = h[1];
      return;
    case kPatterns: {
      if (s.patterns_timer[i] == 0) patterns_enter(b, i, rng);
      s.patterns_timer[i] -= 1;
      const int32_t mode = s.patterns_mode[i];
      if (mode == 0) {
        *mx = h[0];
        *my = h[1];
      } else if (mode == 1) {
        double* ph = s.patterns_phase + 2 * i;
        const double c = ph[0];
        const double sn = ph[1];
        ph[0] = c * cs.c - sn * cs.s;
        ph[1] = sn * cs.c + c * cs.s;
        const double R = s.patterns_radius[i];
        const double tx = s.patterns_centre[2 * i] + R * ph[0];
        const double ty = s.patterns_centre[2 * i + 1] + R * ph[1];
        double ex, ey;
        displacement(ar, px, py, tx, ty, &ex, &ey);
        const double n = norm(ex, ey);
        const double speed = b.p.player_speed[i];
        if (n > speed) {
          *mx = ex / n;
          *my = ey / n;
        } else if (n != 0) {
          *mx = ex / speed;
          *my = ey / speed;
        }
      } else {
        *mx = s.patterns_diagonal[2 * i];
        *my = s.patterns_diagonal[2 * i + 1];
      }
      return;
    }
    case kKite:
    case kFlee: {
      if (!s.enemy_active[i]) {
        *mx = h[0];
        *my = h[1];
        return;
      }
      double dx, dy, ux, uy;
      displacement(ar, px, py, s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1], &dx, &dy);
      const double dist = norm(dx, dy);
      if (dist < 1e-9) {
        ux = 1;
        uy = 0;
      } else {
        ux = dx / dist;
        uy = dy / dist;
      }
      if (bot == kKite) {
        const double radial = clamp_to((dist - 200) / 20, -1, 1);
        // A world switched to `kite` mid-episode has never drawn its side (0): circle to the left, as the
        // reference does, rather than divide by a zero-length move at exactly 200 px.
        const double side = s.kite_side[i] < 0 ? -1.0 : 1.0;
        const double tx = -uy * side;
        const double ty = ux * side;
        const double w = 1 - std::fabs(radial);
        const double vx = radial * ux + w * tx;
        const double vy = radial * uy + w * ty;
        const double n = norm(vx, vy);
        *mx = vx / n;
        *my = vy / n;
      } else if (dist < 250) {
        const double nu = rng.uniform(-0.3, 0.3);
        double fx = -ux;
        double fy = -uy;
        rotate(&fx, &fy, nu);
        *mx = fx;
        *my = fy;
      } else {
        *mx = h[0];
        *my = h[1];
      }
      return;
    }
    default:  // kIdle
      return;
  }
}

AIP_HD AIP_INLINE int32_t missiles_alive(const Batch& b, int64_t i) {
  const bool* alive = b.s.missile_alive + kMaxMissiles * i;
  return static_cast<int32_t>(alive[0]) + alive[1] + alive[2];
}

// A player bot's fire decision (state at the start of the frame).
AIP_HD inline bool player_bot_fire(const Batch& b, int64_t i, const Arena& ar, Rng& rng) {
  const State& s = b.s;
  const double p = b.p.fire_probability[i];
  if (!(p > 0) || !s.enemy_active[i] || s.player_cooldown[i] != 0) return false;
  if (missiles_alive(b, i) >= b.p.max_missiles[i]) return false;
  const double dist =
      distance(ar, s.player_pos[2 * i], s.player_pos[2 * i + 1], s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1]);
  if (!(dist <= b.r.fire_range)) return false;
  return rng.uniform() < p;
}

// ---- enemy bots ---------------------------------------------------------------------------------

// Enemy -> player displacement and the chase direction (zero when closer than 1e-9).
struct Pursuit {
  double dx, dy, dist, ux, uy;
};

AIP_HD AIP_INLINE Pursuit pursuit_of(const Batch& b, int64_t i, const Arena& ar) {
  Pursuit q;
  displacement(ar, b.s.enemy_pos[2 * i], b.s.enemy_pos[2 * i + 1], b.s.player_pos[2 * i],
               b.s.player_pos[2 * i + 1], &q.dx, &q.dy);
  q.dist = norm(q.dx, q.dy);
  if (q.dist < 1e-9) {
    q.ux = 0;
    q.uy = 0;
  } else {
    q.ux = q.dx / q.dist;
    q.uy = q.dy / q.dist;
  }
  return q;
}

AIP_HD inline void intercept_move(const Batch& b, int64_t i, const Pursuit& q, double* mx, double* my) {
  *mx = q.ux;
  *my = q.uy;
  if (q.dist < 1e-9) return;
  const double vx = b.s.player_vel[2 * i];
  const double vy = b.s.player_vel[2 * i + 1];
  const double sp = b.p.enemy_speed[i] * b.p.enemy_speed_scale[i];
  const double a = (vx * vx + vy * vy) - sp * sp;
  const double bb = 2 * (q.dx * vx + q.dy * vy);
  const double c = q.dx * q.dx + q.dy * q.dy;
  double tau = 0;
  bool found = false;
  if (std::fabs(a) < 1e-9) {
    if (bb < 0) {
      tau = -c / bb;
      found = true;
    }
  } else {
    const double disc = bb * bb - 4 * a * c;
    if (disc >= 0) {
      const double sq = std::sqrt(disc);
      const double r1 = (-bb - sq) / (2 * a);
      const double r2 = (-bb + sq) / (2 * a);
      const double lo = r1 < r2 ? r1 : r2;
      const double hi = r1 < r2 ? r2 : r1;
      if (lo > 0) {
        tau = lo;
        found = true;
      } else if (hi > 0) {
        tau = hi;
        found = true;
      }
    }
  }
  if (!found) tau = q.dist / sp;
  if (!(tau <= 120)) tau = 120;
  const double ax = q.dx + vx * tau;
  const double ay = q.dy + vy * tau;
  const double n = norm(ax, ay);
  if (n < 1e-9) return;  // chase
  *mx = ax / n;
  *my = ay / n;
}

AIP_HD inline void dodge_move(const Batch& b, int64_t i, const Arena& ar, const Pursuit& q, double* mx,
                              double* my) {
  double vx = q.ux;
  double vy = q.uy;
  const double ex0 = b.s.enemy_pos[2 * i];
  const double ey0 = b.s.enemy_pos[2 * i + 1];
  for (int k = 0; k < kMaxMissiles; ++k) {
    const int64_t m = kMaxMissiles * i + k;
    if (!b.s.missile_alive[m]) continue;
    double ex, ey;
    displacement(ar, b.s.missile_pos[2 * m], b.s.missile_pos[2 * m + 1], ex0, ey0, &ex, &ey);
    const double n = norm(ex, ey);
    if (n > 0 && n < 150) {
      const double w = dmin(150 / n, 3);
      vx += ex / n * w;
      vy += ey / n * w;
    }
  }
  const double n = norm(vx, vy);
  if (n < 1e-9) {
    *mx = 0;
    *my = 0;
  } else {
    *mx = vx / n;
    *my = vy / n;
  }
}

// The staged bot's speed factor per stage: 0.5, 5/6, 7/6, 1.5.
AIP_HD AIP_INLINE double stage_factor(int32_t k) {
  switch (k) {
    case 0:
      return 0.5;
    case 1:
      return 5.0 / 6.0;
    case 2:
      return 7.0 / 6.0;
    default:
      return 1.5;
  }
}

AIP_HD inline void staged_move(const Batch& b, int64_t i, const Arena& ar, Rng& rng, const Pursuit& q, double* mx,
                               double* my, double* factor) {
  const State& s = b.s;
  double* h = s.enemy_wander + 2 * i;
  wander_step(b.r, rng, h, s.enemy_wander_timer + i);
  int32_t k = s.stage_clock[i] / 600;
  if (k > 3) k = 3;
  *factor = stage_factor(k);
  double bx, by;
  if (k == 0) {
    bx = h[0];
    by = h[1];
  } else if (k == 1) {
    bx = 0.5 * h[0] + 0.5 * q.ux;
    by = 0.5 * h[1] + 0.5 * q.uy;
  } else if (k == 2) {
    double ix, iy;
    intercept_move(b, i, q, &ix, &iy);
    bx = 0.5 * q.ux + 0.5 * ix;
    by = 0.5 * q.uy + 0.5 * iy;
  } else {
    double ix, iy, dx, dy;
    intercept_move(b, i, q, &ix, &iy);
    dodge_move(b, i, ar, q, &dx, &dy);
    bx = 0.5 * ix + 0.5 * dx;
    by = 0.5 * iy + 0.5 * dy;
  }
  const double n = norm(bx, by);
  if (n < 1e-9) {
    *mx = 0;
    *my = 0;
  } else {
    *mx = bx / n;
    *my = by / n;
  }
}

// The zigzag's move: base + 45° or base - 45°, computed every frame; it leaves motion_heading (the
// heading of linear, circular and evasive) alone, so switching between motions keeps both.
AIP_HD AIP_INLINE void zigzag_move(const Batch& b, int64_t i, double* mx, double* my) {
  const double base = b.s.motion_base[i];
  const double a = b.s.motion_sign[i] > 0 ? base + kQuarterPi : base - kQuarterPi;
  *mx = std::cos(a);
  *my = std::sin(a);
}

// The enemy bot's state at reset; resolves the "random" motion draw into enemy_motion.
AIP_HD inline void enemy_bot_reset(const Batch& b, int64_t i, Rng& rng, int32_t bot) {
  const State& s = b.s;
  if (bot == kRandomMotion) bot = kLinear + rng.randint(0, 3);
  s.enemy_motion[i] = bot;
  double* mh = s.motion_heading + 2 * i;
  switch (bot) {
    case kStaged:
      wander_reset(b.r, rng, s.enemy_wander + 2 * i, s.enemy_wander_timer + i);
      break;
    case kLinear:
    case kEvasive: {
      const double th = rng.angle();
      mh[0] = std::cos(th);
      mh[1] = std::sin(th);
      break;
    }
    case kCircular: {
      const double th = rng.angle();
      mh[0] = std::cos(th);
      mh[1] = std::sin(th);
      const double R = rng.uniform(80, 200);
      const int32_t side = rng.randint(0, 1) * 2 - 1;
      const double speed = b.p.enemy_speed[i] * b.p.enemy_speed_scale[i];
      const double w = side * speed / R;
      s.motion_turn[2 * i] = std::cos(w);
      s.motion_turn[2 * i + 1] = std::sin(w);
      break;
    }
    case kZigzag:
      s.motion_base[i] = rng.angle();
      s.motion_leg[i] = rng.randint(20, 60);
      s.motion_sign[i] = 1;
      break;
    default:
      break;
  }
}

// Enemy bot move for this frame (only called while the enemy is active).
AIP_HD inline void enemy_bot_move(const Batch& b, int64_t i, const Arena& ar, Rng& rng, int32_t bot, double* mx,
                                  double* my, double* factor) {
  const State& s = b.s;
  if (bot == kRandomMotion) bot = s.enemy_motion[i];
  *factor = 1;
  *mx = 0;
  *my = 0;
  double* mh = s.motion_heading + 2 * i;
  switch (bot) {
    case kChase: {
      const Pursuit q = pursuit_of(b, i, ar);
      *mx = q.ux;
      *my = q.uy;
      return;
    }
    case kIntercept:
      intercept_move(b, i, pursuit_of(b, i, ar), mx, my);
      return;
    case kDodge:
      dodge_move(b, i, ar, pursuit_of(b, i, ar), mx, my);
      return;
    case kStaged:
      staged_move(b, i, ar, rng, pursuit_of(b, i, ar), mx, my, factor);
      return;
    case kLinear:
      *mx = mh[0];
      *my = mh[1];
      return;
    case kCircular: {
      const double c = s.motion_turn[2 * i];
      const double sn = s.motion_turn[2 * i + 1];
      const double hx = mh[0];
      const double hy = mh[1];
      mh[0] = hx * c - hy * sn;
      mh[1] = hx * sn + hy * c;
      *mx = mh[0];
      *my = mh[1];
      return;
    }
    case kZigzag:
      if (s.motion_leg[i] == 0) {
        s.motion_sign[i] = -s.motion_sign[i];
        s.motion_leg[i] = rng.randint(20, 60);
      }
      s.motion_leg[i] -= 1;
      zigzag_move(b, i, mx, my);
      return;
    case kEvasive: {
      *mx = mh[0];
      *my = mh[1];
      const double ex0 = s.enemy_pos[2 * i];
      const double ey0 = s.enemy_pos[2 * i + 1];
      int best = -1;
      double best_d = 0, bex = 0, bey = 0;
      for (int k = 0; k < kMaxMissiles; ++k) {
        const int64_t m = kMaxMissiles * i + k;
        if (!s.missile_alive[m]) continue;
        double ex, ey;
        displacement(ar, s.missile_pos[2 * m], s.missile_pos[2 * m + 1], ex0, ey0, &ex, &ey);
        const double d = norm(ex, ey);
        if (d < 200 && (best < 0 || d < best_d)) {
          best = k;
          best_d = d;
          bex = ex;
          bey = ey;
        }
      }
      if (best >= 0) {
        const int64_t m = kMaxMissiles * i + best;
        double nx = -s.missile_heading[2 * m + 1];
        double ny = s.missile_heading[2 * m];
        if (nx * bex + ny * bey < 0) {
          nx = -nx;
          ny = -ny;
        }
        *mx = nx;
        *my = ny;
      }
      return;
    }
    default:
      return;
  }
}

// ---- missile guidance ---------------------------------------------------------------------------

AIP_HD inline double guidance_turn(const Batch& b, int64_t i, const Arena& ar, int k, int32_t guidance) {
  if (guidance != kHoming) return 0;
  const State& s = b.s;
  if (!s.enemy_active[i]) return 0;
  const double max_turn = b.r.max_turn;
  if (!(max_turn > 0)) return 0;
  const int64_t m = kMaxMissiles * i + k;
  const double tx = s.enemy_pos[2 * i] + s.enemy_vel[2 * i] * 0.5;
  const double ty = s.enemy_pos[2 * i + 1] + s.enemy_vel[2 * i + 1] * 0.5;
  double ex, ey;
  displacement(ar, s.missile_pos[2 * m], s.missile_pos[2 * m + 1], tx, ty, &ex, &ey);
  const double hx = s.missile_heading[2 * m];
  const double hy = s.missile_heading[2 * m + 1];
  const double angle = std::atan2(hx * ey - hy * ex, hx * ex + hy * ey);
  return clamp_to(angle / max_turn, -1, 1);
}

}  // namespace aip
