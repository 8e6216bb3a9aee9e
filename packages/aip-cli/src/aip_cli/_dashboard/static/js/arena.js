// The arena drawn with the pygame game's look (aip_game's sprites and effects): the grid and stars,
// the player's ship pointing where it flies with its flame, the spiky enemy fading in after a
// respawn, glowing missiles with fading trails, and rings and sparks for the events. Positions are
// the engine's (arena pixels, centres); only the looks are made here.

export const COLORS = {
  background: "rgb(9,11,26)",
  grid: "rgb(22,28,58)",
  playerCore: "rgb(210,250,255)",
  playerBody: "rgb(40,170,220)",
  playerGlow: "rgba(20,90,130,0.9)",
  enemyCore: "rgb(255,235,245)",
  enemyBody: "rgb(235,40,95)",
  enemyEdge: "rgb(255,120,160)",
  enemyInner: "rgb(150,10,60)",
  enemyGlow: "rgba(120,10,50,0.9)",
  missileCore: "rgb(255,236,150)",
  missileGlow: "rgba(120,70,10,0.9)",
  trailHead: [255, 170, 60],
};
const TRAIL_LENGTH = 28;
const FADE_FRAMES = 60;
const FLASH_PERIOD = 6;
const EXPLOSION = ["rgb(255,245,200)", "rgb(255,210,90)", "rgb(255,140,50)", "rgb(230,60,60)", "rgb(120,30,40)"];

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

export class Arena {
  constructor(canvas, { arena = [1280, 720], radius = { player: 25, enemy: 25, missile: 5 }, boundary = "wrap", events = [] } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.arena = arena;
    this.radius = radius;
    this.wrap = boundary === "wrap";
    this.eventIndex = Object.fromEntries(events.map((name, i) => [name, i]));
    canvas.width = 1280;
    canvas.height = 720;
    this.sx = canvas.width / arena[0];
    this.sy = canvas.height / arena[1];
    this.background = this.makeBackground();
    this.random = rng(1);
    this.reset();
  }

  reset() {
    this.trails = [[], [], []];
    this.rings = [];
    this.particles = [];
    this.shake = 0;
    this.heading = [1, 0];
    this.lastFrame = null;
  }

  makeBackground() {
    const c = document.createElement("canvas");
    c.width = this.canvas.width;
    c.height = this.canvas.height;
    const g = c.getContext("2d");
    g.fillStyle = COLORS.background;
    g.fillRect(0, 0, c.width, c.height);
    g.strokeStyle = COLORS.grid;
    g.lineWidth = 1;
    for (let x = 0; x < c.width; x += 40) { g.beginPath(); g.moveTo(x + 0.5, 0); g.lineTo(x + 0.5, c.height); g.stroke(); }
    for (let y = 0; y < c.height; y += 40) { g.beginPath(); g.moveTo(0, y + 0.5); g.lineTo(c.width, y + 0.5); g.stroke(); }
    const r = rng(7);
    for (let i = 0; i < 160; i++) {
      const v = 60 + Math.floor(r() * 120);
      g.fillStyle = `rgb(${v},${v},${Math.min(255, v + 40)})`;
      g.fillRect(Math.floor(r() * c.width), Math.floor(r() * c.height), 1, 1);
    }
    const shade = g.createRadialGradient(c.width / 2, c.height / 2, c.height * 0.35, c.width / 2, c.height / 2, c.width * 0.7);
    shade.addColorStop(0, "rgba(0,0,0,0)");
    shade.addColorStop(1, "rgba(0,0,0,0.45)");
    g.fillStyle = shade;
    g.fillRect(0, 0, c.width, c.height);
    return c;
  }

  // Effects start from what happened in the step that led to this state (the game's Effects.observe).
  observe(state) {
    const ev = state.events || [];
    const idx = this.eventIndex;
    const [px, py] = state.player;
    const [ex, ey] = state.enemy;
    this.rings = this.rings.filter((r) => ++r.age < r.life);
    this.particles = this.particles.filter((p) => {
      p.x += p.vx; p.y += p.vy; p.vx *= 0.94; p.vy *= 0.94;
      return ++p.age < p.life;
    });
    this.shake = Math.max(0, this.shake - 1);
    if (ev[idx.hit]) {
      for (let i = 0; i < 48; i++) {
        const a = this.random() * Math.PI * 2, s = 0.5 + this.random() * 5;
        this.particles.push({ x: ex, y: ey, vx: s * Math.cos(a), vy: s * Math.sin(a), age: 0, life: 24 + Math.floor(this.random() * 24) });
      }
      this.rings.push({ x: ex, y: ey, age: 0, life: 24, r0: 10, r1: 90, color: [255, 200, 120] });
      this.shake = Math.max(this.shake, 8);
    }
    if (ev[idx.catch]) {
      this.rings.push({ x: px, y: py, age: 0, life: 30, r0: 20, r1: 140, color: [235, 40, 95] });
      this.rings.push({ x: px, y: py, age: 0, life: 20, r0: 10, r1: 70, color: [255, 255, 255] });
      this.shake = Math.max(this.shake, 14);
    }
    if (ev[idx.respawn]) this.rings.push({ x: ex, y: ey, age: 0, life: 30, r0: 80, r1: 26, color: [200, 80, 160] });
    if (ev[idx.fire]) this.rings.push({ x: px, y: py, age: 0, life: 10, r0: 8, r1: 30, color: [40, 170, 220] });
    (state.missiles || []).forEach((m, slot) => {
      const trail = this.trails[slot] || (this.trails[slot] = []);
      if (!m) { trail.shift(); return; }
      const last = trail[trail.length - 1];
      if (last && (Math.abs(last[0] - m[0]) > 60 || Math.abs(last[1] - m[1]) > 60)) trail.length = 0;
      trail.push([m[0], m[1]]);
      if (trail.length > TRAIL_LENGTH) trail.shift();
    });
    const [vx, vy] = state.vel || [0, 0];
    const speed = Math.hypot(vx, vy);
    if (speed > 1e-6) this.heading = [vx / speed, vy / speed];
    this.thrust = Math.min(1, speed / 5);
  }

  // Rebuild trails for a jump to another frame (scrubbing): the last TRAIL_LENGTH positions.
  rebuildTrails(history) {
    this.trails = [[], [], []];
    for (const missiles of history) {
      missiles.forEach((m, slot) => {
        const trail = this.trails[slot];
        if (!m) { trail.shift(); return; }
        const last = trail[trail.length - 1];
        if (last && (Math.abs(last[0] - m[0]) > 60 || Math.abs(last[1] - m[1]) > 60)) trail.length = 0;
        trail.push([m[0], m[1]]);
        if (trail.length > TRAIL_LENGTH) trail.shift();
      });
    }
  }

  copies(x, y, margin) {
    if (!this.wrap) return [[x, y]];
    const w = this.canvas.width, h = this.canvas.height;
    const xs = [x], ys = [y];
    if (x < margin) xs.push(x + w); else if (x > w - margin) xs.push(x - w);
    if (y < margin) ys.push(y + h); else if (y > h - margin) ys.push(y - h);
    return xs.flatMap((cx) => ys.map((cy) => [cx, cy]));
  }

  glow(x, y, radius, color) {
    const g = this.ctx.createRadialGradient(x, y, 0, x, y, radius);
    g.addColorStop(0, color);
    g.addColorStop(1, "rgba(0,0,0,0)");
    this.ctx.globalCompositeOperation = "lighter";
    this.ctx.fillStyle = g;
    this.ctx.fillRect(x - radius, y - radius, radius * 2, radius * 2);
    this.ctx.globalCompositeOperation = "source-over";
  }

  draw(state, frame = 0) {
    const ctx = this.ctx;
    const { sx, sy } = this;
    const k = this.shake ? Math.floor(this.shake / 3) + 1 : 0;
    const ox = k ? Math.round((this.random() * 2 - 1) * k) : 0;
    const oy = k ? Math.round((this.random() * 2 - 1) * k) : 0;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.background, ox, oy);
    ctx.drawImage(this.background, ox - Math.sign(ox) * this.canvas.width, oy);
    // trails
    for (const trail of this.trails) {
      for (let i = 1; i < trail.length; i++) {
        const f = i / trail.length;
        const [r, g, b] = COLORS.trailHead;
        ctx.strokeStyle = `rgb(${Math.floor(r * f)},${Math.floor(g * f * f)},${Math.floor(b * f * f)})`;
        ctx.lineWidth = 1 + Math.floor(3 * f);
        ctx.beginPath();
        ctx.moveTo(trail[i - 1][0] * sx, trail[i - 1][1] * sy);
        ctx.lineTo(trail[i][0] * sx, trail[i][1] * sy);
        ctx.stroke();
      }
    }
    const drawn = { frame, player: null, enemy: null, missiles: [] };
    // missiles
    for (const m of state.missiles || []) {
      if (!m) { drawn.missiles.push(null); continue; }
      const x = m[0] * sx, y = m[1] * sy;
      this.glow(x, y, 14, COLORS.missileGlow);
      ctx.fillStyle = COLORS.missileCore;
      ctx.beginPath(); ctx.arc(x, y, this.radius.missile * sx, 0, Math.PI * 2); ctx.fill();
      drawn.missiles.push([m[0], m[1]]);
    }
    // enemy
    if (state.enemyActive) {
      const fade = state.enemyFade ?? FADE_FRAMES;
      const alpha = fade >= FADE_FRAMES ? 1 : fade / FADE_FRAMES;
      const ex = state.enemy[0] * sx, ey = state.enemy[1] * sy;
      for (const [x, y] of this.copies(ex, ey, this.radius.enemy * sx + 30)) this.drawEnemy(x, y, frame, alpha);
      drawn.enemy = [state.enemy[0], state.enemy[1]];
    }
    // player (flashing while invulnerable)
    const inv = state.invulnerable || 0;
    if (inv === 0 || Math.floor(inv / FLASH_PERIOD) % 2 === 0) {
      const px = state.player[0] * sx, py = state.player[1] * sy;
      for (const [x, y] of this.copies(px, py, this.radius.player * sx + 30)) this.drawPlayer(x, y);
    }
    drawn.player = [state.player[0], state.player[1]];
    // effects
    for (const p of this.particles) {
      const f = p.age / p.life;
      ctx.fillStyle = EXPLOSION[Math.min(EXPLOSION.length - 1, Math.floor(f * EXPLOSION.length))];
      ctx.beginPath(); ctx.arc(p.x * sx, p.y * sy, Math.max(1, 4 * (1 - f)), 0, Math.PI * 2); ctx.fill();
    }
    for (const r of this.rings) {
      const f = r.age / r.life, fade = 1 - f;
      ctx.strokeStyle = `rgb(${Math.floor(r.color[0] * fade)},${Math.floor(r.color[1] * fade)},${Math.floor(r.color[2] * fade)})`;
      ctx.lineWidth = Math.max(1, Math.floor(4 * fade));
      ctx.beginPath(); ctx.arc(r.x * sx, r.y * sy, r.r0 + (r.r1 - r.r0) * f, 0, Math.PI * 2); ctx.stroke();
    }
    // What was drawn, in arena pixels, for tests and tools that compare it with the engine.
    this.canvas.dataset.drawn = JSON.stringify(drawn);
    return drawn;
  }

  drawPlayer(x, y) {
    const ctx = this.ctx;
    const r = this.radius.player * this.sx;
    const [hx, hy] = this.heading;
    const px = -hy, py = hx;
    this.glow(x, y, r * 1.8, COLORS.playerGlow);
    const t = this.thrust || 0;
    if (t > 0) {
      const bl = [x - hx * r * 0.4 + px * r * 0.3, y - hy * r * 0.4 + py * r * 0.3];
      const br = [x - hx * r * 0.4 - px * r * 0.3, y - hy * r * 0.4 - py * r * 0.3];
      poly(ctx, [bl, [x - hx * r * (0.55 + 0.75 * t), y - hy * r * (0.55 + 0.75 * t)], br], "rgb(255,150,50)");
      poly(ctx, [bl, [x - hx * r * (0.5 + 0.4 * t), y - hy * r * (0.5 + 0.4 * t)], br], "rgb(255,230,150)");
    }
    const ship = [
      [x + hx * r, y + hy * r],
      [x - hx * r * 0.7 + px * r * 0.75, y - hy * r * 0.7 + py * r * 0.75],
      [x - hx * r * 0.35, y - hy * r * 0.35],
      [x - hx * r * 0.7 - px * r * 0.75, y - hy * r * 0.7 - py * r * 0.75],
    ];
    poly(ctx, ship, COLORS.playerBody, COLORS.playerCore);
    ctx.fillStyle = COLORS.playerCore;
    ctx.beginPath(); ctx.arc(x, y, Math.max(3, r / 4), 0, Math.PI * 2); ctx.fill();
  }

  drawEnemy(x, y, frame, alpha) {
    const ctx = this.ctx;
    const r = this.radius.enemy * this.sx;
    ctx.globalAlpha = alpha;
    if (alpha >= 1) this.glow(x, y, r * 1.9, COLORS.enemyGlow);
    const angle = (Math.floor(frame / 2) % 36) * (Math.PI * 2 / 36 / 9);
    const points = [];
    for (let i = 0; i < 18; i++) {
      const a = angle + (i * Math.PI) / 9;
      const rr = i % 2 === 0 ? r : r * 0.62;
      points.push([x + rr * Math.cos(a), y + rr * Math.sin(a)]);
    }
    poly(ctx, points, COLORS.enemyBody, COLORS.enemyEdge);
    ctx.fillStyle = COLORS.enemyInner;
    ctx.beginPath(); ctx.arc(x, y, r * 0.5, 0, Math.PI * 2); ctx.fill();
    ctx.strokeStyle = "rgb(255,90,140)"; ctx.lineWidth = 2; ctx.stroke();
    ctx.fillStyle = COLORS.enemyCore;
    for (const side of [-1, 1]) { ctx.beginPath(); ctx.arc(x + side * r * 0.2, y - r * 0.16, r * 0.11, 0, Math.PI * 2); ctx.fill(); }
    ctx.globalAlpha = 1;
  }
}

function poly(ctx, points, fill, stroke) {
  ctx.beginPath();
  ctx.moveTo(points[0][0], points[0][1]);
  for (const p of points.slice(1)) ctx.lineTo(p[0], p[1]);
  ctx.closePath();
  ctx.fillStyle = fill; ctx.fill();
  if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 2; ctx.stroke(); }
}

// The state of frame t of a replay episode, in the shape `draw` takes.
export function replayState(ep, t) {
  return {
    player: ep.player[t],
    vel: ep.player_vel[t],
    enemy: ep.enemy[t],
    enemyActive: !!ep.enemy_active[t],
    enemyFade: ep.enemy_fade[t],
    missiles: ep.missiles[t].map((m) => (m[0] === null ? null : m)),
    invulnerable: ep.invulnerable[t],
    events: ep.events[t],
  };
}
