// Replays: the trainer's evaluation episodes and the game's recordings, drawn with the game's look.
import { Arena, replayState } from "./arena.js";
import { el, errorBox, getJSON } from "./api.js";

export async function showReplays(view, info, params) {
  view.replaceChildren(el("h1", {}, "Replays"));
  const [runs, recs] = await Promise.all([
    getJSON("/api/runs").catch(() => ({ runs: [] })),
    getJSON("/api/recordings").catch(() => ({ recordings: [] })),
  ]);
  const runSelect = el("select", { id: "replay-run", "aria-label": "run" },
    el("option", { value: "" }, "- a training run -"),
    runs.runs.map((r) => el("option", { value: r.run_id, selected: r.run_id === params.get("run") }, `${r.name} (${r.task}, ${r.status.toLowerCase()})`)));
  const recSelect = el("select", { id: "replay-recording", "aria-label": "recording" },
    el("option", { value: "" }, "- a game recording -"),
    recs.recordings.filter((r) => !r.error).map((r) => el("option", { value: r.name, selected: r.name === params.get("recording") },
      `${r.name} (${r.role} vs ${r.opponent}, ${r.frames} frames)`)));
  const list = el("div", { id: "replay-list" });
  const player = el("div", { id: "replay-player" });
  view.append(
    el("div", { class: "toolbar" }, el("label", {}, "Evaluation episodes of ", runSelect), el("label", {}, " or ", recSelect)),
    el("p", { class: "muted" }, "The trainer records a few evaluation episodes every so many updates (",
      el("code", {}, "aip train TASK --replays N"), "); the game records your games (its Record menu), here: ",
      el("code", {}, recs.folder || "-"), "."),
    list, player);
  let current = null;
  const stop = () => { if (current) current.stop(); current = null; };
  view.cleanup = stop;

  async function openRun(runId) {
    stop();
    list.replaceChildren();
    player.replaceChildren();
    if (!runId) return;
    try {
      const data = await getJSON(`/api/runs/${runId}/replays`);
      if (!data.replays.length) { list.append(el("p", {}, "This run has no replays (train with --replays N to record some).")); return; }
      const chosen = params.get("replay") || data.replays[data.replays.length - 1].name;
      const buttons = data.replays.map((r) => el("button", { class: r.name === chosen ? "chip on" : "chip", dataset: { replay: r.name }, onclick: () => {
        params.set("replay", r.name);
        params.delete("episode");
        buttons.forEach((b) => b.classList.toggle("on", b.dataset.replay === r.name));
        load(`/api/runs/${runId}/replays/${r.name}`);
      } }, `update ${r.update}`));
      list.append(el("div", { class: "chips" }, "Recorded after: ", buttons));
      await load(`/api/runs/${runId}/replays/${chosen}`);
    } catch (error) {
      list.append(errorBox(error));
    }
  }

  async function load(url) {
    stop();
    player.replaceChildren(el("p", { class: "muted" }, "Loading..."));
    try {
      const replay = await getJSON(url);
      current = new ReplayPlayer(player, replay, info, params);
    } catch (error) {
      player.replaceChildren(errorBox(error));
    }
  }

  runSelect.addEventListener("change", () => { recSelect.value = ""; params.delete("replay"); openRun(runSelect.value); });
  recSelect.addEventListener("change", () => {
    runSelect.value = "";
    list.replaceChildren();
    if (recSelect.value) load(`/api/recordings/${encodeURIComponent(recSelect.value)}`);
  });
  if (params.get("recording")) load(`/api/recordings/${encodeURIComponent(params.get("recording"))}`);
  else if (params.get("run")) openRun(params.get("run"));
}

class ReplayPlayer {
  constructor(box, replay, info, params) {
    this.replay = replay;
    const h = replay.header;
    this.canvas = el("canvas", { class: "arena", id: "replay-canvas" });
    this.arena = new Arena(this.canvas, { arena: h.arena, radius: h.radius, boundary: h.boundary, events: h.events || info.events });
    this.episodeSelect = el("select", { id: "replay-episode", "aria-label": "episode" },
      replay.episodes.map((ep, k) => el("option", { value: k }, `episode ${k + 1}: ${ep.success ? "success" : "no success"} in ${ep.frames} frames, return ${ep.return.toFixed(1)}`)));
    this.playButton = el("button", { id: "replay-play", onclick: () => this.toggle() }, "Play");
    this.slider = el("input", { type: "range", id: "replay-scrub", min: 0, max: 0, value: 0, step: 1, "aria-label": "frame",
      oninput: () => this.seek(Number(this.slider.value)) });
    this.speed = el("select", { id: "replay-speed", "aria-label": "speed" }, [0.25, 0.5, 1, 2, 4].map((s) => el("option", { value: s, selected: s === 1 }, `${s}x`)));
    this.label = el("span", { class: "frame-label", id: "replay-frame" }, "");
    this.note = el("p", { class: "muted" }, "");
    box.replaceChildren(
      el("p", {}, h.label || "", h.task ? ` - task ${h.task}` : "", h.seed !== undefined ? `, seed ${h.seed}` : "", h.roles ? `, ${Object.entries(h.roles).map(([r, c]) => `${r}: ${c}`).join(", ")}` : ""),
      el("div", { class: "toolbar" }, this.episodeSelect, this.playButton, this.slider, this.speed, this.label),
      this.canvas, this.note,
      el("p", { class: "muted" }, "Keys: SPACE play/pause, arrows step one frame (shift: ten)."));
    this.episodeSelect.addEventListener("change", () => this.open(Number(this.episodeSelect.value)));
    this.onKey = (e) => {
      if (e.target instanceof HTMLSelectElement || e.target instanceof HTMLInputElement && e.target.type !== "range") return;
      if (e.key === " ") { e.preventDefault(); this.toggle(); }
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        this.pause();
        this.seek(this.t + (e.key === "ArrowRight" ? 1 : -1) * (e.shiftKey ? 10 : 1));
      }
    };
    document.addEventListener("keydown", this.onKey);
    this.playing = false;
    const k = Math.min(Number(params.get("episode") || 0), replay.episodes.length - 1);
    this.episodeSelect.value = String(k);
    this.open(k);
    if (params.get("frame")) this.seek(Number(params.get("frame")));
  }

  open(k) {
    this.ep = this.replay.episodes[k];
    this.slider.max = String(this.ep.frames);
    this.note.textContent = this.ep.note || "";
    this.pause();
    this.seek(0);
  }

  seek(t) {
    const ep = this.ep;
    this.t = Math.max(0, Math.min(ep.frames, Math.round(t)));
    this.arena.reset();
    this.arena.rebuildTrails(ep.missiles.slice(Math.max(0, this.t - 27), this.t + 1).map((row) => row.map((m) => (m[0] === null ? null : m))));
    const state = replayState(ep, this.t);
    this.arena.observe({ ...state, events: [], missiles: [] });
    this.render();
  }

  render() {
    const state = replayState(this.ep, this.t);
    this.arena.draw(state, this.t);
    this.slider.value = String(this.t);
    this.canvas.dataset.frame = String(this.t);
    this.label.textContent = `frame ${this.t} / ${this.ep.frames}`;
  }

  step() {
    if (this.t >= this.ep.frames) { this.pause(); return; }
    this.t += 1;
    this.arena.observe(replayState(this.ep, this.t));
    this.render();
  }

  toggle() { if (this.playing) this.pause(); else this.play(); }

  play() {
    if (this.t >= this.ep.frames) this.seek(0);
    this.playing = true;
    this.playButton.textContent = "Pause";
    let last = performance.now(), debt = 0;
    const tick = (now) => {
      if (!this.playing) return;
      debt += ((now - last) / 1000) * 60 * Number(this.speed.value);
      last = now;
      let n = Math.min(Math.floor(debt), 16);
      debt -= Math.floor(debt);
      while (n-- > 0 && this.playing) this.step();
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    this.playButton.textContent = "Play";
    if (this.raf) cancelAnimationFrame(this.raf);
  }

  stop() {
    this.pause();
    document.removeEventListener("keydown", this.onKey);
  }
}

