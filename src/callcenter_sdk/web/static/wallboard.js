// The supervisor's wallboard: queues, agents, alerts, monitoring and the service-level chart.
"use strict";

const $ = (id) => document.getElementById(id);
let board = null;
const monitoring = {};  // agent -> mode, from runtime.monitoring_started

async function refresh() {
  try {
    board = await api("GET", "/api/wallboard");
    learnClock(board.now);
    if (!$("device").value && board.me.device) $("device").value = board.me.device;
    render();
  } catch (error) {
    say(error.message, true);
  }
}

let pending = null;
function soon() {  // many events in a burst: one read
  if (pending === null) pending = setTimeout(() => { pending = null; refresh(); }, 200);
}

function states(byState) {
  return Object.entries(byState).sort().map(([state, n]) => t(state) + " " + n).join(" · ") || "–";
}

function render() {
  if (!board) return;
  $("queues").tBodies[0].replaceChildren(...board.queues.map((q) => el("tr", {dataset: {queue: q.queue}},
    el("th", {}, q.queue),
    el("td", {class: "waiting"}, q.waiting),
    el("td", {class: "longest-wait", dataset: {since: serverNow() - q.longest_wait}}, duration(q.longest_wait)),
    el("td", {class: "service-level" + (q.service_level !== null && q.service_level < board.target ? " bad" : "")}, percent(q.service_level)),
    el("td", {class: "service-level-interval"}, percent(q.service_level_interval)),
    el("td", {class: "asa"}, q.asa === null ? "–" : duration(q.asa)),
    el("td", {class: "answered"}, q.answered),
    el("td", {class: "abandon-rate"}, percent(q.abandon_rate), " ",
      el("small", {class: "short-abandons"}, "(" + q.abandoned + " " + t("abandoned").toLowerCase() +
        ", " + q.short_abandons + " " + t("short_abandons") + ")")),
    el("td", {class: "by-state"}, states(q.agents_by_state)))));

  // The floor manager's view: every team shown, and the agents of the one picked.
  $("teams-panel").hidden = board.teams.length < 2;
  fill($("team-filter"), ["", ...board.teams.map((x) => x.team)],
    (id) => id ? (board.teams.find((x) => x.team === id) || {}).name || id : t("all_teams"));
  $("teams").tBodies[0].replaceChildren(...board.teams.map((x) => el("tr", {dataset: {team: x.team}},
    el("td", {class: "floor"}, x.floor_name),
    el("th", {}, el("a", {href: "#agents", onclick: () => pick(x.team)}, x.name)),
    el("td", {class: "campaign"}, x.campaign),
    el("td", {class: "supervisor"}, x.supervisor || "–"),
    el("td", {class: "agents"}, x.agents),
    el("td", {class: "by-state"}, states(x.agents_by_state)),
    el("td", {class: "stuck" + (x.stuck ? " bad" : "")}, x.stuck))));
  const only = $("team-filter").value;
  const shown = board.agents.filter((a) => !only || a.team === only);

  $("agents").tBodies[0].replaceChildren(...shown.map((a) => el("tr", {dataset: {agent: a.agent, state: a.state, team: a.team}},
    el("th", {}, a.name, el("br"), el("small", {class: "muted"}, a.agent)),
    el("td", {class: "state state-" + a.state}, t(a.state)),
    el("td", {class: "reason"}, a.state === "not_ready" ? a.reason : ""),
    el("td", {class: "since", dataset: {since: a.since === null ? "" : a.since}}, ""),
    el("td", {class: "contact"}, a.contact),
    el("td", {class: "monitor"},
      ...a.may.map((mode) => el("button", {type: "button", class: "monitor-" + mode, disabled: a.state !== "busy",
        onclick: () => monitor(a.agent, mode)}, t(mode))),
      a.take_over ? el("button", {type: "button", class: "take-over", disabled: a.state !== "busy",
        onclick: () => takeOver(a.agent)}, t("take_over")) : null,
      monitoring[a.agent] ? el("span", {class: "monitoring"}, " ◉ " + t(monitoring[a.agent])) : null))));

  const alerts = board.alerts.map((x) => el("li", {class: "alert", dataset: {kind: x.kind}},
    x.kind === "service_level" ? x.queue + ": " + t("alert_service_level") + " (" + percent(x.value) + ")"
      : x.kind === "longest_wait" ? x.queue + ": " + t("alert_longest_wait") + " (" + duration(x.value) + ")"
      : x.agent + ": " + t("alert_stuck") + " (" + t(x.value) + ")"));
  $("alerts").replaceChildren(...(alerts.length ? alerts : [el("li", {class: "muted"}, t("no_alerts"))]));
  chart();
  tick();
}

function tick() {
  const now = serverNow();
  for (const cell of document.querySelectorAll("#agents td.since")) {
    cell.textContent = cell.dataset.since ? duration(now - Number(cell.dataset.since)) : "–";
  }
}
setInterval(tick, 500);

// Service level by interval, one bar per interval and queue, drawn as inline SVG.
function chart() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const series = board.queues.filter((q) => q.chart.length);
  const starts = [...new Set(series.flatMap((q) => q.chart.map((p) => p.start)))].sort((a, b) => a - b);
  const width = Math.max(320, 60 + starts.length * (12 * series.length + 16)), height = 180;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("chart"));
  const add = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  const top = 10, bottom = height - 30, y = (share) => bottom - share * (bottom - top);
  for (const share of [0, 0.5, 1]) {
    add("line", {x1: 40, x2: width, y1: y(share), y2: y(share), class: "grid"});
    add("text", {x: 4, y: y(share) + 4, class: "axis"}, Math.round(share * 100) + "%");
  }
  add("line", {x1: 40, x2: width, y1: y(board.target), y2: y(board.target), class: "target"});
  starts.forEach((start, i) => {
    const x0 = 50 + i * (12 * series.length + 16);
    series.forEach((q, k) => {
      const point = q.chart.find((p) => p.start === start);
      if (!point || point.service_level === null) return;
      add("rect", {x: x0 + k * 12, y: y(point.service_level), width: 10,
        height: bottom - y(point.service_level), class: "bar bar-" + (k % 4),
        "data-queue": q.queue, "data-start": start}).append(
        Object.assign(document.createElementNS(ns, "title"), {textContent: q.queue + " " + percent(point.service_level)}));
    });
    const label = new Date(start * 1000).toLocaleTimeString(document.documentElement.lang, {hour: "2-digit", minute: "2-digit"});
    add("text", {x: x0, y: height - 12, class: "axis"}, label);
  });
  series.forEach((q, k) => add("text", {x: 50 + k * 90, y: height - 1, class: "legend legend-" + (k % 4)}, "■ " + q.queue));
  $("chart").replaceChildren(svg);
}

function pick(team) {
  $("team-filter").value = team;
  render();
}
$("team-filter").addEventListener("change", render);

async function monitor(agent, mode) {
  const device = $("device").value.trim();
  const answer = await command("POST", "/api/agents/" + encodeURIComponent(agent) + "/monitor", {mode, device});
  if (answer) say(t("monitoring") + ": " + agent + " (" + t(mode) + ")");
}

async function takeOver(agent) {
  const device = $("device").value.trim();
  const answer = await command("POST", "/api/agents/" + encodeURIComponent(agent) + "/take-over", {device});
  if (answer) say(t("taking_over") + ": " + agent);
}

const KINDS = [
  "acd.agent_state_changed", "acd.contact_entered_queue", "acd.contact_offered", "acd.contact_connected",
  "acd.contact_completed", "acd.contact_abandoned", "acd.contact_transferred", "acd.contact_timed_out",
  "acd.contact_exited", "acd.contact_overflowed", "acd.callback_requested", "runtime.monitoring_started",
  "runtime.contact_disposed", "runtime.call_taken_over",
];
// The floor's activity, newest first: each event of the log once, even across reconnects.
const ACTIVITY = 50;
const VERBS = {
  "acd.contact_entered_queue": "ev_entered", "acd.contact_offered": "ev_offered",
  "acd.contact_connected": "ev_connected", "acd.contact_completed": "ev_completed",
  "acd.contact_abandoned": "ev_abandoned",
};
function activity(kind, data, seq) {
  const list = $("activity");
  if (!list.querySelector("li[data-seq]")) list.replaceChildren();
  const when = new Date((data.at || 0) * 1000).toLocaleTimeString(document.documentElement.lang);
  let what;
  if (kind === "acd.agent_state_changed") {
    what = data.agent_id + ": " + t(data.state) + (data.reason ? " (" + data.reason + ")" : "");
  } else if (VERBS[kind]) {
    const who = kind === "acd.contact_entered_queue" || kind === "acd.contact_abandoned" ? data.queue : data.agent_id;
    what = data.contact_id + " " + t(VERBS[kind]) + " " + (who || data.queue || "");
  } else {
    what = kind.split(".").pop().replaceAll("_", " ") + " " + (data.contact_id || data.agent_id || "");
  }
  list.prepend(el("li", {dataset: {seq: String(seq), kind}}, el("time", {}, when), " ", what));
  while (list.children.length > ACTIVITY) list.lastElementChild.remove();
}

live("/api/events", KINDS, (kind, data, seq) => {
  if (kind === "runtime.monitoring_started") monitoring[data.agent_id] = data.mode;
  activity(kind, data, seq);
  soon();
});
setInterval(refresh, 5000);
refresh();
