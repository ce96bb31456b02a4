// Shared by every page: words, the CSRF token, REST calls, live events, small helpers.
"use strict";

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const CONFIG = JSON.parse(document.getElementById("config").textContent);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;

function t(key) {
  return Object.prototype.hasOwnProperty.call(TEXTS, key) ? TEXTS[key] : key;
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || "HTTP " + status);
    this.status = status;
    this.body = body;
  }
}

// A REST call as the signed-in person; commands carry the session's CSRF token.
async function api(method, path, body) {
  const init = {method, credentials: "same-origin", headers: {"X-CSRF-Token": CSRF}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(path, init);
  const data = await answer.json().catch(() => ({}));
  if (answer.status === 401 && path !== "/api/login") {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
  }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

function say(text, bad) {
  const box = document.getElementById("message");
  if (!box) return;
  box.textContent = text;
  box.classList.toggle("bad", Boolean(bad));
}

// Run a command from a button; show its refusal instead of throwing.
async function command(method, path, body) {
  try {
    const answer = await api(method, path, body);
    say("");
    return answer;
  } catch (error) {
    say(error.message, true);
    return null;
  }
}

// Live events: one EventSource, re-created from the last id if the browser gives up
// (a non-200 answer to a reconnect closes it for good). Ids are the event log's
// sequence numbers, so an event seen before (a replay after a reconnect) is dropped.
function live(path, kinds, onEvent) {
  let last = null;
  let source = null;
  const mark = document.getElementById("live");
  function open() {
    const url = last === null ? path : path + (path.includes("?") ? "&" : "?") + "from=" + last;
    source = new EventSource(url);
    source.onopen = () => { if (mark) { mark.textContent = "● " + t("live"); mark.classList.remove("down"); } };
    source.onerror = () => {
      if (mark) { mark.textContent = "○ " + t("reconnecting"); mark.classList.add("down"); }
      if (source.readyState === EventSource.CLOSED) setTimeout(open, 1000);
    };
    for (const kind of kinds) {
      source.addEventListener(kind, (message) => {
        const seq = Number(message.lastEventId);
        if (Number.isInteger(seq) && seq > 0) {
          if (last !== null && seq <= last) return;
          last = seq;
        }
        let data = {};
        try { data = JSON.parse(message.data); } catch (error) { return; }
        onEvent(kind, data, seq);
      });
    }
  }
  open();
  return () => source.close();
}

// Seconds the server's clock is ahead of this browser's (answers carry "now").
let clockOffset = 0;
function learnClock(now) {
  if (typeof now === "number") clockOffset = now - Date.now() / 1000;
}
function serverNow() {
  return Date.now() / 1000 + clockOffset;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  const sign = seconds < 0 ? "-" : "";
  let s = Math.floor(Math.abs(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
  return sign + (h ? h + ":" + mm + ":" + ss : mm + ":" + ss);
}

function percent(share) {
  return share === null || share === undefined ? "–" : Math.round(share * 100) + " %";
}

// Build an element: el("td", {class: "x", dataset: {agent: "a"}}, "text", child...)
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function fill(select, values, label) {
  const keep = select.value;
  select.replaceChildren(...values.map((v) => el("option", {value: v}, label ? label(v) : v)));
  if (values.includes(keep)) select.value = keep;
}

function on(id, handler) {
  document.getElementById(id).addEventListener("click", handler);
}

const signout = document.getElementById("signout");
if (signout) {
  signout.addEventListener("click", async () => {
    await command("POST", "/api/logout");
    location.href = "/login";
  });
}
