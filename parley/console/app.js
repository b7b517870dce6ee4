// The Parley console: one page, plain JavaScript, no build step and nothing from a CDN.
// It speaks the same public API as any client: the token lives in localStorage and goes in
// an Authorization header (the player, which cannot send headers, uses ?access_token=).

import { bookmarkBody, defaultDuration, inOrder } from "./bookmarks.js";

const UNREACHABLE = "The Parley server cannot be reached. Check that it is running and try again.";
const EXPIRED = "Your session has expired or the token is not valid. Please sign in again.";
const PALETTE = ["#1d4ed8", "#b91c1c", "#047857", "#7c3aed", "#b45309", "#0e7490", "#be185d", "#4d7c0f"];
const UNKNOWN_COLOUR = "#6b7280";
const PAGE = 20;
const CHUNK = 150; // sentences rendered per animation frame

const main = document.getElementById("main");
const noticeEl = document.getElementById("notice");
const sharedMatch = location.pathname.match(/^\/experiences\/([^/]+)\/?$/);
let cleanup = () => {};

// -- small helpers ---------------------------------------------------------------------

const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "textContent", "htmlFor", "open"]);

/** Build an element; strings become text nodes (never HTML), null/false children are skipped. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleString();
}

// A notice outlives the navigation it announces (an upload leads to the jobs page) but not
// the one after: it is cleared once the user has moved on twice since it was shown.
let routes = 0;
let noticeShownAt = 0;

function notice(message, kind = "error") {
  noticeShownAt = routes;
  noticeEl.textContent = message;
  noticeEl.className = kind === "info" ? "notice info" : "notice";
  noticeEl.setAttribute("role", kind === "info" ? "status" : "alert");
  noticeEl.hidden = !message;
}

function setTitle(text) {
  document.title = text ? `${text} · Parley` : "Parley";
}

function show(...children) {
  main.replaceChildren(...children.flat());
  main.focus({ preventScroll: true });
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// -- the API ---------------------------------------------------------------------------

const session = {
  get token() { return localStorage.getItem("parley.token"); },
  set token(value) {
    if (value) localStorage.setItem("parley.token", value);
    else localStorage.removeItem("parley.token");
  },
  /** Seconds since epoch when the token expires (from its JWT claims), or null. */
  expiry() {
    try {
      const part = this.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).exp || null;
    } catch { return null; }
  },
};

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function expired() {
  session.token = null;
  notice(EXPIRED);
  if (!sharedMatch) location.hash = "#/signin";
}

/** Call the API; throws ApiError with a sentence for a person (never a stack trace). */
async function call(path, { method = "GET", body, headers = {}, auth = true } = {}) {
  const all = { ...headers };
  if (auth && session.token) all.Authorization = `Bearer ${session.token}`;
  if (body !== undefined && typeof body !== "string") {
    all["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers: all, body });
  } catch {
    throw new ApiError(0, UNREACHABLE);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (response.status === 401 && auth) {
    expired();
    throw new ApiError(401, EXPIRED);
  }
  if ([502, 503, 504].includes(response.status)) throw new ApiError(response.status, UNREACHABLE);
  if (!response.ok) {
    const message = data && data.message ? data.message : `The server answered ${response.status}.`;
    throw new ApiError(response.status, message);
  }
  return data;
}

// -- routing ---------------------------------------------------------------------------

function parseHash() {
  const [path, query] = (location.hash.slice(1) || "/conversations").split("?");
  return { path, params: new URLSearchParams(query || "") };
}

async function route() {
  document.body.dataset.ready = "false"; // "true" only once a conversation page is rendered
  routes += 1;
  if (routes - noticeShownAt > 1) notice("");
  cleanup();
  cleanup = () => {};
  if (sharedMatch) return sharedPage(sharedMatch[1]);
  const { path, params } = parseHash();
  const signedIn = Boolean(session.token);
  document.getElementById("nav").hidden = !signedIn;
  for (const a of document.querySelectorAll("#nav a")) {
    if (path.startsWith(a.getAttribute("href").slice(1))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!signedIn || path === "/signin") return signInPage();
  const exp = session.expiry();
  if (exp && exp * 1000 < Date.now()) return expired();
  try {
    if (path === "/upload") return uploadPage();
    if (path === "/jobs") return jobsPage(params);
    if (path.startsWith("/c/")) return conversationPage(decodeURIComponent(path.slice(3)), params);
    return conversationsPage(params);
  } catch (error) {
    fail(error);
  }
}

function fail(error) {
  if (error instanceof ApiError && error.status === 401) return;
  notice(error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`);
}

// -- sign in ---------------------------------------------------------------------------

function signInPage() {
  setTitle("Sign in");
  const error = h("p", { class: "reason", role: "alert", id: "signin-error" });
  const finish = (token) => {
    session.token = token;
    notice("");
    location.hash = "#/conversations";
    route();
  };
  const credentials = h("form", { class: "card narrow", id: "signin-app", onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    const form = new FormData(event.target);
    try {
      const body = { type: "application", appId: form.get("appId"), appSecret: form.get("appSecret") };
      const data = await call("/oauth2/token:generate", { method: "POST", body, auth: false });
      finish(data.accessToken);
    } catch (e) {
      error.textContent = e.message;
    }
  } },
    h("h2", {}, "App credentials"),
    h("div", { class: "field" }, h("label", { for: "appId" }, "App ID"),
      h("input", { id: "appId", name: "appId", required: true, autocomplete: "username" })),
    h("div", { class: "field" }, h("label", { for: "appSecret" }, "App secret"),
      h("input", { id: "appSecret", name: "appSecret", type: "password", required: true, autocomplete: "current-password" })),
    h("button", { type: "submit" }, "Sign in"),
  );
  const pasted = h("form", { class: "card narrow", id: "signin-token", onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    const token = new FormData(event.target).get("token").trim();
    try {
      await call("/v1/jobs?limit=1", { headers: { Authorization: `Bearer ${token}` }, auth: false });
      finish(token);
    } catch (e) {
      error.textContent = e.status === 401 ? "This token is not valid or has expired." : e.message;
    }
  } },
    h("h2", {}, "Or paste an access token"),
    h("div", { class: "field" }, h("label", { for: "token" }, "Access token"),
      h("textarea", { id: "token", name: "token", rows: 3, required: true, spellcheck: "false" })),
    h("button", { type: "submit", class: "secondary" }, "Use this token"),
  );
  show(h("h1", {}, "Sign in to Parley"), error, credentials, pasted);
}

// -- upload ----------------------------------------------------------------------------

function field(id, label, input, hint) {
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null), input);
}

function check(id, label, extra = {}) {
  return h("div", { class: "check" }, h("input", { type: "checkbox", id, name: id, ...extra }), h("label", { for: id }, label));
}

function listOf(text, sep = /[,\n]/) {
  return text.split(sep).map((s) => s.trim()).filter(Boolean);
}

/** The form's values as the Async API's query options. */
function uploadOptions(form) {
  const params = new URLSearchParams();
  const get = (name) => (form.get(name) || "").trim();
  if (get("name")) params.set("name", get("name"));
  if (form.get("diarize")) {
    params.set("enableSpeakerDiarization", "true");
    if (get("speakers")) params.set("diarizationSpeakerCount", get("speakers"));
  }
  if (form.get("perChannel")) {
    params.set("enableSeparateRecognitionPerChannel", "true");
    const names = listOf(get("channels"));
    if (names.length) {
      params.set("channelMetadata", JSON.stringify(names.map((name, i) => ({ channel: i + 1, speaker: { name } }))));
    }
  }
  if (get("language")) params.set("languageCode", get("language"));
  const vocabulary = listOf(get("vocabulary"));
  if (vocabulary.length) params.set("customVocabulary", JSON.stringify(vocabulary));
  const trackers = listOf(get("trackers"), /\n/).map((line) => {
    const [name, phrases] = line.includes(":") ? line.split(/:(.*)/s) : [line, line];
    return { name: name.trim(), vocabulary: listOf(phrases || name) };
  }).filter((t) => t.name && t.vocabulary.length);
  if (trackers.length) params.set("trackers", JSON.stringify(trackers));
  if (form.get("summary")) params.set("enableSummary", "true");
  return params;
}

function send(file, params, onProgress) {
  return new Promise((resolve, reject) => {
    const kind = file.type.startsWith("video/") ? "video" : "audio";
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/process/${kind}?${params}`);
    xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.setRequestHeader("Content-Type", /^(audio|video)\//.test(file.type) ? file.type : "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, UNREACHABLE));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 201) return resolve(data);
      if (xhr.status === 401) { expired(); return reject(new ApiError(401, EXPIRED)); }
      reject(new ApiError(xhr.status, (data && data.message) || `The upload failed (${xhr.status}).`));
    };
    xhr.send(file);
  });
}

function uploadPage() {
  setTitle("Upload");
  let file = null;
  const chosen = h("p", { id: "chosen", class: "muted", "aria-live": "polite" }, "No file chosen yet.");
  const picker = h("input", { type: "file", id: "file", name: "file", accept: "audio/*,video/*" });
  const choose = (f) => {
    file = f || null;
    chosen.textContent = file ? `${file.name} (${(file.size / 1048576).toFixed(1)} MB)` : "No file chosen yet.";
  };
  picker.addEventListener("change", () => choose(picker.files[0]));
  const drop = h("label", { class: "drop", for: "file", id: "drop" },
    h("strong", {}, "Drop a recording here"), h("br"), h("span", { class: "muted" }, "or choose a file (audio or video)"), picker);
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    choose(e.dataTransfer.files[0]);
  });
  const bar = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Upload progress" });
  const error = h("p", { class: "reason", role: "alert", id: "upload-error" });
  const form = h("form", { id: "upload", onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!file) { error.textContent = "Choose a recording first."; picker.focus(); return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    bar.hidden = false;
    try {
      const created = await send(file, uploadOptions(new FormData(form)), (p) => { bar.value = p; });
      notice(`Uploaded. Job ${created.jobId} is scheduled.`, "info");
      location.hash = "#/jobs";
    } catch (e) {
      error.textContent = e.message;
    } finally {
      button.disabled = false;
    }
  } },
    drop, chosen,
    h("div", { class: "grid2" },
      h("div", {},
        field("name", "Name", h("input", { name: "name", placeholder: "Weekly sync" })),
        field("language", "Language", h("input", { name: "language", placeholder: "en-US" }), "(BCP-47 code; empty = detect)"),
        field("vocabulary", "Custom vocabulary", h("input", { name: "vocabulary", placeholder: "Parley, Symbl" }), "(comma separated)"),
        check("summary", "Create a summary"),
      ),
      h("div", {},
        h("fieldset", {}, h("legend", {}, "Speakers"),
          check("diarize", "Tell speakers apart (diarization)", { checked: true }),
          field("speakers", "Number of speakers", h("input", { name: "speakers", type: "number", min: 1, max: 32, placeholder: "auto" })),
          check("perChannel", "One speaker per channel"),
          field("channels", "Channel names", h("input", { name: "channels", placeholder: "Agent, Customer" }), "(in channel order)"),
        ),
        field("trackers", "Trackers", h("textarea", { name: "trackers", rows: 3, placeholder: "Pricing: price, cost, discount" }), "(one per line: name: phrases)"),
      ),
    ),
    error, bar,
    h("button", { type: "submit" }, "Upload and process"),
  );
  show(h("h1", {}, "Upload a recording"), form);
}

// -- jobs ------------------------------------------------------------------------------

const STATUS = { scheduled: "Scheduled", in_progress: "In progress", completed: "Completed", failed: "Failed" };

async function jobsPage() {
  setTitle("Jobs");
  const body = h("tbody");
  const table = h("table", { class: "jobs" },
    h("caption", { class: "muted", style: { textAlign: "left" } }, "Recent jobs, newest first. This list updates itself."),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Recording"), h("th", { scope: "col" }, "Status"),
      h("th", { scope: "col" }, "Progress"), h("th", { scope: "col" }, "Submitted"))),
    body);
  show(h("h1", {}, "Jobs"), table);
  let timer = null, stopped = false;
  cleanup = () => { stopped = true; clearTimeout(timer); };
  const refresh = async () => {
    let jobs;
    try {
      jobs = (await call("/v1/jobs?limit=50")).jobs;
    } catch (e) {
      fail(e);
      if (!stopped && e.status !== 401) timer = setTimeout(refresh, 5000);
      return;
    }
    if (stopped) return;
    body.replaceChildren(...(jobs.length ? jobs.map(jobRow) : [h("tr", {}, h("td", { colspan: 4 }, "No jobs yet. ", h("a", { href: "#/upload" }, "Upload a recording.")))]));
    if (jobs.some((j) => j.status === "scheduled" || j.status === "in_progress")) timer = setTimeout(refresh, 1000);
  };
  await refresh();
}

function jobRow(job) {
  const title = job.name || `Conversation ${job.conversationId}`;
  return h("tr", { dataset: { job: job.id, status: job.status } },
    h("td", {}, job.status === "completed" ? h("a", { href: `#/c/${job.conversationId}` }, title) : title,
      h("div", { class: "muted" }, job.type)),
    h("td", {}, h("span", { class: `status ${job.status}` }, STATUS[job.status] || job.status),
      job.reason ? h("div", { class: "reason" }, job.reason) : null),
    h("td", {}, h("progress", { max: 100, value: job.progress || 0, "aria-label": `Progress of ${title}` }),
      ` ${Math.round(job.progress || 0)} %`),
    h("td", {}, when(job.createdAt)),
  );
}

// -- conversations list and search -------------------------------------------------------

function highlighted(text, query) {
  const words = (query.match(/\w+/gu) || []).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!words.length) return [text];
  const pattern = new RegExp(`\\b(${words.join("|")})\\w*`, "giu");
  const out = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    out.push(text.slice(last, m.index), h("mark", {}, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function seconds(iso, originIso) {
  return (Date.parse(iso) - Date.parse(originIso)) / 1000;
}

async function conversationsPage(params) {
  const query = params.get("q") || "";
  const page = Math.max(0, parseInt(params.get("page") || "0", 10) || 0);
  setTitle(query ? `Search: ${query}` : "Conversations");
  const input = h("input", { type: "search", id: "q", name: "q", value: query, placeholder: "Name or words said" });
  const form = h("form", { role: "search", class: "row", onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/conversations?q=${encodeURIComponent(input.value.trim())}`;
  } }, h("label", { for: "q" }, "Search conversations"), input, h("button", { type: "submit" }, "Search"));
  const list = h("ul", { class: "list", id: "conversations", "aria-busy": "true" });
  show(h("h1", {}, query ? `Conversations matching “${query}”` : "Conversations"), form, list);
  const offset = page * PAGE;
  const url = query
    ? `/v1/conversations?query=${encodeURIComponent(query)}&limit=${PAGE + 1}&offset=${offset}`
    : `/v1/conversations?order=desc&limit=${PAGE + 1}&offset=${offset}&startTime=1970-01-01T00:00:00Z`;
  let found;
  try {
    found = (await call(url)).conversations;
  } catch (e) {
    list.removeAttribute("aria-busy");
    return fail(e);
  }
  list.removeAttribute("aria-busy");
  const more = found.length > PAGE;
  found = found.slice(0, PAGE);
  if (!found.length) list.append(h("li", {}, query ? "Nothing matched." : "No conversations yet. ", query ? null : h("a", { href: "#/upload" }, "Upload a recording.")));
  for (const c of found) {
    const matches = (c.matches || []).map((m) => {
      const at = seconds(m.startTime, c.startTime);
      return h("li", { class: "match" },
        h("a", { class: "button secondary jump", href: `#/c/${c.id}?t=${at.toFixed(2)}`, "aria-label": `Play from ${clock(at)}` }, clock(at)),
        m.from && m.from.name ? h("strong", {}, `${m.from.name}: `) : null, highlighted(m.text, query));
    });
    list.append(h("li", { dataset: { id: c.id } },
      h("a", { class: "title", href: `#/c/${c.id}` }, c.name),
      h("div", { class: "muted" }, `${when(c.startTime)} · ${clock(seconds(c.endTime, c.startTime))} · ${c.members.map((m) => m.name).join(", ") || "no speakers"}`),
      matches.length ? h("ul", { class: "list" }, matches) : null));
  }
  const link = (p, label) => h("a", { class: "button secondary", href: `#/conversations?${new URLSearchParams({ ...(query ? { q: query } : {}), page: p })}` }, label);
  const pager = h("nav", { class: "row pager", "aria-label": "Pages" },
    page > 0 ? link(page - 1, "← Newer") : null, h("span", { class: "muted" }, `Page ${page + 1}`), more ? link(page + 1, "Older →") : null);
  main.append(pager);
}

// -- the conversation page ----------------------------------------------------------------

async function loadConversation(id) {
  const get = (path) => call(`/v1/conversations/${encodeURIComponent(id)}${path}`);
  const [conversation, members, messages, actions, questions, followUps, topics, entities, trackers, analytics, media] =
    await Promise.all([
      get(""), get("/members"), get("/messages?verbose=true"), get("/action-items"), get("/questions"),
      get("/follow-ups"), get("/topics"), get("/entities"), get("/trackers"), get("/analytics"), get("/media"),
    ]);
  const summary = await get("/summary").catch(() => ({ summary: [] }));
  // bookmarks and their default length are extras: the page shows without them
  const [bookmarks, settings] = await Promise.all([
    get("/bookmarks").catch(() => ({ bookmarks: [] })), call("/v1/manage/settings").catch(() => ({})),
  ]);
  // 404: no call score was asked for (no panel); 400: too few words (the panel says so)
  const callScore = await get("/callscore").catch((e) => (e.status === 400 ? { error: e.message } : null));
  const token = encodeURIComponent(session.token);
  return {
    conversation, members: members.members, messages: messages.messages, summary: summary.summary, callScore,
    bookmarks: bookmarks.bookmarks, bookmarkDuration: defaultDuration(settings),
    actionItems: actions.actionItems, questions: questions.questions, followUps: followUps.followUps,
    topics: topics.topics, entities: entities.entities, trackers, analytics,
    media: media.media.map((f) => ({ ...f, url: `${f.url}?access_token=${token}` })),
  };
}

async function conversationPage(id, params) {
  setTitle("Conversation");
  document.body.dataset.ready = "false";
  show(h("p", { "aria-busy": "true" }, "Loading the conversation…"));
  let data;
  try {
    data = await loadConversation(id);
  } catch (e) {
    show(h("h1", {}, "Conversation"), h("p", { class: "reason" }, e.message), h("a", { href: "#/conversations" }, "Back to conversations"));
    return;
  }
  const at = parseFloat(params.get("t"));
  renderConversation(data, {
    editable: true,
    start: isNaN(at) ? null : at,
    rename: (member, name) => call(`/v1/conversations/${id}/members/${member.id}`, {
      method: "PUT", body: { id: member.id, name, ...(member.email ? { email: member.email } : {}) } }),
    move: (message, member, start, end) => call(`/v1/conversations/${id}/speakers`, {
      method: "PUT", body: { speakerEvents: [
        { type: "started_speaking", user: { id: member.id, name: member.name }, offset: offsetOf(start) },
        { type: "stopped_speaking", user: { id: member.id, name: member.name }, offset: offsetOf(end) },
      ] } }),
    reload: () => loadConversation(id),
    bookmarks: {
      add: (body) => call(`/v1/conversations/${id}/bookmarks`, { method: "POST", body }),
      remove: (bookmark) => call(`/v1/conversations/${id}/bookmarks/${bookmark.id}`, { method: "DELETE" }),
    },
  });
}

function offsetOf(t) {
  const s = Math.floor(t);
  return { seconds: s, nanos: Math.round((t - s) * 1e9) };
}

/** Plays the conversation's files as one timeline: file k starts at its ``offset``. */
class Player {
  constructor(files, video) {
    this.files = files;
    this.index = 0;
    this.el = h(video ? "video" : "audio", { controls: true, preload: "metadata", id: "player", "aria-label": "Recording" });
    if (files.length) this.el.src = files[0].url;
    this.el.addEventListener("ended", () => {
      if (this.index + 1 < this.files.length) this.load(this.index + 1, 0, true);
    });
  }
  now() { return this.files.length ? this.files[this.index].offset + this.el.currentTime : 0; }
  load(index, at, play) {
    if (index !== this.index) {
      this.index = index;
      this.el.src = this.files[index].url;
      this.el.addEventListener("loadedmetadata", () => {
        this.el.currentTime = at;
        if (play) this.el.play().catch(() => {});
      }, { once: true });
      this.el.dispatchEvent(new Event("filechange"));
    } else {
      this.el.currentTime = at;
      if (play) this.el.play().catch(() => {});
    }
  }
  seek(t, play = true) {
    if (!this.files.length) return;
    let index = 0;
    this.files.forEach((f, i) => { if (f.offset <= t + 1e-3) index = i; });
    this.load(index, Math.max(0, t - this.files[index].offset), play);
  }
}

function upperBound(array, value) {
  let lo = 0, hi = array.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (array[mid] <= value) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function renderConversation(data, options) {
  const { conversation } = data;
  const origin = conversation.startTime;
  setTitle(conversation.name);
  const colour = new Map(data.members.map((m, i) => [m.id, PALETTE[i % PALETTE.length]]));
  const named = new Map(data.members.map((m) => [m.id, m]));
  const messages = data.messages.map((m) => ({
    ...m, start: seconds(m.startTime, origin), end: seconds(m.endTime, origin),
  }));
  const byId = new Map(messages.map((m) => [m.id, m]));
  const duration = seconds(conversation.endTime, origin);
  const experience = data.experience || null;
  const video = Boolean(experience && experience.name === "video-summary" && experience.videoUrl);
  const files = video ? [{ url: experience.videoUrl, offset: 0, duration }] : data.media;
  const player = new Player(files, video || files.some((f) => (f.contentType || "").startsWith("video/")));

  // words on one flat timeline, for the highlight and for click-to-seek
  const starts = [], ends = [], spans = [], owner = [];
  const sentenceEls = new Map();

  const jump = (messageId, label) => {
    const m = byId.get(messageId);
    if (!m) return null;
    return h("button", { type: "button", class: "secondary jump", "aria-label": `${label || "Play"} at ${clock(m.start)}`,
      onclick: () => goTo(m) }, `▶ ${clock(m.start)}`);
  };
  const goTo = (m) => {
    player.seek(m.start);
    const el = sentenceEls.get(m.id);
    if (el) {
      el.scrollIntoView({ block: "center" });
      el.classList.remove("flash");
      void el.offsetWidth;
      el.classList.add("flash");
      el.querySelector(".at button").focus({ preventScroll: true });
    }
  };

  // header and actions
  const actions = h("div", { class: "row", id: "actions" });
  if (options.editable) {
    const exportAs = (label, type, ext) => h("button", { type: "button", class: "secondary", onclick: () => exportTranscript(conversation, type, ext) }, label);
    actions.append(
      h("span", { class: "muted" }, "Export:"), exportAs("SRT", "text/srt", "srt"), exportAs("VTT", "text/vtt", "vtt"),
      exportAs("Markdown", "text/markdown", "md"),
      h("button", { type: "button", class: "secondary", onclick: () => download(`${conversation.name}.json`, "application/json",
        JSON.stringify({ conversation, members: data.members, messages: data.messages }, null, 2)) }, "JSON"),
      h("button", { type: "button", class: "secondary", id: "share", onclick: () => shareDialog(conversation) }, "Share link…"),
      h("button", { type: "button", class: "danger", id: "delete", onclick: async () => {
        if (!confirm(`Delete “${conversation.name}” and everything derived from it? This cannot be undone.`)) return;
        try {
          await call(`/v1/conversations/${conversation.id}`, { method: "DELETE" });
          notice(`Deleted “${conversation.name}”.`, "info");
          location.hash = "#/conversations";
        } catch (e) { fail(e); }
      } }, "Delete"),
    );
  }

  // speakers legend with rename
  const legend = h("ul", { class: "speakers", id: "speakers" });
  const drawLegend = () => {
    legend.replaceChildren(...data.members.map((m) => {
      const li = h("li", { dataset: { member: m.id } }, h("span", { class: "swatch", style: { background: colour.get(m.id) }, "aria-hidden": "true" }),
        h("span", { class: "name" }, m.name));
      if (options.rename) {
        li.append(h("button", { type: "button", class: "link", "aria-label": `Rename ${m.name}`, onclick: () => {
          const input = h("input", { value: m.name, "aria-label": `New name for ${m.name}`, required: true, maxlength: 255 });
          const form = h("form", { class: "row", onsubmit: async (e) => {
            e.preventDefault();
            const name = input.value.trim();
            if (!name) return;
            form.querySelector("button").disabled = true;
            try {
              await options.rename(m, name);
              notice(`Renamed to ${name}; insights were recomputed.`, "info");
              refresh();
            } catch (err) { fail(err); drawLegend(); }
          } }, input, h("button", { type: "submit" }, "Save"),
          h("button", { type: "button", class: "secondary", onclick: drawLegend }, "Cancel"));
          li.replaceChildren(h("span", { class: "swatch", style: { background: colour.get(m.id) }, "aria-hidden": "true" }), form);
          input.focus();
          input.select();
        } }, "Rename"));
      }
      return li;
    }));
  };
  drawLegend();

  const refresh = async () => {
    const position = player.now();
    try {
      const fresh = await options.reload();
      renderConversation(fresh, { ...options, start: position, autoplay: false });
    } catch (e) { fail(e); }
  };

  // transcript, rendered in chunks so a long one paints at once and stays responsive
  const follow = h("input", { type: "checkbox", id: "follow", checked: true });
  const transcript = h("div", { class: "transcript", id: "transcript", "aria-label": "Transcript" });
  const moveDialog = options.move ? makeMoveDialog(data.members, async (message, member) => {
    try {
      await options.move(message, member, message.start + (message.end - message.start) * 0.1, message.start + (message.end - message.start) * 0.9);
      notice(`Moved the sentence to ${member.name}.`, "info");
      refresh();
    } catch (e) { fail(e); }
  }) : null;

  const sentence = (m) => {
    const who = named.get(m.from && m.from.id);
    const el = h("div", { class: "sentence", id: `m-${m.id}`, dataset: { member: who ? who.id : "" }, style: { borderLeftColor: colour.get(who && who.id) || UNKNOWN_COLOUR } },
      h("div", { class: "who", style: { color: colour.get(who && who.id) || UNKNOWN_COLOUR } }, who ? who.name : "Unknown speaker"),
      h("div", { class: "at" }, h("button", { type: "button", class: "secondary", "aria-label": `Play from ${clock(m.start)}`, onclick: () => player.seek(m.start) }, clock(m.start))));
    const text = h("p", { class: "text" });
    if (m.words && m.words.length) {
      for (const w of m.words) {
        const span = h("span", { class: "w", dataset: { i: spans.length } }, w.word);
        starts.push(seconds(w.startTime, origin));
        ends.push(seconds(w.endTime, origin));
        spans.push(span);
        owner.push(el);
        text.append(span, " ");
      }
    } else {
      text.textContent = m.text;
    }
    el.append(text);
    if (moveDialog) {
      el.append(h("div", { class: "more" }, h("button", { type: "button", class: "secondary", "aria-label": `Change the speaker of the sentence at ${clock(m.start)}`,
        onclick: () => moveDialog.open(m) }, "Speaker…")));
    }
    sentenceEls.set(m.id, el);
    return el;
  };
  transcript.addEventListener("click", (e) => {
    const span = e.target.closest(".w");
    if (span) player.seek(starts[Number(span.dataset.i)]);
  });

  // insight panels
  const panel = h("aside", { class: "panel", "aria-label": "Insights" });
  const section = (title, id, items, empty) => {
    panel.append(h("section", { id, "aria-labelledby": `${id}-h` }, h("h2", { id: `${id}-h` }, title),
      items.length ? items : h("p", { class: "muted" }, empty)));
  };
  const refOf = (item) => (item.messageIds && item.messageIds[0]) || (item.messageRefs && item.messageRefs[0] && item.messageRefs[0].id);
  section("Summary", "summary", data.summary.length ? [h("ul", {}, data.summary.map((s) => h("li", {}, s.text, jump(refOf(s), "Summary point"))))] : [], "No summary yet.");
  if (options.bookmarks) panel.append(bookmarkPanel(data, options.bookmarks, { player, duration, sentenceEls }));
  if (data.callScore) section("Call score", "call-score", callScorePanel(data.callScore, jump), "");
  section("Talk time and pace", "talk", chart(data.analytics, data.members, colour), "");
  const insightList = (items, extra) => items.length ? [h("ul", {}, items.map((item) => h("li", {}, item.text, extra ? extra(item) : null, jump(refOf(item), item.type))))] : [];
  const person = (p) => (p && p.name ? p.name : null);
  section("Action items", "action-items", insightList(data.actionItems, (item) => {
    const bits = [person(item.assignee) && `assignee: ${person(item.assignee)}`, item.dueBy && `due ${new Date(item.dueBy).toLocaleDateString()}`].filter(Boolean);
    return bits.length ? h("span", { class: "muted" }, ` (${bits.join(", ")})`) : null;
  }), "No action items.");
  section("Questions", "questions", insightList(data.questions), "No questions.");
  section("Follow-ups", "follow-ups", insightList(data.followUps), "No follow-ups.");
  section("Topics", "topics", data.topics.length ? [h("ul", { class: "chips" }, data.topics.map((t) => h("li", {},
    h("button", { type: "button", class: "secondary jump", onclick: () => byId.get(refOf(t)) && goTo(byId.get(refOf(t))) }, t.text))))] : [], "No topics.");
  const entityRef = (e) => { const m = (e.matches || []).find((x) => x.messageRefs && x.messageRefs.length); return m ? m.messageRefs[0].id : null; };
  section("Entities", "entities", data.entities.length ? [h("ul", {}, data.entities.map((e) => h("li", {},
    h("span", { class: "muted" }, `${e.type}${e.subType ? "/" + e.subType : ""}: `), String(e.value || e.text || ""), jump(entityRef(e), "Entity"))))] : [], "No entities.");
  section("Trackers", "trackers", data.trackers.length ? [h("ul", {}, data.trackers.map((t) => {
    const refs = (t.matches || []).flatMap((m) => m.messageRefs || []);
    return h("li", {}, `${t.name} (${refs.length})`, refs.slice(0, 5).map((r) => jump(r.id, t.name)));
  }))] : [], "No trackers matched.");

  const fileNote = files.length > 1
    ? h("ol", { class: "files muted", "aria-label": "Files on this timeline" }, files.map((f, i) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => player.seek(f.offset) }, `File ${i + 1}`), ` from ${clock(f.offset)} (${clock(f.duration)})`)))
    : null;
  const playerBox = h("div", { class: "player", role: "region", "aria-label": "Player" },
    files.length ? player.el : h("p", { class: "muted" }, "No stored audio for this conversation."),
    h("div", { class: "row" }, h("div", { class: "check", style: { marginBottom: 0 } }, follow, h("label", { for: "follow" }, "Follow playback")),
      h("span", { class: "muted", id: "position", "aria-live": "off" }, `0:00 / ${clock(duration)}`)),
    fileNote);
  const left = h("section", { "aria-label": "Recording and transcript" }, playerBox,
    h("h2", {}, "Speakers"), legend,
    h("h2", {}, "Transcript ", h("span", { class: "muted" }, `(${messages.length} sentences)`)), transcript);
  const meta = h("p", { class: "muted" }, `${when(conversation.startTime)} · ${clock(duration)} · ${data.members.length} speaker${data.members.length === 1 ? "" : "s"}`);
  show(h("h1", {}, conversation.name), meta, actions, h("div", { class: "conv" }, left, panel));
  if (moveDialog) main.append(moveDialog.el);

  // highlight the word being spoken
  let current = -1, currentSentence = null, raf = 0;
  const position = document.getElementById("position");
  const tick = () => {
    const t = player.now();
    position.textContent = `${clock(t)} / ${clock(duration)}`;
    let i = upperBound(starts, t) - 1;
    if (i >= 0 && t > ends[i] + 0.5) i = -1;
    if (i !== current) {
      if (current >= 0) spans[current].classList.remove("now");
      if (i >= 0) spans[i].classList.add("now");
      current = i;
      const s = i >= 0 ? owner[i] : null;
      if (s && s !== currentSentence) {
        if (currentSentence) currentSentence.classList.remove("current");
        s.classList.add("current");
        currentSentence = s;
        if (follow.checked && !player.el.paused) s.scrollIntoView({ block: "nearest" });
      }
    }
  };
  const loop = () => { tick(); raf = player.el.paused ? 0 : requestAnimationFrame(loop); };
  for (const name of ["timeupdate", "seeked", "filechange"]) player.el.addEventListener(name, tick);
  player.el.addEventListener("play", () => { if (!raf) raf = requestAnimationFrame(loop); });
  player.el.addEventListener("error", () => {
    if (player.el.error) notice("The recording could not be played in this browser (unsupported format or no longer stored).");
  });
  cleanup = () => { cancelAnimationFrame(raf); player.el.pause(); if (moveDialog) moveDialog.el.close(); };

  let next = 0;
  window.parleyFirstPaint = 0; // the bench reads these: first sentences shown, all shown
  const renderChunk = () => {
    const fragment = document.createDocumentFragment();
    for (const end = Math.min(messages.length, next + CHUNK); next < end; next++) fragment.append(sentence(messages[next]));
    transcript.append(fragment);
    if (!window.parleyFirstPaint) window.parleyFirstPaint = performance.now();
    if (next < messages.length) return requestAnimationFrame(renderChunk);
    document.body.dataset.ready = "true";
    window.parleyReady = performance.now();
    if (options.start !== null && options.start !== undefined) {
      const target = messages[Math.max(0, upperBound(messages.map((m) => m.start), options.start + 1e-3) - 1)];
      player.seek(options.start, false);
      if (target) sentenceEls.get(target.id).scrollIntoView({ block: "center" });
    }
  };
  document.body.dataset.ready = "false";
  renderChunk();
}

/**
 * The bookmarks section: add one at the player's position (label, description, the app's
 * default length), list them in time order, jump the player to one, delete one.
 */
function bookmarkPanel(data, api, { player, duration, sentenceEls }) {
  let marks = inOrder(data.bookmarks || []);
  const list = h("ul", { id: "bookmark-list", class: "bookmarks" });
  const go = (b) => {
    player.seek(b.beginTimeOffset);
    const first = b.messageRefs && b.messageRefs[0] && sentenceEls.get(b.messageRefs[0].id);
    if (first) first.scrollIntoView({ block: "center" });
  };
  const draw = () => {
    list.replaceChildren(...marks.map((b) => h("li", { dataset: { bookmark: b.id } },
      h("button", { type: "button", class: "secondary jump", "aria-label": `Go to bookmark ${b.label} at ${clock(b.beginTimeOffset)}`,
        onclick: () => go(b) }, `▶ ${clock(b.beginTimeOffset)}`),
      " ", h("strong", { class: "label" }, b.label),
      h("span", { class: "muted" }, ` ${b.description} (${clock(b.duration)})`),
      h("button", { type: "button", class: "link", "aria-label": `Delete bookmark ${b.label}`, onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          await api.remove(b);
          marks = marks.filter((x) => x.id !== b.id);
          draw();
          notice(`Deleted the bookmark “${b.label}”.`, "info");
        } catch (err) { fail(err); draw(); }
      } }, "Delete"))));
    if (!marks.length) list.replaceChildren(h("li", { class: "muted empty" }, "No bookmarks yet."));
  };
  const label = h("input", { required: true, maxlength: 255, autocomplete: "off" });
  const description = h("input", { required: true, maxlength: 1024, autocomplete: "off" });
  const form = h("form", { id: "bookmark-form", class: "bookmark-form", onsubmit: async (e) => {
    e.preventDefault();
    if (!label.value.trim() || !description.value.trim()) return;
    const body = bookmarkBody({ at: player.now(), label: label.value, description: description.value,
      duration: data.bookmarkDuration, length: duration, user: { name: "Parley console" } });
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      marks = inOrder([...marks, await api.add(body)]);
      draw();
      form.reset();
      notice(`Bookmarked ${clock(body.beginTimeOffset)}–${clock(body.beginTimeOffset + body.duration)}.`, "info");
    } catch (err) { fail(err); } finally { button.disabled = false; }
  } },
  field("bookmark-label", "Label", label), field("bookmark-description", "Description", description),
  h("button", { type: "submit" }, "Bookmark the current time"),
  h("p", { class: "hint" }, `${clock(data.bookmarkDuration)} from the player's position (the app's default length).`));
  draw();
  return h("section", { id: "bookmarks", "aria-labelledby": "bookmarks-h" }, h("h2", { id: "bookmarks-h" }, "Bookmarks"), list, form);
}

// The call score: each criterion's score, its feedback, and the evidence behind it (the
// messages that earned or cost points), each a button that plays from that sentence.
function callScorePanel(result, jump) {
  if (result.error) return [h("p", { class: "muted" }, result.error)];
  const meter = (value, label) => h("meter", { min: 0, max: 100, low: 50, high: 75, optimum: 100, value, "aria-label": label });
  return [
    h("p", { class: "score" }, h("strong", {}, `${result.score}`), " / 100 ", meter(result.score, "Call score")),
    h("p", {}, result.summary),
    ...result.criteria.map((c) => h("details", { class: "criterion" },
      h("summary", {}, `${c.name}: `, h("strong", {}, String(c.score)), " ", meter(c.score, c.name)),
      h("p", {}, c.summary),
      h("p", { class: "good" }, h("span", { class: "muted" }, "Went well: "), c.feedback.positive.summary),
      h("p", { class: "bad" }, h("span", { class: "muted" }, "To improve: "), c.feedback.negative.summary),
      (c.evidence || []).length ? h("ul", { class: "evidence", "aria-label": `Evidence for ${c.name}` }, c.evidence.map((e) => h("li", { class: e.effect },
        h("span", { "aria-label": e.effect === "positive" ? "earned points" : "cost points" }, e.effect === "positive" ? "+ " : "− "),
        e.reason, " ", e.messageIds.map((id) => jump(id, e.reason))))) : null)),
  ];
}

function chart(analytics, members, colour) {
  const rows = (analytics.members || []).filter((m) => m.id);
  if (!rows.length) return [];
  const names = new Map(members.map((m) => [m.id, m.name]));
  return [h("div", { class: "chart", role: "table", "aria-label": "Talk time and pace per speaker" },
    h("span", { role: "row", style: { display: "contents" } },
      h("span", { role: "columnheader", class: "muted" }, "Speaker"), h("span", { role: "columnheader", class: "muted" }, "Talk time"),
      h("span", { role: "columnheader", class: "muted" }, "Pace")),
    rows.map((m) => h("span", { role: "row", style: { display: "contents" } },
      h("span", { role: "cell" }, names.get(m.id) || m.name),
      h("span", { role: "cell", class: "track", title: `${m.talkTime.percentage.toFixed(0)} %` },
        h("span", { class: "fill", style: { width: `${m.talkTime.percentage}%`, background: colour.get(m.id) || UNKNOWN_COLOUR, display: "block" } }),
      ),
      h("span", { role: "cell" }, `${clock(m.talkTime.seconds)} · ${m.talkTime.percentage.toFixed(0)} % · ${m.pace.wpm} wpm`))))];
}

function makeMoveDialog(members, onMove) {
  let message = null;
  const select = h("select", { id: "move-to" }, members.map((m) => h("option", { value: m.id }, m.name)));
  const quote = h("p", { class: "muted" });
  const el = h("dialog", { id: "move-dialog", "aria-labelledby": "move-h" },
    h("form", { method: "dialog", onsubmit: (e) => {
      if (e.submitter && e.submitter.value === "move" && message) {
        onMove(message, members.find((m) => m.id === select.value));
      }
    } },
      h("h2", { id: "move-h" }, "Change the speaker"), quote,
      h("div", { class: "field" }, h("label", { for: "move-to" }, "Said by"), select),
      h("div", { class: "row" }, h("button", { value: "move", type: "submit" }, "Move"),
        h("button", { value: "cancel", type: "submit", class: "secondary" }, "Cancel"))));
  return {
    el,
    open(m) {
      message = m;
      quote.textContent = `“${m.text}”`;
      if (m.from && m.from.id) select.value = m.from.id;
      el.showModal();
      select.focus();
    },
  };
}

async function exportTranscript(conversation, type, ext) {
  try {
    const data = await call(`/v1/conversations/${conversation.id}/transcript?contentType=${encodeURIComponent(type)}`);
    download(`${conversation.name}.${ext}`, type, data.transcript.payload);
  } catch (e) { fail(e); }
}

function shareDialog(conversation) {
  const out = h("input", { class: "share-url", id: "share-url", readonly: true, "aria-label": "Shareable link" });
  const error = h("p", { class: "reason", role: "alert" });
  const el = h("dialog", { id: "share-dialog", "aria-labelledby": "share-h" },
    h("form", { id: "share-form", onsubmit: async (e) => {
      e.preventDefault();
      const form = new FormData(e.target);
      const days = parseFloat(form.get("days"));
      try {
        const made = await call(`/v1/conversations/${conversation.id}/experiences`, { method: "POST", body: {
          name: "audio-summary", readOnly: Boolean(form.get("readOnly")),
          summaryURLExpiresIn: isNaN(days) ? 0 : Math.round(days * 86400) } });
        out.value = made.url;
        out.focus();
        out.select();
      } catch (err) { error.textContent = err.message; }
    } },
      h("h2", { id: "share-h" }, "Share a read-only page"),
      h("div", { class: "field" }, h("label", { for: "share-days" }, "Expires after (days, 0 = never)"),
        h("input", { id: "share-days", name: "days", type: "number", min: 0, step: "any", value: "30" })),
      check("readOnly", "Read-only (no speaker renaming)", { checked: true }),
      error, out,
      h("div", { class: "row", style: { marginTop: ".75rem" } }, h("button", { type: "submit" }, "Create link"),
        h("button", { type: "button", class: "secondary", onclick: () => { el.close(); el.remove(); } }, "Close"))));
  main.append(el);
  el.showModal();
}

// -- the shared page (Experience API) ------------------------------------------------------

function brand(experience) {
  const root = document.documentElement.style;
  const color = experience.color || {};
  if (color.background) document.querySelector(".bar").style.background = color.background;
  if (color.topicsFilter) root.setProperty("--accent", color.topicsFilter);
  if (color.insightsFilter) root.setProperty("--now", color.insightsFilter);
  if (experience.font && experience.font.family) root.setProperty("--font", `${experience.font.family}, system-ui, sans-serif`);
  if (experience.logo) {
    const logo = document.getElementById("logo");
    logo.src = experience.logo;
    logo.alt = "Logo";
    logo.hidden = false;
  }
  if (experience.favicon) {
    const icon = document.getElementById("favicon");
    icon.removeAttribute("type");
    icon.href = experience.favicon;
  }
}

async function sharedPage(token) {
  document.getElementById("nav").hidden = true;
  document.getElementById("brand").removeAttribute("href");
  const base = `/experiences/${token}`;
  const load = async () => {
    const data = await call(`${base}/data`, { auth: false });
    data.summary = data.summary || [];
    return data;
  };
  let data;
  try {
    data = await load();
  } catch (e) {
    setTitle("Shared conversation");
    const expiredLink = e.status === 401;
    show(h("h1", {}, expiredLink ? "This link has expired" : "This shared page is not available"),
      h("p", { class: "reason" }, e.message),
      h("p", {}, "Ask the person who shared it for a new link."));
    return;
  }
  brand(data.experience);
  const editable = !data.experience.readOnly;
  renderConversation(data, {
    editable: false,
    start: null,
    rename: editable ? (member, name) => call(`${base}/members/${member.id}`, { method: "PUT", body: { name }, auth: false }) : null,
    move: null,
    reload: load,
  });
}

window.addEventListener("hashchange", route);
document.getElementById("signout").addEventListener("click", () => {
  session.token = null;
  notice("");
  location.hash = "#/signin";
});
route();
