// Arena geometry: shortest displacements, boundary rules, clipping, rotation (docs/rules.md).
#pragma once

#include "aip/batch.h"

namespace aip {

// One world's arena, read from its parameters at the start of a frame.
struct Arena {
  double w, h;    // width, height
  double hw, hh;  // W/2, H/2
  int32_t boundary;
};

AIP_HD AIP_INLINE Arena arena_of(const Batch& b, int64_t i) {
  Arena a;
  a.w = b.p.arena_width[i];
  a.h = b.p.arena_height[i];
  a.hw = a.w / 2;
  a.hh = a.h / 2;
  a.boundary = b.r.boundary;
  return a;
}

AIP_HD AIP_INLINE double norm(double x, double y) { return std::sqrt(x * x + y * y); }

// Shortest displacement from (ax, ay) to (bx, by): on the torus under wrap, plain under clamp.
AIP_HD AIP_INLINE void displacement(const Arena& a, double ax, double ay, double bx, double by, double* dx,
                                    double* dy) {
  double x = bx - ax;
  double y = by - ay;
  if (a.boundary == kWrap) {
    if (x > a.hw) {
      x -= a.w;
    } else if (x < -a.hw) {
      x += a.w;
    }
    if (y > a.hh) {
      y -= a.h;
    } else if (y < -a.hh) {
      y += a.h;
    }
  }
  *dx = x;
  *dy = y;
}

AIP_HD AIP_INLINE double distance(const Arena& a, double ax, double ay, double bx, double by) {
  double dx, dy;
  displacement(a, ax, ay, bx, by, &dx, &dy);
  return norm(dx, dy);
}

AIP_HD AIP_INLINE void wrap_point(const Arena& a, double* p) {
  if (p[0] < 0) {
    p[0] += a.w;
  } else if (p[0] >= a.w) {
    p[0] -= a.w;
  }
  if (p[1] < 0) {
    p[1] += a.h;
  } else if (p[1] >= a.h) {
    p[1] -= a.h;
  }
}

AIP_HD AIP_INLINE double clamp_to(double x, double lo, double hi) {
  if (x < lo) return lo;
  if (x > hi) return hi;
  return x;
}

// Boundary rule for the player and the enemy (radius r).
AIP_HD AIP_INLINE void bound_body(const Arena& a, double* p, double r) {
  if (a.boundary == kWrap) {
    wrap_point(a, p);
  } else {
    p[0] = clamp_to(p[0], r, a.w - r);
    p[1] = clamp_to(p[1], r, a.h - r);
  }
}

// Clip a move to the unit disc.
AIP_HD AIP_INLINE void clip_disc(double* x, double* y) {
  const double n2 = *x * *x + *y * *y;
  if (n2 > 1) {
    const double s = 1 / std::sqrt(n2);
    *x *= s;
    *y *= s;
  }
}

// Rotate (x, y) by angle a (radians).
AIP_HD AIP_INLINE void rotate(double* x, double* y, double a) {
  const double c = std::cos(a);
  const double s = std::sin(a);
  const double hx = *x;
  const double hy = *y;
  *x = hx * c - hy * s;
  *y = hx * s + hy * c;
}

// Unit vector of (dx, dy), or `fallback` when its norm is below 1e-9.
AIP_HD AIP_INLINE void unit_or(double dx, double dy, double fx, double fy, double* ux, double* uy) {
  const double n = norm(dx, dy);
  if (n < 1e-9) {
    *ux = fx;
    *uy = fy;
  } else {
    *ux = dx / n;
    *uy = dy / n;
  }
}

}  // namespace aip
