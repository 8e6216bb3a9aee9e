// The dashboard's pages, chosen by the address's #hash: runs, replays, behaviour, models, play.
import { el, errorBox, getJSON } from "./api.js";
import { showBehaviour } from "./behaviour.js";
import { showModels } from "./models.js";
import { showPlay } from "./play.js";
import { showReplays } from "./replays.js";
import { showRuns } from "./runs.js";

const PAGES = { runs: showRuns, replays: showReplays, behaviour: showBehaviour, models: showModels, play: showPlay };
const view = document.getElementById("view");
let info = null;

async function route() {
  if (view.cleanup) { view.cleanup(); view.cleanup = null; }
  const [name, query] = (location.hash.slice(1) || "runs").split("?");
  const page = PAGES[name] ? name : "runs";
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("on", link.dataset.page === page);
  document.body.dataset.page = page;
  try {
    info = info || (await getJSON("/api/info"));
    document.getElementById("store").textContent = info.tracking_uri;
    await PAGES[page](view, info, new URLSearchParams(query || ""));
  } catch (error) {
    view.replaceChildren(el("h1", {}, page), errorBox(error));
  }
  view.dataset.ready = page;
}

window.addEventListener("hashchange", route);
route();
