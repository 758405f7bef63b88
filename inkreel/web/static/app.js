// The showrunner's page: conversations on the left, the chat in the middle, the episode on
// the right. Plain DOM, no framework. Every text from the writer or a model goes in through
// textContent (the `el` helper), never as HTML.

const $ = (id) => document.getElementById(id);

const STAGE_TAB = { script: "script", storyboard: "storyboard", rendering: "storyboard", episode: "episode" };
const FRAMINGS = ["extreme_wide", "wide", "medium", "close_up", "extreme_close_up", "over_the_shoulder", "two_shot"];
const ANGLES = ["eye_level", "high", "low"];
const EMOTIONS = ["neutral", "happy", "sad", "angry", "surprised", "afraid"];
// Which bar a run's per-item event moves on (the terminal's progress view does the same).
const ADVANCES = { take: "voices", keyframe: "keyframes", checked: "continuity", segment: "shots" };

const state = {
  thread: null, // the conversation shown
  detail: null, // GET /api/threads/{id}
  source: null, // the EventSource of its running turn
  working: false,
  tab: "script",
  shownStage: null,
  bars: new Map(), // key -> {label, total, done, row}
  retakeOpen: null, // the shot whose retake form is open
  editing: null, // the line being edited in place
};

// ----------------------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function words(value) {
  return String(value ?? "").replaceAll("_", " ");
}

function mediaUrl(path, version) {
  const url = "/media/" + String(path).split("/").map(encodeURIComponent).join("/");
  return version === undefined ? url : `${url}?v=${version}`;
}

async function api(method, url, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new Error((data && data.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// ----------------------------------------------------------------------------- conversations

async function loadThreads() {
  const { threads } = await api("GET", "/api/threads");
  const list = $("thread-list");
  list.replaceChildren(
    ...threads.map((t) =>
      el("li", {},
        el("button", {
          type: "button",
          class: "thread" + (t.thread === state.thread ? " current" : ""),
          "aria-current": t.thread === state.thread ? "true" : null,
          dataset: { thread: t.thread },
          onclick: () => selectThread(t.thread),
        },
          el("span", { class: "thread-name" }, t.episode || "New conversation",
            t.busy ? el("span", { class: "busy-dot", title: "working" }) : null),
          el("span", { class: "badge stage-" + t.stage }, words(t.stage)),
          el("span", { class: "thread-last" }, t.last || t.thread),
        ),
      ),
    ),
  );
  if (!threads.length) list.append(el("li", { class: "empty" }, "No conversation yet."));
  return threads;
}

async function newThread() {
  const { thread } = await api("POST", "/api/threads");
  await selectThread(thread);
  await loadThreads();
  $("input").focus();
  return thread;
}

async function selectThread(thread) {
  if (state.source) state.source.close();
  state.source = null;
  state.thread = thread;
  state.retakeOpen = null;
  state.editing = null;
  state.shownStage = null;
  if (location.hash !== "#" + thread) history.replaceState(null, "", "#" + thread);
  showError("");
  for (const button of document.querySelectorAll("#thread-list .thread")) {
    button.classList.toggle("current", button.dataset.thread === thread);
  }
  await refresh();
  if (state.detail && state.detail.busy) follow();
}

async function refresh() {
  if (!state.thread) return render(null);
  try {
    state.detail = await api("GET", `/api/threads/${encodeURIComponent(state.thread)}`);
  } catch (error) {
    state.detail = null;
    showError(error.message);
  }
  render(state.detail);
}

// ----------------------------------------------------------------------------- sending

async function send(text, calls) {
  text = (text || "").trim();
  if (!text && !calls) return;
  if (state.working) {
    showError("The showrunner is still working on the last message.");
    return;
  }
  showError("");
  if (!state.thread) await newThread();
  const body = calls ? { text, calls } : { text };
  appendMessage("writer", text);
  setWorking(true);
  try {
    await api("POST", `/api/threads/${encodeURIComponent(state.thread)}/messages`, body);
  } catch (error) {
    setWorking(false);
    showError(error.message);
    await refresh();
    return false;
  }
  follow();
  return true;
}

// Subscribe to the running turn's events (a reloaded page gets the buffered ones first).
function follow() {
  if (state.source) state.source.close();
  const thread = state.thread;
  const source = new EventSource(`/api/threads/${encodeURIComponent(thread)}/events`);
  state.source = source;
  const finish = async () => {
    source.close();
    if (state.source === source) state.source = null;
    if (state.thread !== thread) return;
    setWorking(false);
    await refresh();
    await loadThreads();
  };
  const data = (event) => JSON.parse(event.data || "{}");
  source.addEventListener("start", () => {
    setWorking(true);
    resetProgress();
  });
  source.addEventListener("progress", (event) => onProgress(data(event)));
  source.addEventListener("reply", (event) => appendMessage("showrunner", data(event).text));
  source.addEventListener("stopped", (event) => {
    appendMessage("showrunner", data(event).text);
    finish();
  });
  source.addEventListener("done", finish);
  source.addEventListener("idle", finish);
  source.addEventListener("error", (event) => {
    // A server's "error" event has data; a lost connection does not (the browser retries).
    if (event.data) {
      showError(data(event).error);
      finish();
    } else if (source.readyState === EventSource.CLOSED) {
      finish();
    }
  });
}

// Stop the running turn: its run stops at the next step and keeps what it made.
async function stopTurn() {
  if (!state.thread || !state.working) return;
  $("stop").disabled = true;
  try {
    await api("POST", `/api/threads/${encodeURIComponent(state.thread)}/stop`);
    $("working-text").textContent = "Stopping at the next step…";
  } catch (error) {
    showError(error.message);
  }
}

function setWorking(working) {
  state.working = working;
  $("send").disabled = working;
  $("progress").hidden = !working;
  $("stop").disabled = !working;
  if (working) $("working-text").textContent = "The showrunner is working…";
  if (!working) resetProgress();
  for (const button of document.querySelectorAll(".needs-idle")) button.disabled = working;
  scrollDown();
}

// ----------------------------------------------------------------------------- progress

function resetProgress() {
  state.bars.clear();
  $("bars").replaceChildren();
  $("progress-lines").replaceChildren();
  $("working-text").textContent = "The showrunner is working…";
}

function bar(key, label, total) {
  let entry = state.bars.get(key);
  if (!entry) {
    const meter = el("progress", { max: Math.max(total, 1), value: 0 });
    const count = el("span", { class: "count" });
    entry = { label, total, done: 0, meter, count };
    state.bars.set(key, entry);
    $("bars").append(el("div", { class: "bar", dataset: { bar: key } }, el("span", { class: "label" }, label), meter, count));
  }
  entry.total = total;
  entry.meter.max = Math.max(total, 1);
  show(entry);
}

function show(entry) {
  entry.meter.value = Math.min(entry.done, entry.total);
  entry.count.textContent = `${Math.min(entry.done, entry.total)} / ${entry.total}`;
}

function progressLine(text) {
  const lines = $("progress-lines");
  lines.append(el("li", {}, text));
  while (lines.children.length > 6) lines.firstElementChild.remove();
}

// While a turn runs, the episode pane follows its work (keyframes appear as they are drawn).
const FOLLOWED = new Set(["stage_done", "keyframe", "checked", "segment", "delivered"]);
let artifactsTimer = null;

function refreshArtifactsSoon() {
  if (artifactsTimer) return;
  artifactsTimer = setTimeout(async () => {
    artifactsTimer = null;
    const thread = state.thread;
    if (!thread || !state.working) return;
    try {
      const detail = await api("GET", `/api/threads/${encodeURIComponent(thread)}`);
      if (thread !== state.thread || !state.working) return;
      state.detail = detail;
      renderArtifacts(detail);
    } catch {
      // The next event tries again; the turn's end refreshes everything.
    }
  }, 2000);
}

function onProgress({ kind, data = {} }) {
  if (FOLLOWED.has(kind)) refreshArtifactsSoon();
  if (kind === "bar") return bar(data.bar, data.label, data.total);
  if (kind === "checking") {
    const entry = state.bars.get("continuity");
    if (entry) entry.done = 0;
    return bar("continuity", "Checking continuity", data.shots);
  }
  if (ADVANCES[kind]) {
    const entry = state.bars.get(ADVANCES[kind]);
    if (entry) {
      entry.done += 1;
      show(entry);
    }
    $("working-text").textContent = `${words(kind)} ${data.shot_id || data.line_id || ""}`.trim() + "…";
    return;
  }
  if (kind === "stage_done") return progressLine("✓ " + data.text);
  if (kind === "character") return progressLine(`${data.name}: ${data.reused ? "reused from memory" : "designed"}`);
  if (kind === "queued") return progressLine("Waiting: " + (data.why || "another conversation is working"));
  if (kind === "stage") return progressLine("Starting the " + words(data.stage));
  if (kind === "delivered") return progressLine("✓ Delivered " + (data.folder || ""));
  // Anything else, as it came: its kind and a short summary of its fields.
  const detail = Object.entries(data).map(([k, v]) => `${words(k)} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
  progressLine(words(kind) + (detail ? ": " + detail : ""));
}

// ----------------------------------------------------------------------------- the chat

function appendMessage(role, text) {
  const list = $("messages");
  list.append(
    el("li", { class: "message " + role },
      el("span", { class: "who" }, role === "writer" ? "You" : "Showrunner"),
      el("div", { class: "text" }, text),
    ),
  );
  scrollDown();
}

function scrollDown() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function render(detail) {
  const messages = $("messages");
  messages.replaceChildren();
  if (!detail) {
    $("chat-title").textContent = "New conversation";
    $("chat-meta").textContent = "";
    messages.append(el("li", { class: "hint" }, "Tell the showrunner a story idea to start: who, where, what happens."));
    renderSteps("idea");
    renderQuick(null);
    renderArtifacts(null);
    return;
  }
  $("chat-title").textContent = detail.episode ? `Episode ${detail.episode}` : "New conversation";
  $("chat-meta").textContent = `${detail.thread} · ${detail.length_s} s episode`;
  if (!detail.messages.length && !detail.busy) {
    messages.append(el("li", { class: "hint" }, "Tell the showrunner a story idea to start: who, where, what happens."));
  }
  for (const m of detail.messages) appendMessage(m.role, m.text);
  const last = detail.messages.filter((m) => m.role === "writer").at(-1);
  if (detail.busy && detail.pending && (!last || last.text !== detail.pending)) appendMessage("writer", detail.pending);
  setWorking(detail.busy);
  renderSteps(detail.stage);
  renderQuick(detail);
  if (detail.stage !== state.shownStage) {
    state.shownStage = detail.stage;
    if (STAGE_TAB[detail.stage]) state.tab = STAGE_TAB[detail.stage];
  }
  renderArtifacts(detail);
}

function renderSteps(stage) {
  let reached = true;
  for (const step of document.querySelectorAll("#steps li")) {
    const current = step.dataset.stage === stage;
    step.classList.toggle("current", current);
    step.classList.toggle("done", reached && !current);
    if (current) reached = false;
  }
}

function renderQuick(detail) {
  const quick = $("quick");
  quick.replaceChildren();
  if (!detail) return;
  const view = detail.episode_view || {};
  const pending = view.pending || {};
  const says = {
    logline: ["logline 1", "logline 2", "logline 3"],
    outline: ["approve"],
    script: ["approve"],
    storyboard: ["approve"],
    rendering: ["render"],
    episode: (pending.retakes || []).length || (pending.line_edits || []).length ? ["render", "undo"] : [],
  }[detail.stage] || [];
  for (const text of [...says, "help"]) {
    quick.append(el("button", { type: "button", class: "chip needs-idle", disabled: state.working, onclick: () => send(text) }, text));
  }
}

// ----------------------------------------------------------------------------- the episode

function renderArtifacts(detail) {
  const view = (detail && detail.episode_view) || {};
  const script = view.script;
  $("episode-title").textContent = detail && detail.episode ? `Episode ${detail.episode}${script ? " · " + script.title : ""}` : "Episode";
  $("cost").textContent = detail && detail.episode ? `spent $${Number(view.cost_usd || 0).toFixed(4)}` : "";
  const counts = { storyboard: (view.storyboard || []).length };
  for (const tab of document.querySelectorAll("#tabs [role=tab]")) {
    const name = tab.dataset.tab;
    tab.setAttribute("aria-selected", String(name === state.tab));
    tab.textContent = words(name).replace(/^./, (c) => c.toUpperCase()) + (counts[name] ? ` (${counts[name]})` : "");
  }
  for (const panel of document.querySelectorAll(".tab")) panel.hidden = panel.dataset.tab !== state.tab;
  renderScript(detail, view);
  renderStoryboard(detail, view);
  renderEpisode(detail, view);
  renderContinuity(view);
}

function empty(text) {
  return el("p", { class: "empty" }, text);
}

function renderScript(detail, view) {
  const panel = $("tab-script");
  panel.replaceChildren();
  const script = view.script;
  if (!script) {
    if (detail && detail.outline && detail.outline.length) {
      panel.append(
        el("h3", {}, "Outline"),
        detail.logline ? el("p", { class: "logline" }, detail.logline) : null,
        el("ol", { class: "outline" }, detail.outline.map((b) => el("li", {}, el("span", { class: "act" }, b.act), " ", b.text))),
        empty("The script is written when you approve the outline."),
      );
    } else if (detail && detail.loglines && detail.loglines.length) {
      panel.append(el("h3", {}, "Loglines"), el("ol", { class: "outline" }, detail.loglines.map((l) => el("li", {}, l))));
    } else {
      panel.append(empty("No script yet. It appears here once the showrunner has written it."));
    }
    return;
  }
  const editable = ["script", "episode"].includes(detail.stage);
  const edits = new Map(((view.pending || {}).line_edits || []).map((e) => [e.line, e.text]));
  panel.append(
    el("h3", { class: "script-title" }, script.title, script.draft ? el("span", { class: "badge draft" }, "draft") : null),
    script.logline ? el("p", { class: "logline" }, script.logline) : null,
    editable ? el("p", { class: "hint small" }, detail.stage === "script"
      ? "Edit a line in place, then approve the script."
      : "Edit a line in place: it is voiced again when you say render.") : null,
  );
  for (const scene of script.scenes) {
    const section = el("section", { class: "scene" },
      el("h4", {}, `Scene ${scene.number} · ${scene.heading}`),
      scene.characters.length ? el("p", { class: "cast" }, scene.characters.join(", ")) : null,
    );
    for (const beat of scene.beats) {
      if (beat.kind !== "dialogue") {
        section.append(el("p", { class: "action" }, beat.text));
        continue;
      }
      section.append(lineRow(beat, editable, edits.get(beat.line)));
    }
    panel.append(section);
  }
}

function lineRow(beat, editable, pendingText) {
  const row = el("div", { class: "line", dataset: { line: beat.line } },
    el("span", { class: "num" }, beat.line),
    el("span", { class: "speaker" }, beat.character || ""),
    beat.parenthetical ? el("span", { class: "paren" }, `(${beat.parenthetical})`) : null,
  );
  const text = el("span", { class: "words" }, beat.text);
  row.append(text);
  if (pendingText) row.append(el("span", { class: "pending" }, `→ “${pendingText}” (say render)`));
  if (!editable) return row;
  const editButton = el("button", { type: "button", class: "edit small needs-idle", disabled: state.working, title: `Edit line ${beat.line}` }, "Edit");
  editButton.addEventListener("click", () => {
    const input = el("input", { type: "text", class: "line-input", value: pendingText || beat.text, "aria-label": `Line ${beat.line}` });
    const save = el("button", { type: "submit", class: "small" }, "Save");
    const cancel = el("button", { type: "button", class: "small secondary" }, "Cancel");
    const form = el("form", { class: "line-edit" }, input, save, cancel);
    cancel.addEventListener("click", () => form.replaceWith(text, editButton));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") form.replaceWith(text, editButton);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const said = input.value.trim();
      if (!said || said === beat.text) return form.replaceWith(text, editButton);
      send(`change line ${beat.line} to "${said}"`, [{ name: "edit_line", args: { line: beat.line, text: said } }]);
    });
    text.replaceWith(form);
    editButton.remove();
    input.focus();
    input.select();
  });
  row.append(editButton);
  return row;
}

function renderStoryboard(detail, view) {
  const panel = $("tab-storyboard");
  panel.replaceChildren();
  const shots = view.storyboard || [];
  if (!shots.length) {
    panel.append(empty("No storyboard yet. The director plans it after you approve the script."));
    return;
  }
  const stage = detail.stage;
  const changeable = stage === "storyboard" || stage === "episode";
  if (stage === "storyboard") panel.append(el("p", { class: "hint small" }, "The shots as planned: change any, then approve to draw them."));
  if (stage === "episode") panel.append(el("p", { class: "hint small" }, "Retake a shot, then say render."));
  const grid = el("div", { class: "shots" });
  for (const shot of shots) {
    const picture = shot.keyframe
      ? el("img", { class: "thumb", src: mediaUrl(shot.keyframe), alt: `Shot ${shot.number}, ${words(shot.framing)}`, loading: "lazy" })
      : el("div", { class: "thumb placeholder" }, words(shot.framing));
    const card = el("figure", { class: "shot", dataset: { shot: shot.id } },
      picture,
      el("figcaption", {},
        el("div", { class: "shot-head" },
          el("b", {}, `#${shot.number}`), " ", el("span", { class: "shot-id" }, shot.id),
          shot.continuity ? el("span", { class: "badge status-" + shot.continuity }, shot.continuity) : null,
        ),
        el("div", { class: "camera" }, `${words(shot.framing)} · ${words(shot.angle)} · ${shot.duration_s.toFixed(1)} s`),
        el("div", { class: "shot-text" }, shot.speaker ? el("b", {}, shot.speaker + ": ") : null, shot.text, shot.line ? el("span", { class: "num" }, ` (line ${shot.line})`) : null),
        shot.pending ? el("div", { class: "pending" }, "→ " + Object.values(shot.pending).map(words).join(", ") + (stage === "episode" ? " (say render)" : "")) : null,
      ),
    );
    if (changeable) {
      card.append(el("button", {
        type: "button", class: "retake small needs-idle", disabled: state.working,
        onclick: () => { state.retakeOpen = shot.id; renderStoryboard(detail, view); },
      }, stage === "episode" ? "Retake" : "Change"));
      if (state.retakeOpen === shot.id) card.append(retakeForm(shot, stage, detail, view));
    }
    grid.append(card);
  }
  panel.append(grid);
}

function choice(name, label, values, allowed = true) {
  if (!allowed) return null;
  return el("label", {}, label,
    el("select", { name }, el("option", { value: "" }, "keep"), values.map((v) => el("option", { value: v }, words(v)))));
}

function retakeForm(shot, stage, detail, view) {
  const form = el("form", { class: "retake-form" },
    choice("framing", "Framing", FRAMINGS),
    choice("angle", "Angle", ANGLES),
    choice("emotion", "Emotion", EMOTIONS, stage === "episode"),
    el("div", { class: "buttons" },
      el("button", { type: "submit", class: "small" }, stage === "episode" ? "Ask for the retake" : "Change the shot"),
      el("button", { type: "button", class: "small secondary", onclick: () => { state.retakeOpen = null; renderStoryboard(detail, view); } }, "Cancel"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const args = { shot: shot.id };
    for (const select of form.querySelectorAll("select")) if (select.value) args[select.name] = select.value;
    const changes = Object.entries(args).filter(([k]) => k !== "shot").map(([, v]) => words(v));
    if (!changes.length) return showError("Choose a framing, an angle or an emotion for the shot.");
    state.retakeOpen = null;
    const what = stage === "episode" ? "retake shot" : "shot";
    send(`${what} ${shot.number}: ${changes.join(", ")}`, [{ name: "change_shot", args }]);
  });
  return form;
}

function renderEpisode(detail, view) {
  const panel = $("tab-episode");
  if (!view.video) {
    panel.replaceChildren(empty(detail && detail.stage === "rendering"
      ? "The episode stopped before it was finished: say render to go on."
      : "Not rendered yet. Approve the storyboard to draw and cut the episode."));
    return;
  }
  // The same path is cut again after a change: a new version per turn, not per render here.
  const src = mediaUrl(view.video, detail.messages.length);
  let video = panel.querySelector("video");
  if (!video || video.getAttribute("src") !== src) {
    video = el("video", { id: "player", controls: true, preload: "metadata", src });
    panel.replaceChildren(video);
  } else {
    panel.replaceChildren(video);
  }
  const files = Object.entries(view.outputs || {}).map(([name, path]) =>
    el("li", {}, el("a", { href: mediaUrl(path), target: "_blank", rel: "noopener" }, words(name)), " ", el("span", { class: "path" }, path)));
  panel.append(el("h4", {}, "Files"), el("ul", { class: "files" }, files));
}

function renderContinuity(view) {
  const panel = $("tab-continuity");
  panel.replaceChildren();
  const report = view.continuity;
  if (!report) {
    panel.append(empty("Continuity is checked when the keyframes are drawn."));
    return;
  }
  panel.append(
    el("p", { class: "verdict " + (report.passed ? "passed" : "flagged") },
      report.passed ? "Passed" : "Flagged", ` after ${report.rounds} round${report.rounds === 1 ? "" : "s"}`),
    el("ul", { class: "summary" },
      el("li", {}, "Flagged shots: ", report.flagged.length ? report.flagged.join(", ") : "none"),
      el("li", {}, "Repaired shots: ", report.repaired.length ? report.repaired.join(", ") : "none"),
      report.sheets_redrawn.length ? el("li", {}, "Sheets redrawn: ", report.sheets_redrawn.join(", ")) : null,
      el("li", {}, `Findings raised in all: ${report.raised}`),
    ),
  );
  if (report.findings.length) {
    panel.append(el("h4", {}, "Open findings"), el("ul", { class: "findings" },
      report.findings.map((f) => el("li", {},
        el("span", { class: "badge severity-" + f.severity }, f.severity), " ",
        el("b", {}, words(f.check)), " ",
        f.shot_id ? `${f.shot_id}: ` : f.scene ? `scene ${f.scene}: ` : "", f.message))));
  }
}

// ----------------------------------------------------------------------------- start

function selectTab(name) {
  state.tab = name;
  renderArtifacts(state.detail);
}

async function start() {
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("input");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    if ((await send(text)) === false) input.value = text;
  });
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", stopTurn);
  $("new-thread").addEventListener("click", () => newThread().catch((e) => showError(e.message)));
  for (const tab of document.querySelectorAll("#tabs [role=tab]")) tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  try {
    const threads = await loadThreads();
    const wanted = location.hash.slice(1);
    const thread = threads.find((t) => t.thread === wanted) || threads[0];
    if (thread) await selectThread(thread.thread);
    else render(null);
  } catch (error) {
    showError(error.message);
  }
}

start();
