// Models: the registry's versions, aliases, scores beside the scripted bots, lineage, ratings; promote.
import { el, errorBox, fmt, getJSON, pct, postJSON, when } from "./api.js";

export async function showModels(view, info) {
  view.replaceChildren(el("h1", {}, "Models"));
  let data;
  try {
    data = await getJSON("/api/models");
  } catch (error) {
    view.append(errorBox(error));
    return;
  }
  if (!data.versions.length) {
    view.append(el("p", {}, "No registered models yet. ", el("code", {}, "aip train chase-v1"), " registers one."));
    return;
  }
  const byName = {};
  for (const v of data.versions) (byName[v.name] = byName[v.name] || []).push(v);
  const status = el("p", { id: "promote-status", role: "status" });
  view.append(status);
  for (const [name, versions] of Object.entries(byName)) {
    const bots = [...new Set(versions.flatMap((v) => Object.keys(v.bots)))].sort();
    const ratingKeys = [...new Set(versions.flatMap((v) => Object.keys(v.ratings)))].sort();
    const hasLineage = versions.some((v) => Object.keys(v.lineage).length);
    const head = ["version", "aliases", "created", "success", "frames", "return",
      ...bots.map((b) => `bot ${b}`), ...ratingKeys.map((k) => k.replace(/^(aip\.)?rating\.?/, "rating ")), ...(hasLineage ? ["started from"] : []), ""];
    view.append(
      el("h2", {}, name, " ", el("span", { class: "muted" }, `${versions[0].task}, ${versions[0].role}`)),
      el("table", { class: "models", dataset: { model: name } },
        el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
        el("tbody", {}, versions.map((v) => el("tr", { dataset: { version: v.reference } },
          el("td", {}, el("a", { href: `#behaviour?of=${encodeURIComponent(v.reference)}`, title: "behaviour pictures" }, v.reference)),
          el("td", {}, v.aliases.map((a) => el("span", { class: "alias" }, `@${a}`))),
          el("td", {}, when(v.created_ms)),
          el("td", { class: "num" }, pct(v.agent.success_rate)),
          el("td", { class: "num" }, fmt(v.agent.mean_frames_to_success, 0)),
          el("td", { class: "num" }, fmt(v.agent.mean_return)),
          bots.map((b) => el("td", { class: "num", title: `the ${b} bot on the same episodes` }, v.bots[b] ? pct(v.bots[b].success_rate) : "-")),
          ratingKeys.map((k) => el("td", { class: "num" }, typeof v.ratings[k] === "number" ? fmt(v.ratings[k], 1) : v.ratings[k] ?? "-")),
          hasLineage ? el("td", {}, v.lineage["aip.init_from.model"] || Object.entries(v.lineage).filter(([k]) => !k.endsWith("sha256")).map(([k, x]) => `${k.replace(/^aip\./, "")}: ${x}`).join(", ") || "-") : null,
          el("td", {}, v.aliases.includes("champion") ? "" : el("button", { class: "promote", onclick: (e) => promote(v, e.target, status, view, info) }, "Promote"),
            " ", el("a", { href: `#play?opponent=model:${encodeURIComponent(v.reference)}&side=${v.role === "player" ? "enemy" : "player"}` }, v.role === "missile" ? "" : "play"),
            v.run_id ? [" ", el("a", { href: `#replays?run=${v.run_id}` }, "replays")] : ""),
        ))),
      ),
      el("p", { class: "muted" }, "Scores are the evaluation at training time; each bot column is that scripted bot's success on the same episodes."),
    );
  }
}

async function promote(version, button, status, view, info) {
  button.disabled = true;
  status.textContent = `Comparing ${version.reference} with the current champion (100 episodes each)...`;
  try {
    const outcome = await postJSON("/api/models/promote", { reference: version.reference, episodes: 100 });
    status.textContent = outcome.reason;
    if (outcome.promoted) await showModels(view, info);
    document.getElementById("promote-status")?.replaceChildren(outcome.reason);
  } catch (error) {
    status.textContent = `Not promoted: ${error.message}`;
    button.disabled = false;
  }
}
