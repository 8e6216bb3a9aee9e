// Behaviour: where a policy goes, where it succeeds and fails, and its action field.
import { COLORS } from "./arena.js";
import { el, errorBox, getJSON, pct } from "./api.js";

const EVENT_STYLE = {
  catch: { color: "rgb(235,40,95)", label: "catch (the enemy reached the player)" },
  hit: { color: "rgb(255,210,90)", label: "hit (a missile struck the enemy)" },
  expire: { color: "rgb(140,150,190)", label: "missile expired" },
};

export async function showBehaviour(view, info, params) {
  view.replaceChildren(el("h1", {}, "Behaviour"));
  const models = await getJSON("/api/models").catch(() => ({ versions: [] }));
  const single = info.tasks.filter((t) => t !== "duel-v1" && t !== "play-v1");
  const select = el("select", { id: "behaviour-subject", "aria-label": "policy" },
    el("optgroup", { label: "registered models" }, models.versions.map((v) => el("option", { value: v.reference }, `${v.reference} (${v.task}, ${v.role})`))),
    single.map((task) => el("optgroup", { label: `scripted bots on ${task}` },
      botsFor(info, task).map((bot) => el("option", { value: `bot:${bot}|${task}` }, `bot ${bot} on ${task}`)))));
  if (params.get("of")) select.value = params.get("of");
  const episodes = el("input", { type: "number", id: "behaviour-episodes", min: 1, max: 512, value: params.get("episodes") || 64, "aria-label": "episodes" });
  const out = el("div", { id: "behaviour-out" });
  const go = el("button", { id: "behaviour-draw", onclick: () => draw() }, "Draw");
  view.append(el("div", { class: "toolbar" }, select, el("label", {}, " episodes ", episodes), go), out);

  async function draw() {
    out.replaceChildren(el("p", { class: "muted" }, "Playing the episodes..."));
    const [subject, task] = select.value.split("|");
    const query = subject.startsWith("bot:") ? `of=${encodeURIComponent(subject)}&task=${task}` : `of=${encodeURIComponent(subject)}`;
    try {
      const data = await getJSON(`/api/behaviour?${query}&episodes=${Number(episodes.value) || 64}`);
      render(out, data);
    } catch (error) {
      out.replaceChildren(errorBox(error));
    }
  }
  if (select.value) draw();
}

function botsFor(info, task) {
  const role = task.startsWith("intercept") ? "missile" : "enemy";
  const base = info.bots[role] || [];
  return role === "enemy" ? base.filter((b) => ["chase", "intercept", "dodge", "staged"].includes(b)) : base;
}

function render(out, data) {
  const heat = arenaCanvas("behaviour-occupancy", data.arena);
  const foe = arenaCanvas("behaviour-opponent", data.arena);
  const events = arenaCanvas("behaviour-events", data.arena);
  const field = arenaCanvas("behaviour-field", data.arena);
  heatmap(heat, data.occupancy, data.cell, [110, 220, 255]);
  heatmap(foe, data.opponent_occupancy, data.cell, [255, 110, 150]);
  eventMap(events, data);
  actionField(field, data);
  const counts = {};
  for (const [, , kind] of data.events) counts[kind] = (counts[kind] || 0) + 1;
  out.replaceChildren(
    el("p", {}, `${data.reference || "bot"} on ${data.task} (${data.role}): success ${pct(data.success_rate)} over the episodes.`),
    el("div", { class: "pictures" },
      el("figure", {}, heat, el("figcaption", {}, `Where the ${data.role} goes (occupancy; brightness: square root of the time spent)`)),
      el("figure", {}, foe, el("figcaption", {}, "Where its opponent goes")),
      el("figure", {}, events, el("figcaption", {}, "Where things happen: ",
        Object.entries(EVENT_STYLE).map(([k, s]) => el("span", { class: "legend", dataset: { kind: k } }, el("i", { class: `dot ${k}` }), ` ${s.label} (${counts[k] || 0}) `)))),
      el("figure", {}, field, el("figcaption", {}, data.role === "missile"
        ? "Action field: the missile at the centre heading right; each arrow is the heading it turns to when the enemy is there"
        : `Action field: the ${data.role} held at the centre; each arrow is its move when its opponent stands there`)),
    ));
  out.dataset.ready = "1";
}

function arenaCanvas(id, arena) {
  const c = el("canvas", { class: "picture", id });
  c.width = 640;
  c.height = Math.round((640 * arena[1]) / arena[0]);
  c.arena = arena;
  return c;
}

function ground(c) {
  const g = c.getContext("2d");
  g.fillStyle = COLORS.background;
  g.fillRect(0, 0, c.width, c.height);
  g.strokeStyle = COLORS.grid;
  const s = c.width / c.arena[0];
  for (let x = 0; x < c.arena[0]; x += 80) { g.beginPath(); g.moveTo(x * s + 0.5, 0); g.lineTo(x * s + 0.5, c.height); g.stroke(); }
  for (let y = 0; y < c.arena[1]; y += 80) { g.beginPath(); g.moveTo(0, y * s + 0.5); g.lineTo(c.width, y * s + 0.5); g.stroke(); }
  return { g, s };
}

function heatmap(c, grid, cell, rgb) {
  const { g, s } = ground(c);
  let max = 0;
  for (const row of grid) for (const v of row) max = Math.max(max, v);
  grid.forEach((row, i) => row.forEach((v, j) => {
    if (!v) return;
    const a = Math.sqrt(v / max);
    g.fillStyle = `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${(0.15 + 0.85 * a).toFixed(3)})`;
    g.fillRect(j * cell * s, i * cell * s, Math.ceil(cell * s), Math.ceil(cell * s));
  }));
  c.dataset.total = String(grid.flat().reduce((a, b) => a + b, 0));
}

function eventMap(c, data) {
  const { g, s } = ground(c);
  for (const [x, y, kind] of data.events) {
    const style = EVENT_STYLE[kind];
    if (!style) continue;
    g.fillStyle = style.color;
    g.globalAlpha = 0.8;
    g.beginPath(); g.arc(x * s, y * s, 3.5, 0, Math.PI * 2); g.fill();
  }
  g.globalAlpha = 1;
  c.dataset.events = String(data.events.length);
}

function actionField(c, data) {
  const { g, s } = ground(c);
  const f = data.field;
  const len = f.step * s * 0.45;
  g.lineWidth = 2;
  f.points.forEach(([x, y], i) => {
    const [dx, dy] = f.moves[i];
    const m = Math.hypot(dx, dy);
    const px = x * s, py = y * s;
    g.strokeStyle = f.contact[i] ? "rgb(235,40,95)" : `rgba(110,220,255,${(0.35 + 0.65 * Math.min(1, m)).toFixed(2)})`;
    g.fillStyle = g.strokeStyle;
    if (m < 1e-3) { g.beginPath(); g.arc(px, py, 1.5, 0, Math.PI * 2); g.fill(); return; }
    const ux = dx / m, uy = dy / m, l = len * Math.min(1, m);
    const tx = px + ux * l, ty = py + uy * l;
    g.beginPath(); g.moveTo(px - ux * l, py - uy * l); g.lineTo(tx, ty); g.stroke();
    g.beginPath();
    g.moveTo(tx, ty);
    g.lineTo(tx - ux * 5 - uy * 3, ty - uy * 5 + ux * 3);
    g.lineTo(tx - ux * 5 + uy * 3, ty - uy * 5 - ux * 3);
    g.closePath(); g.fill();
  });
  const [cx, cy] = f.centre;
  g.fillStyle = data.role === "enemy" ? COLORS.enemyBody : data.role === "player" ? COLORS.playerBody : COLORS.missileCore;
  g.beginPath(); g.arc(cx * s, cy * s, (data.radius[data.role] || 10) * s, 0, Math.PI * 2); g.fill();
  c.dataset.arrows = String(f.points.length);
}
