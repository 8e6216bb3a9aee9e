// Role observations (docs/rules.md, "Roles: observation and action layouts (version 1)").
#pragma once

#include "aip/geometry.h"

namespace aip {

// Normalisers of one world: relative vectors, distances, absolute positions.
struct Scales {
  double rx, ry;  // W/2, H/2 under wrap; W, H under clamp
  double diag;    // half-diagonal under wrap; diagonal under clamp
};

AIP_HD AIP_INLINE Scales scales_of(const Arena& a) {
  Scales sc;
  if (a.boundary == kWrap) {
    sc.rx = a.hw;
    sc.ry = a.hh;
  } else {
    sc.rx = a.w;
    sc.ry = a.h;
  }
  sc.diag = std::sqrt(sc.rx * sc.rx + sc.ry * sc.ry);
  return sc;
}

AIP_HD AIP_INLINE float f32(double x) { return static_cast<float>(x); }

// Where an observation is written: two rows (the step writes the current and the final observation
// at once, which avoids a read-back of freshly written floats); both may be the same row.
struct ObsOut {
  float* a;
  float* b;
  AIP_HD AIP_INLINE void put(int k, float v) const {
    a[k] = v;
    b[k] = v;
  }
  AIP_HD AIP_INLINE ObsOut at(int offset) const { return ObsOut{a + offset, b + offset}; }
};

// Velocity over a base speed; 0 when the speed is 0.
AIP_HD AIP_INLINE float per_speed(double v, double speed) { return speed > 0 ? f32(v / speed) : 0.0f; }

AIP_HD inline void observe_enemy(const Batch& b, int64_t i, const Arena& ar, const ObsOut& o) {
  const State& s = b.s;
  const Scales sc = scales_of(ar);
  const double ex = s.enemy_pos[2 * i];
  const double ey = s.enemy_pos[2 * i + 1];
  const double es = b.p.enemy_speed[i];
  const double ps = b.p.player_speed[i];
  o.put(0, f32(2 * ex / ar.w - 1));
  o.put(1, f32(2 * ey / ar.h - 1));
  o.put(2, per_speed(s.enemy_vel[2 * i], es));
  o.put(3, per_speed(s.enemy_vel[2 * i + 1], es));
  double dx, dy;
  displacement(ar, ex, ey, s.player_pos[2 * i], s.player_pos[2 * i + 1], &dx, &dy);
  o.put(4, f32(dx / sc.rx));
  o.put(5, f32(dy / sc.ry));
  o.put(6, f32(norm(dx, dy) / sc.diag));
  o.put(7, per_speed(s.player_vel[2 * i], ps));
  o.put(8, per_speed(s.player_vel[2 * i + 1], ps));
  // The 3 nearest alive missiles by distance, ties by slot (insertion into a sorted list of 3).
  int order[kMaxMissiles];
  double dist[kMaxMissiles], mdx[kMaxMissiles], mdy[kMaxMissiles];
  int count = 0;
  for (int k = 0; k < kMaxMissiles; ++k) {
    const int64_t m = kMaxMissiles * i + k;
    if (!s.missile_alive[m]) continue;
    displacement(ar, ex, ey, s.missile_pos[2 * m], s.missile_pos[2 * m + 1], &mdx[k], &mdy[k]);
    dist[k] = norm(mdx[k], mdy[k]);
    int j = count;
    while (j > 0 && dist[order[j - 1]] > dist[k]) {
      order[j] = order[j - 1];
      --j;
    }
    order[j] = k;
    ++count;
  }
  ObsOut mo = o.at(9);
  for (int j = 0; j < kMaxMissiles; ++j, mo = mo.at(5)) {
    if (j < count) {
      const int k = order[j];
      const int64_t m = kMaxMissiles * i + k;
      mo.put(0, f32(mdx[k] / sc.rx));
      mo.put(1, f32(mdy[k] / sc.ry));
      mo.put(2, f32(s.missile_heading[2 * m]));
      mo.put(3, f32(s.missile_heading[2 * m + 1]));
      mo.put(4, 1.0f);
    } else {
      for (int z = 0; z < 5; ++z) mo.put(z, 0.0f);
    }
  }
}

AIP_HD inline void observe_missile(const Batch& b, int64_t i, const Arena& ar, const ObsOut& o) {
  const State& s = b.s;
  const int64_t m = kMaxMissiles * i;  // slot 0
  for (int j = 0; j < kObsMissile; ++j) o.put(j, 0.0f);
  if (!s.missile_alive[m]) return;
  const double hx = s.missile_heading[2 * m];
  const double hy = s.missile_heading[2 * m + 1];
  o.put(5, f32(hx));
  o.put(6, f32(hy));
  o.put(7, f32(static_cast<double>(s.missile_life[m]) / b.r.missile_life_max));
  if (!s.enemy_active[i]) return;
  const Scales sc = scales_of(ar);
  double ex, ey;
  displacement(ar, s.missile_pos[2 * m], s.missile_pos[2 * m + 1], s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1], &ex,
               &ey);
  const double n = norm(ex, ey);
  const double es = b.p.enemy_speed[i];
  o.put(0, f32(ex / sc.rx));
  o.put(1, f32(ey / sc.ry));
  o.put(2, f32(n / sc.diag));
  o.put(3, per_speed(s.enemy_vel[2 * i], es));
  o.put(4, per_speed(s.enemy_vel[2 * i + 1], es));
  if (n == 0) {
    o.put(8, 1.0f);
    o.put(9, 0.0f);
  } else {
    o.put(8, f32((hx * ex + hy * ey) / n));
    o.put(9, f32((hx * ey - hy * ex) / n));
  }
}

AIP_HD inline void observe_player(const Batch& b, int64_t i, const Arena& ar, const ObsOut& o) {
  const State& s = b.s;
  const Scales sc = scales_of(ar);
  const double px = s.player_pos[2 * i];
  const double py = s.player_pos[2 * i + 1];
  const double ps = b.p.player_speed[i];
  o.put(0, f32(2 * px / ar.w - 1));
  o.put(1, f32(2 * py / ar.h - 1));
  o.put(2, per_speed(s.player_vel[2 * i], ps));
  o.put(3, per_speed(s.player_vel[2 * i + 1], ps));
  if (s.enemy_active[i]) {
    double dx, dy;
    displacement(ar, px, py, s.enemy_pos[2 * i], s.enemy_pos[2 * i + 1], &dx, &dy);
    const double es = b.p.enemy_speed[i];
    o.put(4, f32(dx / sc.rx));
    o.put(5, f32(dy / sc.ry));
    o.put(6, f32(norm(dx, dy) / sc.diag));
    o.put(7, per_speed(s.enemy_vel[2 * i], es));
    o.put(8, per_speed(s.enemy_vel[2 * i + 1], es));
    o.put(9, 1.0f);
  } else {
    for (int z = 4; z < 10; ++z) o.put(z, 0.0f);
  }
  const int32_t cd = b.r.fire_cooldown;
  o.put(10, cd > 0 ? f32(static_cast<double>(s.player_cooldown[i]) / cd) : 0.0f);
  ObsOut mo = o.at(11);
  for (int k = 0; k < kMaxMissiles; ++k, mo = mo.at(5)) {
    const int64_t m = kMaxMissiles * i + k;
    if (s.missile_alive[m]) {
      double dx, dy;
      displacement(ar, px, py, s.missile_pos[2 * m], s.missile_pos[2 * m + 1], &dx, &dy);
      mo.put(0, f32(dx / sc.rx));
      mo.put(1, f32(dy / sc.ry));
      mo.put(2, f32(s.missile_heading[2 * m]));
      mo.put(3, f32(s.missile_heading[2 * m + 1]));
      mo.put(4, 1.0f);
    } else {
      for (int z = 0; z < 5; ++z) mo.put(z, 0.0f);
    }
  }
}

AIP_HD AIP_INLINE void observe_role(const Batch& b, int64_t i, const Arena& ar, int32_t role, const ObsOut& o) {
  if (role == kPlayer) {
    observe_player(b, i, ar, o);
  } else if (role == kEnemy) {
    observe_enemy(b, i, ar, o);
  } else {
    observe_missile(b, i, ar, o);
  }
}

}  // namespace aip
