// Play: the game runs on the server at 60 frames per second; this page draws it and sends the keys.
import { Arena } from "./arena.js";
import { el, errorBox, getJSON } from "./api.js";

const KEYS = { ArrowLeft: 1, KeyA: 1, ArrowRight: 2, KeyD: 2, ArrowUp: 4, KeyW: 4, ArrowDown: 8, KeyS: 8, Space: 16 };

export async function showPlay(view, info, params) {
  view.replaceChildren(el("h1", {}, "Play"));
  const models = await getJSON("/api/models").catch(() => ({ versions: [] }));
  const side = el("select", { id: "play-side", "aria-label": "your side" },
    el("option", { value: "player" }, "the player (dodge and shoot)"), el("option", { value: "enemy" }, "the enemy (hunt)"));
  side.value = params.get("side") || "player";
  const opponent = el("select", { id: "play-opponent", "aria-label": "opponent" });
  const fill = () => {
    const role = side.value === "player" ? "enemy" : "player";
    const bots = (info.bots[role] || []).filter((b) => role === "player" || ["chase", "intercept", "dodge", "staged"].includes(b));
    opponent.replaceChildren(
      el("optgroup", { label: "scripted bots" }, bots.map((b) => el("option", { value: `bot:${b}` }, `bot ${b}`))),
      el("optgroup", { label: "registered models" }, models.versions.filter((v) => v.role === role).map((v) =>
        el("option", { value: `model:${v.reference}` }, `${v.reference}${v.aliases.length ? " @" + v.aliases.join(" @") : ""}`))));
    if (params.get("opponent")) opponent.value = params.get("opponent");
  };
  side.addEventListener("change", fill);
  fill();
  const start = el("button", { id: "play-start", onclick: () => game.start(side.value, opponent.value) }, "Start");
  const box = el("div", { id: "play-box" });
  view.append(el("div", { class: "toolbar" }, el("label", {}, "You play ", side), el("label", {}, " against ", opponent), start), box,
    el("p", { class: "muted" }, "Keys as in the game: arrows or WASD move, SPACE fires, P pauses, ESC ends the game."));
  const game = new BrowserGame(box);
  view.cleanup = () => game.close();
}

class BrowserGame {
  constructor(box) {
    this.box = box;
    this.ws = null;
  }

  close() {
    if (this.ws) this.ws.close();
    this.ws = null;
    document.removeEventListener("keydown", this.onDown);
    document.removeEventListener("keyup", this.onUp);
    if (this.raf) cancelAnimationFrame(this.raf);
  }

  start(side, opponent) {
    this.close();
    this.canvas = el("canvas", { class: "arena", id: "play-canvas", tabindex: 0 });
    this.hud = el("div", { class: "hud", id: "play-hud" }, "connecting...");
    this.statsLine = el("div", { class: "muted", id: "play-stats" }, "");
    this.box.replaceChildren(this.hud, this.canvas, this.statsLine);
    this.keys = 0;
    this.seq = 0;
    this.pending = new Map(); // input seq -> time of the key event
    this.latencies = [];
    this.drawTimes = [];
    this.arrivals = [];
    this.latest = null;
    this.drawnFrame = -1;
    this.stats = { frames: 0, drawn: 0 };
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/api/play`);
    this.ws.addEventListener("open", () => this.send({ t: "start", side, opponent }));
    this.ws.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    this.ws.addEventListener("close", (event) => {
      if (!this.over) this.hud.textContent = `The game ended (${event.reason || "connection closed"}).`;
    });
    this.onDown = (e) => this.key(e, true);
    this.onUp = (e) => this.key(e, false);
    document.addEventListener("keydown", this.onDown);
    document.addEventListener("keyup", this.onUp);
    this.canvas.focus();
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  key(e, down) {
    if (e.code === "KeyP" && down && !e.repeat) { this.send({ t: "pause" }); e.preventDefault(); return; }
    if (e.code === "Escape" && down) { this.send({ t: "quit" }); e.preventDefault(); return; }
    const bit = KEYS[e.code];
    if (!bit) return;
    e.preventDefault();
    const keys = down ? this.keys | bit : this.keys & ~bit;
    if (keys === this.keys) return; // auto-repeat changes nothing
    this.keys = keys;
    this.seq += 1;
    this.pending.set(this.seq, e.timeStamp || performance.now());
    this.send({ t: "in", k: keys, s: this.seq });
  }

  receive(msg) {
    if (msg.t === "ready") {
      this.ready = msg;
      this.arena = new Arena(this.canvas, { arena: msg.arena, radius: msg.radius, boundary: msg.boundary, events: ["fire", "hit", "catch", "respawn", "expire"] });
      this.hud.textContent = `You are the ${msg.side}, against ${msg.opponent}.`;
      this.raf = requestAnimationFrame((t) => this.frame(t));
    } else if (msg.t === "f") {
      const now = performance.now();
      this.arrivals.push(now);
      if (this.arrivals.length > 600) this.arrivals.shift();
      this.stats.frames += 1;
      this.latest = msg;
      this.arena.observe(this.state(msg));
    } else if (msg.t === "over") {
      this.over = true;
      this.hud.textContent = `Game over: score ${msg.score} after ${(msg.frames / 60).toFixed(1)} s (${msg.reason}). Start again above.`;
      this.canvas.dataset.over = "1";
    } else if (msg.t === "error") {
      this.box.append(errorBox(new Error(msg.message)));
    }
  }

  state(msg) {
    return {
      player: [msg.p[0], msg.p[1]], vel: [msg.p[2], msg.p[3]], enemy: msg.e, enemyActive: !!msg.ea, enemyFade: msg.ef,
      missiles: msg.m, invulnerable: msg.i, events: msg.ev,
    };
  }

  frame(now) {
    if (!this.ws) return;
    const msg = this.latest;
    if (msg && msg.n !== this.drawnFrame) {
      this.arena.draw(this.state(msg), msg.n);
      this.drawnFrame = msg.n;
      this.stats.drawn += 1;
      const drawnAt = performance.now();
      this.drawTimes.push(drawnAt);
      if (this.drawTimes.length > 600) this.drawTimes.shift();
      for (const [seq, t0] of this.pending) {
        if (seq <= msg.a) { this.latencies.push(drawnAt - t0); this.pending.delete(seq); }
      }
      if (this.latencies.length > 500) this.latencies.splice(0, this.latencies.length - 500);
      this.hud.textContent = `score ${msg.sc}   lives ${msg.l}   level ${msg.lv}   missiles ${msg.m.filter((m) => !m).length}`;
      this.canvas.dataset.frame = String(msg.n);
      this.canvas.dataset.lives = String(msg.l);
      this.canvas.dataset.score = String(msg.sc);
      if (this.stats.drawn % 30 === 0) this.report();
    }
    this.raf = requestAnimationFrame((t) => this.frame(t));
  }

  // Input-to-screen latency (key event to the frame that applied it, drawn) and frame pacing, for the
  // stats line and for tools that measure them.
  report() {
    const q = (xs, p) => { if (!xs.length) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
    const gaps = (ts) => ts.slice(1).map((t, i) => t - ts[i]);
    const arrive = gaps(this.arrivals), drawn = gaps(this.drawTimes);
    const summary = {
      frames: this.stats.frames, drawn: this.stats.drawn, inputs: this.latencies.length,
      latency_ms_p50: q(this.latencies, 0.5), latency_ms_p95: q(this.latencies, 0.95),
      arrival_ms_p50: q(arrive, 0.5), arrival_ms_p95: q(arrive, 0.95), arrival_ms_p99: q(arrive, 0.99),
      draw_ms_p50: q(drawn, 0.5), draw_ms_p95: q(drawn, 0.95),
      fps: drawn.length ? 1000 / (drawn.reduce((a, b) => a + b, 0) / drawn.length) : NaN,
    };
    this.canvas.dataset.stats = JSON.stringify(summary);
    this.statsLine.textContent = `${summary.fps.toFixed(1)} fps drawn, frames every ${summary.arrival_ms_p50.toFixed(1)} ms (p95 ${summary.arrival_ms_p95.toFixed(1)}), input to screen ${Number.isNaN(summary.latency_ms_p50) ? "-" : summary.latency_ms_p50.toFixed(1)} ms`;
  }
}
