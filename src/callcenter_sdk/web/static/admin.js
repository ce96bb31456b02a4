// Administration: pick seats of the center for each campaign one manages.
"use strict";

const $ = (id) => document.getElementById(id);

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
  $("campaigns").replaceChildren(...data.campaigns.map((c) => campaign(c, data.centers[c.center])));
}

function campaign(c, seats) {
  const boxes = seats.map((s) => {
    const mine = s.campaign === c.id, other = s.campaign && !mine;
    const title = other ? t("taken_by") + " " + s.campaign : mine ? c.id : t("free");
    return el("label", {class: "seat" + (mine ? " mine" : other ? " other" : "") + (s.position ? " phone" : ""), title},
      el("input", {type: "checkbox", value: s.number, checked: mine, disabled: Boolean(s.campaign),
        dataset: {seat: s.number}}), " " + s.number, s.agent ? el("small", {}, " " + s.agent) : null);
  });
  const save = el("button", {type: "button", class: "go save", onclick: async () => {
    const picked = [...box.querySelectorAll("input:checked:not(:disabled)")].map((i) => Number(i.value));
    if (!picked.length) return;
    if (await command("POST", "/api/campaigns/" + encodeURIComponent(c.id) + "/seats", {seats: picked})) {
      await load();
      say(t("saved"));
    }
  }}, t("save_seats"));
  const box = el("section", {class: "panel", dataset: {campaign: c.id}},
    el("h2", {}, t("campaign") + " " + c.name + " · " + c.center),
    el("p", {class: "allocated"}, t("seats") + ": " + (c.seats.join(", ") || t("none")) + " (" + c.seats.length + ")"),
    el("div", {class: "seats"}, ...boxes), save);
  return box;
}

load();
