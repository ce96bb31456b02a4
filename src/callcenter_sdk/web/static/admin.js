// Administration: for each campaign one administers, its seats, whether it takes calls,
// and its queues' settings. Every change is checked again by the server.
"use strict";

const $ = (id) => document.getElementById(id);
const SETTINGS = ["offer_timeout", "wrap_up", "max_wait", "service_level_threshold", "max_length",
  "retry", "announce_every"];

async function load() {
  let data;
  try {
    data = await api("GET", "/api/seats");
  } catch (error) {
    say(error.message, true);
    return;
  }
  if (!data.campaigns.length) {
    $("campaigns").replaceChildren(el("p", {class: "muted"}, t("nothing_to_manage")));
    return;
  }
  $("campaigns").replaceChildren(...data.campaigns.map((c) => campaign(c, data.centers[c.center] || [])));
}

async function done(answer) {
  if (answer) {
    await load();
    say(t("saved"));
  }
}

function running(c) {
  const url = "/api/campaigns/" + encodeURIComponent(c.id);
  const state = el("span", {class: "badge campaign-state " + (c.stopped ? "stopped" : "running")},
    t(c.stopped ? "stopped" : "running"));
  if (!c.may_run) return el("p", {}, state);
  const button = c.stopped
    ? el("button", {type: "button", class: "go start-campaign",
      onclick: async () => done(await command("POST", url + "/start"))}, t("start_campaign"))
    : el("button", {type: "button", class: "stop stop-campaign",
      onclick: async () => done(await command("POST", url + "/stop"))}, t("stop_campaign"));
  return el("p", {class: "row"}, state, " ", button);
}

function seatsOf(c, seats) {
  if (!c.may_seats) return null;
  const boxes = seats.map((s) => {
    const mine = s.campaign === c.id, other = s.campaign && !mine;
    const title = other ? t("taken_by") + " " + s.campaign : mine ? c.id : t("free");
    return el("label", {class: "seat" + (mine ? " mine" : other ? " other" : "") + (s.position ? " phone" : ""), title},
      el("input", {type: "checkbox", value: s.number, checked: mine, disabled: Boolean(other),
        dataset: {seat: s.number}}), " " + s.number, s.agent ? el("small", {}, " " + s.agent) : null);
  });
  const box = el("div", {class: "seats"}, ...boxes);
  const save = el("button", {type: "button", class: "go save", onclick: async () => {
    const ticked = new Set([...box.querySelectorAll("input:checked:not(:disabled)")].map((i) => Number(i.value)));
    const had = new Set(c.seats);
    const added = [...ticked].filter((n) => !had.has(n));
    const removed = [...had].filter((n) => !ticked.has(n));
    const url = "/api/campaigns/" + encodeURIComponent(c.id) + "/seats";
    let ok = true;
    if (added.length) ok = Boolean(await command("POST", url, {seats: added}));
    if (ok && removed.length) ok = Boolean(await command("POST", url + "/release", {seats: removed}));
    if (added.length || removed.length) await done(ok);
  }}, t("save_seats"));
  return el("div", {class: "seat-allocation"},
    el("p", {class: "allocated"}, t("seats") + ": " + (c.seats.join(", ") || t("none")) + " (" + c.seats.length + ")"),
    box, save);
}

function queueSettings(q) {
  const inputs = SETTINGS.map((name) => el("label", {class: "setting"}, t("setting_" + name), " ",
    el("input", {type: "number", min: "0", step: "any", size: 6, name, disabled: !q.may_configure,
      value: q.settings[name] === null ? "" : String(q.settings[name]), dataset: {setting: name}})));
  const form = el("div", {class: "row queue-settings", dataset: {queue: q.queue}},
    el("strong", {}, q.queue), ...inputs);
  if (q.may_configure) {
    form.append(el("button", {type: "button", class: "save-settings", onclick: async () => {
      const settings = {};
      for (const input of form.querySelectorAll("input[data-setting]")) {
        const name = input.dataset.setting, before = q.settings[name];
        const value = input.value.trim() === "" ? null : Number(input.value);
        if (value !== before) settings[name] = value;
      }
      if (!Object.keys(settings).length) return;
      const url = "/api/queues/" + encodeURIComponent(q.queue) + "/settings";
      await done(await command("POST", url, {settings}));
    }}, t("save_settings")));
  }
  return form;
}

function campaign(c, seats) {
  return el("section", {class: "panel", dataset: {campaign: c.id}},
    el("h2", {}, t("campaign") + " " + c.name + " · " + c.center),
    running(c),
    seatsOf(c, seats),
    c.queues.length ? el("h3", {}, t("queue_settings")) : null,
    ...c.queues.map(queueSettings));
}

load();
