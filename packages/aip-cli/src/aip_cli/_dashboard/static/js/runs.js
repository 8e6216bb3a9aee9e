// Runs: every run of the tracking store, live curves while a run trains, and runs side by side.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { el, errorBox, fmt, getJSON, pct, when } from "./api.js";

const PALETTE = ["#6ee0ff", "#ff5f8f", "#ffd35c", "#8dff8a", "#c49bff", "#ff9f43", "#4dd2c2", "#f5f5f5"];
const TITLES = {
  success_rate: "success rate",
  episode_return_mean: "mean episode return",
  steps_per_second: "steps per second",
  "loss/policy": "policy loss",
  "loss/value": "value loss",
  "loss/entropy": "entropy loss",
  std_mean: "action std (exploration)",
  curriculum_value: "lesson (curriculum value)",
};

export async function showRuns(view, info, params) {
  view.replaceChildren(el("h1", {}, "Runs"), el("p", { class: "muted" }, `Tracking store: ${info.tracking_uri}`));
  let data;
  try {
    data = await getJSON("/api/runs");
  } catch (error) {
    view.append(errorBox(error));
    return;
  }
  const runs = data.runs;
  if (!runs.length) {
    view.append(el("p", {}, "No runs yet. Train one beside this page: ", el("code", {}, "aip train chase-v1"), " (it appears here live)."));
    setTimeout(() => { if (location.hash.startsWith("#runs")) showRuns(view, info, params); }, 3000);
    return;
  }
  const wanted = new Set((params.get("compare") || "").split(",").filter(Boolean));
  if (!wanted.size) {
    const running = runs.filter((r) => r.status === "RUNNING");
    (running.length ? running : runs.slice(0, 1)).forEach((r) => wanted.add(r.run_id));
  }
  const mlflowHint = info.mlflow_ui ? null : el("p", { class: "muted" }, "MLflow's own UI for this store: ", el("code", {}, info.mlflow_ui_command));
  const table = el("table", { class: "runs", id: "runs-table" },
    el("thead", {}, el("tr", {}, ["", "run", "task", "status", "started", "steps", "success", "return", ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, runs.map((r) => el("tr", { dataset: { run: r.run_id } },
      el("td", {}, el("input", { type: "checkbox", checked: wanted.has(r.run_id), "aria-label": `compare ${r.name}`, onchange: (e) => {
        if (e.target.checked) wanted.add(r.run_id); else wanted.delete(r.run_id);
        history.replaceState(null, "", `#runs?compare=${[...wanted].join(",")}`);
        charts.show([...wanted]);
      } })),
      el("td", {}, r.name),
      el("td", {}, r.task),
      el("td", {}, el("span", { class: `status ${r.status.toLowerCase()}` }, r.status)),
      el("td", {}, when(r.start_ms)),
      el("td", { class: "num" }, r.metrics.global_step ? Math.round(r.metrics.global_step).toLocaleString() : "-"),
      el("td", { class: "num" }, pct(r.metrics.success_rate)),
      el("td", { class: "num" }, fmt(r.metrics.episode_return_mean)),
      el("td", {}, r.mlflow_url ? el("a", { href: r.mlflow_url, target: "_blank", rel: "noopener" }, "MLflow") : "",
        " ", el("a", { href: `#replays?run=${r.run_id}` }, "replays")),
    ))),
  );
  const chartsBox = el("div", { class: "charts", id: "charts" });
  view.append(mlflowHint || "", table, el("h2", {}, "Curves ", el("span", { class: "muted" }, "(live while a run trains; tick runs above to compare)")), chartsBox);
  const byId = Object.fromEntries(runs.map((r) => [r.run_id, r]));
  const charts = new Charts(chartsBox, info.curves, byId);
  charts.show([...wanted]);
  view.cleanup = () => charts.close();
}

function number(x) {
  if (x === null || x === undefined) return "";
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (a >= 1) return String(Math.round(x * 100) / 100);
  return x.toPrecision(2);
}

class Charts {
  constructor(box, keys, runs) {
    this.box = box;
    this.keys = keys;
    this.runs = runs;
    this.points = {};
    this.plots = {};
    this.source = null;
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
  }

  async show(ids) {
    this.close();
    this.ids = ids.slice(0, 8);
    this.points = {};
    this.box.replaceChildren();
    if (!this.ids.length) { this.box.append(el("p", { class: "muted" }, "Tick a run to see its curves.")); return; }
    await Promise.all(this.ids.map(async (id) => {
      const data = await getJSON(`/api/runs/${id}/metrics?keys=${encodeURIComponent(this.keys.join(","))}`);
      this.points[id] = data.metrics;
    }));
    this.plots = {};
    for (const key of this.keys) {
      const has = this.ids.some((id) => (this.points[id][key] || []).length);
      if (!has && key === "curriculum_value") continue;
      const holder = el("figure", { class: "chart", dataset: { key } }, el("figcaption", {}, TITLES[key] || key));
      this.box.append(holder);
      this.plots[key] = this.makePlot(holder, key);
    }
    this.count();
    this.source = new EventSource(`/api/stream?runs=${this.ids.join(",")}&keys=${encodeURIComponent(this.keys.join(","))}`);
    this.source.addEventListener("metrics", (event) => {
      const msg = JSON.parse(event.data);
      const known = this.points[msg.run_id];
      if (!known) return;
      for (const [key, pts] of Object.entries(msg.metrics)) {
        known[key] = (known[key] || []).concat(pts);
        const plot = this.plots[key];
        if (plot) plot.setData(this.aligned(key));
      }
      const row = document.querySelector(`tr[data-run="${msg.run_id}"] .status`);
      if (row) { row.textContent = msg.status; row.className = `status ${msg.status.toLowerCase()}`; }
      this.count();
    });
  }

  count() {
    let n = 0;
    for (const id of this.ids) for (const pts of Object.values(this.points[id] || {})) n += pts.length;
    this.box.dataset.points = String(n);
  }

  aligned(key) {
    const tables = this.ids.map((id) => {
      const pts = this.points[id][key] || [];
      return [pts.map((p) => p[0]), pts.map((p) => p[1])];
    });
    if (tables.every((t) => !t[0].length)) return [[], ...tables.map(() => [])];
    return uPlot.join(tables);
  }

  makePlot(holder, key) {
    const series = [{ label: "steps" }, ...this.ids.map((id, i) => ({
      label: (this.runs[id] || {}).name || id.slice(0, 8),
      stroke: PALETTE[i % PALETTE.length],
      width: 2,
      spanGaps: true,
      points: { show: false },
    }))];
    const width = Math.max(320, Math.min(560, holder.parentElement.clientWidth / 2 - 24));
    const opts = {
      width, height: 220, series,
      scales: { x: { time: false }, ...(key === "success_rate" ? { y: { range: [0, 1] } } : {}) },
      axes: [
        { stroke: "#9fb3d9", grid: { stroke: "#1d2547" }, values: (u, v) => v.map((x) => (x >= 1e6 ? `${x / 1e6}M` : x >= 1e3 ? `${x / 1e3}k` : x)) },
        { stroke: "#9fb3d9", grid: { stroke: "#1d2547" }, size: 64, values: (u, v) => v.map(number) },
      ],
      legend: { live: false },
    };
    return new uPlot(opts, this.aligned(key), holder);
  }
}
