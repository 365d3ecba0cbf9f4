// The review page: state from /api/state, refreshed on every change the server sees on disk
// (server-sent events from /api/events). Plain JS, no build step.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const $ = (sel) => document.querySelector(sel);
let state = null;
let clockSkew = 0; // server time minus browser time, for the generating timers
const drawn = new Map(); // scene id -> JSON of what its card shows (redraw only on change)

let VARIANT = new URLSearchParams(location.search).get("variant") || "main"; // which film

function withToken(url) {
  const film = VARIANT !== "main" ? "&variant=" + encodeURIComponent(VARIANT) : "";
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN) + film;
}

function drawVariants(data) {
  // the films of the storyboard (issue 20): a choice only when there is more than one
  const names = data.variants || ["main"];
  const box = $("#variant-box");
  box.hidden = names.length < 2;
  const select = $("#variant");
  if (select.dataset.names !== names.join(",")) {
    select.dataset.names = names.join(",");
    select.textContent = "";
    for (const n of names) select.append(el("option", { value: n, text: n }));
  }
  select.value = data.variant || "main";
}

function switchVariant(name) {
  VARIANT = name;
  drawn.clear();
  $("#strip").textContent = "";
  $("#strip").dataset.ids = "";
  $("#film").dataset.key = "";
  $("#sheet").dataset.src = "";
  $("#cast").dataset.key = "";
  $("#animatic").dataset.src = "";
  const url = new URL(location.href);
  if (name === "main") url.searchParams.delete("variant"); else url.searchParams.set("variant", name);
  history.replaceState(null, "", url);
  refresh();
}

async function api(path, options) {
  const r = await fetch(withToken(path), options);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || r.status + " " + r.statusText);
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const money = (x) => { const n = Number(x || 0); return "$" + (n > 0 && n < 0.01 ? n.toFixed(4) : n.toFixed(2)); };

// a refusal stays in view for a while: the running job's status line, redrawn every second,
// wrote over it at once (hostile helper-45: a Pick refused while a render ran said nothing)
const KEEP_BAD_MS = 8000;
let badUntil = 0;

function say(text, bad) {
  const a = $("#activity");
  if (!bad && Date.now() < badUntil) return;
  badUntil = bad ? Date.now() + KEEP_BAD_MS : 0;
  a.textContent = text || "";
  a.className = bad ? "bad" : "";
}

let lastJobSaid = null;

// nothing to make, but the film is not the cut (a pick), or there is none yet: compose it
const composable = (data) => !!data && data.stale.length === 0 && data.scenes.length > 0
  && (!data.film || data.film.outdated.length > 0);

function elapsed(since) {
  const s = Math.max(0, Math.floor(Date.now() / 1000 + clockSkew - since));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

const LINKS = { extend: "extends", last_frame: "starts on the last frame of" };

function linkText(scene, prev) {
  if (scene.mode === "cut" || !scene.source) {
    return scene.first_frame ? el("div", { class: "link" }, "↓ first frame: ", el("b", { text: scene.first_frame })) : null;
  }
  const how = LINKS[scene.mode] || scene.mode;
  const near = prev && prev.id === scene.source;
  return el("div", { class: "link", "data-link": scene.id },
    near ? "↓ " : "↳ ", el("b", { text: scene.mode.replace("_", " ") }), " — " + scene.id + " " + how + " " + scene.source);
}

function statusText(scene) {
  if (scene.status === "generating") return el("span", {}, "generating ", el("span", { class: "timer", "data-since": scene.since, text: elapsed(scene.since) }));
  return scene.status;
}

// a task's take is "chosen"; a clip's is "in the cut" (the music is a task, issue 18)
const isTask = (name) => name.includes(":") || name === "music";

function takeBox(name, take) {
  // a clip's take plays; a sheet's or a board's (issue 17) is a picture; a line's, the
  // music's or an effect's (issue 18) is a sound
  const media = take.image
    ? el("a", { href: withToken(take.url), target: "_blank", rel: "noopener" }, el("img", { src: withToken(take.url), alt: name + " take " + take.n, loading: "lazy" }))
    : take.audio ? el("audio", { src: withToken(take.url), controls: true, preload: "metadata" })
    : el("video", { src: withToken(take.url), controls: true, preload: "metadata", muted: true, playsinline: true });
  const pick = take.chosen ? el("span", { class: "in-cut", text: isTask(name) ? "★ chosen" : "★ in the cut" })
    : el("button", { class: "pick", type: "button", onclick: () => pickTake(name, take.n), disabled: take.missing || take.nsfw }, "Pick");
  const length = take.image ? null : take.duration.toFixed(1) + " s";
  return el("div", { class: "take" + (take.chosen ? " chosen" : "") + (take.image ? " picture" : "") + (take.audio ? " sound" : ""), "data-scene": name, "data-take": take.n },
    media,
    el("div", { class: "row" }, el("strong", { text: "take " + take.n }), pick),
    el("div", { class: "meta", text: [take.model, take.size, length, take.money, take.made].filter((x) => x && x !== "-").join(" · ") }),
    take.current ? null : el("div", { class: "old", text: take.film ? `made for the film '${take.film}'`
      : "made from an earlier version of " + (isTask(name) ? "it" : "the scene") }),
    take.missing ? el("div", { class: "old", text: "file missing (render fetches it again)" }) : null);
}

function nodeBox(node, label, cls) {
  // a cast sheet, a board or a sound: its state, its takes (pick), and a retake, as a clip's
  const why = node.status === "failed" ? node.error : node.reasons.join(", ");
  const price = node.priced === false ? "price not published" : money(node.cost);
  const facts = [node.size || node.model, node.seconds ? node.seconds + " s" : null, price, node.take ? "take " + node.take + " chosen" : "no take yet"].filter(Boolean).join(" · ");
  return el("div", { class: cls + " node " + node.status.replace(/ /g, "-"), "data-node": node.node },
    el("div", { class: "node-head" },
      el("span", { class: "label", text: label }),
      el("span", { class: "badge status" }, statusText(node)),
      el("span", { class: "facts", text: facts })),
    node.text ? el("q", { class: "said", text: node.text }) : null,
    why ? el("div", { class: node.status === "not made" ? "why muted" : "why", text: why + (node.next_cost ? " — next render " + money(node.next_cost) : "") }) : null,
    node.takes.length ? el("div", { class: "takes" }, ...node.takes.map((t) => takeBox(node.node, t))) : null,
    el("div", { class: "actions" },
      el("button", { class: "retake-node", type: "button", onclick: () => retake(node.node) }, node.takes.length ? "Retake " + label + "…" : "Make " + label + "…")));
}

function card(scene) {
  const why = scene.status === "failed" ? scene.error : scene.reasons.join(", ");
  const clip = el("div", { class: "clip-col" },
    scene.board ? el("div", { class: "node-head" }, el("span", { class: "label", text: "clip" })) : null,
    el("div", { class: "takes" }, ...scene.takes.map((t) => takeBox(scene.id, t))),
    el("div", { class: "actions" },
      el("button", { class: "retake", type: "button", onclick: () => retake(scene.id) }, "Retake…")));
  return el("article", { class: "card " + scene.status.replace(/ /g, "-"), "data-scene": scene.id, id: "scene-" + scene.id },
    el("div", { class: "card-head" },
      el("span", { class: "id", text: scene.id }),
      el("span", { class: "badge status" }, statusText(scene)),
      el("span", { class: "facts", text: [scene.model, scene.duration + " s", money(scene.cost), scene.take ? "take " + scene.take + " in the cut" : "no take yet"].join(" · ") })),
    why ? el("div", { class: "why", text: why + (scene.next_cost ? " — next render " + money(scene.next_cost) : "") }) : null,
    el("details", {}, el("summary", { text: "prompt" }), el("pre", { text: scene.prompt })),
    el("div", { class: "card-body" }, scene.board ? nodeBox(scene.board, "board", "board-col") : null, clip),
    scene.sounds && scene.sounds.length ? el("div", { class: "sounds" }, ...scene.sounds.map((s) => nodeBox(s, SOUND_LABEL[s.what] || s.what, "sound-col"))) : null);
}

// issue 18: what each sound node is called on the page
const SOUND_LABEL = { voice: "line", effect: "effect", lipsync: "lip sync", music: "music" };

function drawMusic(music) {
  // the generated music on top, with its takes (a music file is not a task: not shown)
  const box = $("#music");
  const key = JSON.stringify(music || null);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.textContent = "";
  box.hidden = !music;
  if (music) box.append(nodeBox(music, "music", "music-col"));
}

function drawCast(cast) {
  // the cast on top (issue 17): each member's own pictures, or its generated sheet's takes
  const box = $("#cast");
  const key = JSON.stringify(cast || []);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.textContent = "";
  box.hidden = !cast || cast.length === 0;
  if (box.hidden) return;
  box.append(el("h2", { text: "The cast" }));
  const row = el("div", { class: "members" });
  for (const m of cast) {
    const head = el("div", { class: "member-head" }, el("strong", { text: m.name }),
      el("span", { class: "facts", text: m.scenes.length ? "in " + m.scenes.join(", ") : "in no scene" }));
    const body = m.sheet ? nodeBox(m.sheet, "sheet", "sheet")
      : !m.pictures.length ? el("div", { class: "facts", text: "no sheet: it is in no scene" })
      : el("div", { class: "given" },
        el("div", { class: "facts", text: "its own pictures" }),
        el("div", { class: "takes" }, ...m.pictures.map((pic) => el("div", { class: "take picture" },
          el("img", { src: pic.url.startsWith("https://") ? pic.url : withToken(pic.url), alt: m.name, loading: "lazy" }),
          el("div", { class: "meta", text: pic.file }))))) ;
    row.append(el("div", { class: "member", "data-member": m.name }, head,
      el("div", { class: "description", text: m.description }), body));
  }
  box.append(row);
}

function drawStrip(scenes) {
  const strip = $("#strip");
  const ids = scenes.map((s) => s.id).join("\n");
  if (strip.dataset.ids !== ids) { strip.textContent = ""; drawn.clear(); strip.dataset.ids = ids; }
  scenes.forEach((scene, i) => {
    const key = JSON.stringify(scene);
    if (drawn.get(scene.id) === key) return;
    drawn.set(scene.id, key);
    const wrap = el("div", { class: "scene-wrap", "data-wrap": scene.id }, linkText(scene, scenes[i - 1]) || el("div", { class: "link none" }), card(scene));
    const old = strip.querySelector(`[data-wrap="${CSS.escape(scene.id)}"]`);
    if (old) old.replaceWith(wrap); else strip.append(wrap);
  });
}

function drawFilm(film) {
  const box = $("#film");
  const key = JSON.stringify(film);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  const list = $("#chapters");
  box.textContent = ""; list.textContent = "";
  if (!film) { box.append(el("p", { class: "muted", text: "No film yet: render, then compose." })); return; }
  const video = el("video", { src: withToken(film.url), controls: true, preload: "metadata", id: "film-video" },
    film.captions ? el("track", { kind: "captions", src: withToken("/film/captions.vtt?v=" + Date.now()), srclang: "en", label: "Dialogue", default: true }) : null,
    el("track", { kind: "chapters", src: withToken("/film/chapters.vtt?v=" + Date.now()), srclang: "en", label: "Scenes" }));
  box.append(video);
  if (film.outdated.length) box.append(el("p", { class: "why", text: "Not the current cut (" + film.outdated.join(", ") + "): render, or storyboard compose, to update it." }));
  for (const ch of film.chapters) {
    list.append(el("li", { "data-start": ch.start }, el("button", { type: "button", onclick: () => { video.currentTime = ch.start; video.play().catch(() => {}); } },
      ch.scene + " — " + ch.start.toFixed(1) + " s")));
  }
  video.addEventListener("timeupdate", () => {
    const items = [...list.children];
    let now = -1;
    items.forEach((li, i) => { if (video.currentTime + 0.01 >= Number(li.dataset.start)) now = i; });
    items.forEach((li, i) => li.classList.toggle("now", i === now));
  });
}

function drawAnimatic(url) {
  // the boards cut as a film (render --boards, issue 17)
  const box = $("#animatic");
  if (box.dataset.src === String(url)) return;
  box.dataset.src = String(url);
  box.textContent = "";
  $("#animatic-box").hidden = !url;
  if (url) box.append(el("video", { src: withToken(url), controls: true, preload: "metadata", id: "animatic-video" }));
}

function draw(data) {
  state = data;
  clockSkew = data.now ? data.now - Date.now() / 1000 : 0;
  const problem = $("#problem");
  if (data.error) { problem.hidden = false; problem.textContent = data.error; return; }
  problem.hidden = true;
  drawVariants(data);
  document.title = data.title + " — storyboard review";
  $("#title").textContent = data.title;
  const spent = `spent ${data.money}`;
  $("#money").textContent = `${spent} · next render ${money(data.next_cost)} (${data.stale.length} to make or fetch)`;
  const job = data.jobs && data.jobs.current;
  const busy = job || data.rendering;
  const btn = $("#render-stale");
  btn.disabled = !!busy || (data.stale.length === 0 && !composable(data));
  btn.textContent = data.stale.length ? `Render what is stale (${money(data.next_cost)})`
    : composable(data) ? "Compose the film" : "Everything is up to date";
  if (job) say(`${job.what}: running (${elapsed(job.started)})`);
  else if (data.rendering) say(`${data.rendering.what} running in another process (pid ${data.rendering.pid})`);
  else if (data.jobs && data.jobs.last && JSON.stringify(data.jobs.last) !== lastJobSaid) {
    lastJobSaid = JSON.stringify(data.jobs.last); // said once: a later pick's words stay
    say(data.jobs.last.message, !data.jobs.last.ok);
  }
  drawCast(data.cast);
  drawMusic(data.music);
  drawStrip(data.scenes);
  drawFilm(data.film);
  drawAnimatic(data.animatic);
  const sheet = $("#sheet");
  if (sheet.dataset.src !== String(data.contact_sheet)) {
    sheet.dataset.src = String(data.contact_sheet);
    sheet.textContent = "";
    sheet.append(data.contact_sheet ? el("img", { src: withToken(data.contact_sheet), alt: "contact sheet: first and last frame of every scene" }) : el("p", { class: "muted", text: "No contact sheet yet." }));
  }
}

let asked = 0;
let shown = 0;

async function refresh() {
  const n = ++asked;
  try {
    const data = await api("/api/state");
    if (n < shown) return; // an older answer arriving late must not undo a newer one
    shown = n;
    draw(data);
  } catch (e) { say("cannot read the project: " + e.message, true); }
}

async function pickTake(scene, n) {
  try {
    const r = await api("/api/pick", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ scene, take: n }) });
    const warned = (r.warnings || []).length > 0;
    say(`${scene}: take ${n} is ${isTask(scene) ? "chosen" : "in the cut"}` + (r.stale.length ? ` (now stale: ${r.stale.join(", ")})` : "")
      + (warned ? `; warning: ${r.warnings.join("; ")}` : ""), warned);
  } catch (e) { say(e.message, true); }
  refresh();
}

async function startRender(retakeScenes) {
  try {
    const plan = await api("/api/plan?" + retakeScenes.map((s) => "retake=" + encodeURIComponent(s)).join("&"));
    const what = retakeScenes.length ? "A new take of " + retakeScenes.join(", ") : "Rendering the stale scenes";
    const free = !plan.real ? " (the local emulator makes placeholder clips and charges nothing)" : "";
    const fetch = plan.fetch || [];
    const compose = !plan.generate.length && !fetch.length;
    if (compose && (retakeScenes.length || !composable(state))) { say("nothing is stale"); return; }
    if (plan.refused) { say(plan.refused, true); return; } // a price no source gives: ask nothing
    const makes = plan.generate.length ? `generates ${plan.generate.join(", ")} and costs ${money(plan.cost)}${free}` : "buys nothing";
    const again = fetch.length ? `; it fetches ${fetch.join(", ")} again (not paid again)` : "";
    const question = compose ? "Composing the film from the takes in the cut buys nothing. Go ahead?"
      : `${what} ${makes}${again}. Go ahead?`;
    if (!confirm(question)) return;
    // the budget is what was just shown (a render costing nothing still needs one above $0)
    const budget = Math.max(plan.cost, 0.0001);
    await api("/api/render", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ retake: retakeScenes, budget }) });
  } catch (e) { say(e.message, true); }
  refresh();
}

const retake = (scene) => startRender([scene]);
$("#render-stale").addEventListener("click", () => startRender([]));
$("#variant").addEventListener("change", (e) => switchVariant(e.target.value));

setInterval(() => {
  for (const t of document.querySelectorAll(".timer")) t.textContent = elapsed(Number(t.dataset.since));
  const job = state && state.jobs && state.jobs.current;
  if (job) say(`${job.what}: running (${elapsed(job.started)})`);
}, 1000);

function listen() {
  const source = new EventSource(withToken("/api/events"));
  source.addEventListener("changed", refresh);
  source.onerror = () => { say("lost the connection to the review server; retrying", true); };
}

refresh().then(listen);
