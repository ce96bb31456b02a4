// The agent desktop: state, ringing offer, screen pop, ticket and SLA clocks,
// knowledge, transfers, wrap-up and disposition, back-office work, and written
// conversations (chats, e-mails, SMS, social messages): offered, then one pane each.
"use strict";

const ME = CONFIG.agent;
const AGENT = "/api/agents/" + encodeURIComponent(ME);
const contactUrl = (c) => "/api/contacts/" + encodeURIComponent(c);
const $ = (id) => document.getElementById(id);

let status = null;        // my status from /api/desk
let offer = null;         // {contact, queue, expires_at} while my phone rings
let pop = null;           // the screen pop of the ringing or current contact
let ticket = null;        // the current contact's ticket (with its SLA due times)
let ticketContact = null; // the contact that ticket belongs to
let suggestions = null;   // {contact, questions, articles}
let disposed = {};        // contact -> disposition
let work = [];            // my desk work without a phone: [{contact, channel, state}]
const deskWork = new Set();   // every contact seen as desk work (never a call)
let conversations = {};   // contact -> its conversation (GET .../messages)
const readAs = {};        // contact -> the state of its work when its conversation was read
let pendingOffer = null;  // an offer not yet told apart from desk work
let asks = 0, applied = 0;    // /api/desk reads asked, and the latest one shown
let script = null;        // the current call's script step (GET .../script), null without one
let scriptContact = null; // the contact that step belongs to

const WRITTEN = ["chat", "email", "sms", "social"];

fill($("pause-reason"), CONFIG.pause_reasons);
fill($("disposition"), CONFIG.dispositions);
fill($("transfer-queue"), CONFIG.queues);

function current() {
  if (!status) return "";
  return status.contacts.find((c) => !deskWork.has(c)) || status.wrap_up.find((c) => !deskWork.has(c)) || "";
}

async function refresh() {
  const ask = ++asks;
  try {
    const desk = await api("GET", "/api/desk");
    if (ask < applied) return;  // a later read is shown already
    applied = ask;
    learnClock(desk.now);
    status = desk.status;
    work = desk.work || [];
    for (const w of work) deskWork.add(w.contact);
    if (pendingOffer && ask > pendingOffer.after) {  // read after the offer: it is known
      if (!deskWork.has(pendingOffer.contact)) offer = pendingOffer;
      pendingOffer = null;
    }
    for (const w of work) {  // read again once accepted: lines may have come while offered
      if (WRITTEN.includes(w.channel) && w.state !== "wrap_up" && readAs[w.contact] !== w.state) {
        readAs[w.contact] = w.state;
        loadConversation(w.contact);
      }
    }
    for (const c of Object.keys(conversations)) {
      if (!work.some((w) => w.contact === c)) delete conversations[c];
    }
    fill($("position"), desk.positions.filter((p) => !p.taken_by || p.taken_by === ME).map((p) => p.id));
    if (desk.current) $("position").value = desk.current;
    $("current-position").textContent = desk.current ? t("position") + " " + desk.current : t("no_position");
  } catch (error) {
    say(error.message, true);
  }
  render();
  const contact = current();
  if (contact && contact !== ticketContact && !contact.startsWith("ticket:")) loadTicket(contact);
  if (contact !== scriptContact) loadScript(contact);
}

// The campaign's script on the current call: one step at a time, answers recorded.
async function loadScript(contact) {
  scriptContact = contact;
  script = null;
  if (contact && !contact.startsWith("ticket:")) {
    try {
      const step = await api("GET", contactUrl(contact) + "/script");
      if (scriptContact === contact) script = step;
    } catch (error) { /* no script for this campaign */ }
  }
  renderScript();
}

async function answerScript(body) {
  const contact = scriptContact;
  const step = await command("POST", contactUrl(contact) + "/script", body);
  if (step && scriptContact === contact) {
    script = step;
    renderScript();
  }
}

function renderScript() {
  show("script", Boolean(script));
  if (!script) return;
  $("script-title").textContent = script.title || script.questionnaire;
  $("script-converted").hidden = script.converted !== true;
  $("script-text").textContent = script.done ? t("script_done") : script.text;
  const controls = [];
  if (!script.done) {
    const answer = (value) => el("button", {type: "button", class: "answer", dataset: {answer: value},
      onclick: () => answerScript({answer: value})}, value);
    if (script.kind === "info") {
      controls.push(el("button", {type: "button", class: "go script-next", onclick: () => answerScript({skip: true})}, t("script_next")));
    } else if (script.kind === "yes_no") {
      controls.push(el("button", {type: "button", class: "answer", dataset: {answer: "yes"},
        onclick: () => answerScript({answer: "yes"})}, t("answer_yes")));
      controls.push(el("button", {type: "button", class: "answer", dataset: {answer: "no"},
        onclick: () => answerScript({answer: "no"})}, t("answer_no")));
    } else if (script.kind === "choice") {
      controls.push(...script.choices.map(answer));
    } else {
      const input = el("input", {id: "script-input", size: 24,
        type: script.kind === "number" || script.kind === "scale" ? "number" : "text",
        min: script.minimum === null ? null : String(script.minimum),
        max: script.maximum === null ? null : String(script.maximum)});
      controls.push(input, el("button", {type: "button", class: "go script-answer",
        onclick: () => answerScript({answer: input.value})}, t("script_answer")));
    }
    if (!script.required && script.kind !== "info") {
      controls.push(el("button", {type: "button", class: "script-skip", onclick: () => answerScript({skip: true})}, t("script_skip")));
    }
  }
  $("script-controls").replaceChildren(...controls);
  $("script-answers").replaceChildren(...Object.entries(script.answers).map(([question, value]) =>
    el("li", {dataset: {question}}, question + ": " + value)));
}

async function loadConversation(contact) {
  try {
    const found = await api("GET", contactUrl(contact) + "/messages");
    if (work.some((w) => w.contact === contact)) conversations[contact] = found;
    render();
  } catch (error) { /* disposed of meanwhile: its pane goes */ }
}

async function loadPop(contact) {
  try {
    const details = await api("GET", contactUrl(contact) + "/pop");
    if (pop && pop.contact === contact) pop = {...pop, ...details};
    render();
  } catch (error) { /* the pop event itself is shown */ }
}

async function loadTicket(contact) {
  try {
    const found = await api("GET", contactUrl(contact) + "/ticket");
    learnClock(found.now);
    ticket = found;
    ticketContact = contact;
    render();
  } catch (error) { /* not stored yet: ticket.opened brings it */ }
}

async function loadArticles(ids) {
  if (!ids.length) return;
  const found = await api("GET", "/api/knowledge?ids=" + ids.join(","));
  if (suggestions) suggestions.articles = found.articles;
  render();
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function render() {
  const state = status ? status.state : "offline";
  const call = current();
  const writing = !call && work.some((w) => w.state === (state === "busy" ? "connected" : "offered"));
  $("state").textContent = writing && (state === "busy" || state === "reserved") ? t(state + "_written") : t(state);
  $("state").dataset.state = state;
  $("reason").textContent = status && status.reason && state === "not_ready" ? "(" + status.reason + ")" : "";
  $("ready").disabled = !(state === "not_ready");
  $("pause").disabled = !(state === "ready" || state === "not_ready");
  $("sit").disabled = !$("position").value;

  const ringing = state === "reserved" && offer !== null && !deskWork.has(offer.contact);
  show("offer", ringing);
  if (ringing) $("offer-queue").textContent = offer.queue;

  const contact = current();
  const talking = Boolean(contact) && status.contacts.includes(contact);
  show("call", Boolean(talking) && !contact.startsWith("ticket:"));
  $("call-id").textContent = contact;

  const popFor = ringing ? offer.contact : contact;
  show("pop", Boolean(pop && popFor && pop.contact === popFor));
  if (pop) renderPop();

  show("ticket", Boolean(ticket && ticketContact === contact && contact));
  if (ticket) {
    $("ticket-subject").textContent = ticket.subject;
    $("ticket-notes").replaceChildren(...(ticket.notes || []).map((n) => el("li", {}, n.author + ": " + n.text)));
  }

  show("kb", Boolean(suggestions && suggestions.contact === contact && contact));
  if (suggestions) {
    $("kb-questions").replaceChildren(...suggestions.questions.map((q) => el("li", {}, q)));
    $("kb-articles").replaceChildren(...(suggestions.articles || []).map((a) =>
      el("li", {dataset: {article: a.id}}, el("strong", {}, a.question), " — ", a.solution)));
  }

  const callbackFor = contact;
  const promising = Boolean(callbackFor) && !callbackFor.startsWith("ticket:");
  if (promising && $("callback-contact").textContent !== callbackFor) {
    $("callback-contact").textContent = callbackFor;
    $("callback-number").value = pop && pop.contact === callbackFor && pop.caller_id ? pop.caller_id : "";
  }
  show("callback", promising);
  $("dial").disabled = !(state === "ready" || state === "not_ready");

  const wrapping = status && status.wrap_up.length > 0;
  show("wrap", Boolean(wrapping));
  if (wrapping) {
    const c = status.wrap_up[0];
    $("wrap-contact").textContent = c;
    $("disposed").textContent = disposed[c] ? t("disposed") + ": " + disposed[c] : "";
  }
  renderWork();
  tick();
}

// -- written conversations: the offers, then one pane per conversation taken ------------
function written(state) {
  return work.filter((w) => w.state === state && WRITTEN.includes(w.channel));
}

function identity(found) {
  const badge = el("span", {class: "badge identity", dataset: {identified: found.identified ? "yes" : "no"}});
  if (found.identified) {
    badge.textContent = "✓ " + t("identified") + ": " + found.customer_name + " (" + found.customer + ")";
  } else {
    badge.textContent = "⚠ " + t("not_identified");
    badge.classList.add("warn");
  }
  return badge;
}

function heading(w, found) {
  return [el("span", {class: "channel"}, t("channel_" + w.channel)), " · ",
          el("span", {class: "who"}, found ? (found.name || found.party) : "…")];
}

function identityLine(found) {
  return found ? [el("span", {class: "party muted"}, found.name ? found.party : ""), " ", identity(found)] : [];
}

function renderWork() {
  const offered = written("offered");
  show("work-offers", offered.length > 0);
  $("work-offer-list").replaceChildren(...offered.map((w) => {
    const found = conversations[w.contact];
    const first = found && (found.messages.find((m) => m.id === found.message_id) ||
                            found.messages.find((m) => m.from === "customer"));
    return el("li", {class: "work-offer", dataset: {contact: w.contact, channel: w.channel}},
      el("strong", {}, ...heading(w, found)),
      el("div", {class: "identity-line"}, ...identityLine(found)),
      w.channel === "email" && found ? el("div", {class: "subject"}, found.subject) : null,
      el("blockquote", {class: "first-message"}, first ? first.text : ""),
      el("button", {type: "button", class: "go accept-work", onclick: () => acceptWork(w.contact)}, t("accept_work")));
  }));

  const held = written("connected");
  const panes = $("conversations");
  for (const pane of [...panes.children]) {
    if (!held.some((w) => w.contact === pane.dataset.contact)) pane.remove();
  }
  for (const w of held) {
    let pane = panes.querySelector(`[data-contact="${CSS.escape(w.contact)}"]`);
    if (!pane) {
      pane = conversationPane(w);
      panes.append(pane);
    }
    const found = conversations[w.contact];
    pane.querySelector("h2").replaceChildren(...heading(w, found));
    pane.querySelector(".identity-line").replaceChildren(...identityLine(found));
    const subject = pane.querySelector(".subject");
    if (subject && found) subject.textContent = found.subject;
    if (found) renderTranscript(pane.querySelector("ol.transcript"), found);
  }
}

function conversationPane(w) {
  const text = el("textarea", {class: "reply-text", rows: 2, placeholder: t("reply_placeholder")});
  const send = () => sendReply(w.contact, text);
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); }
  });
  text.addEventListener("input", () => typing(w.contact));
  const disposition = el("select", {class: "work-disposition"});
  fill(disposition, CONFIG.dispositions);
  return el("section", {class: "panel conversation", dataset: {contact: w.contact, channel: w.channel}},
    el("h2", {}),
    el("p", {class: "identity-line"}),
    w.channel === "email" ? el("p", {class: "subject"}) : null,
    el("ol", {class: "transcript"}),
    el("div", {class: "row"}, text, el("button", {type: "button", class: "go send-reply", onclick: send}, t("send"))),
    el("div", {class: "row"},
      el("label", {}, t("disposition") + " ", disposition),
      el("button", {type: "button", class: "dispose-work", onclick: () => disposeWork(w.contact, disposition.value)}, t("dispose"))));
}

function renderTranscript(list, found) {
  const lines = found.messages.map((m) => {
    const who = m.from === "customer" ? (found.name || found.party) : m.from === "agent" ? m.author : t("automatic");
    const at = new Date(m.at * 1000).toLocaleTimeString(document.documentElement.lang, {hour: "2-digit", minute: "2-digit"});
    return el("li", {class: "line from-" + m.from, dataset: {from: m.from, id: m.id}},
      el("span", {class: "author"}, who), " ", el("span", {class: "at muted"}, at),
      el("p", {class: "text"}, m.text));
  });
  const shown = [...list.children].map((li) => li.dataset.id).join("\n");
  if (shown === found.messages.map((m) => m.id).join("\n")) return;  // keep the scroll
  list.replaceChildren(...lines);
  list.scrollTop = list.scrollHeight;
}

// The customer of a chat sees "typing…" while the agent writes: one hint every 3 s at most
// (the widget shows it for a few seconds); a channel that cannot show it just says so.
const typedAt = {};
function typing(contact) {
  const now = Date.now();
  if (typedAt[contact] && now - typedAt[contact] < 3000) return;
  typedAt[contact] = now;
  api("POST", contactUrl(contact) + "/typing").catch(() => {});
}

async function acceptWork(contact) {
  await command("POST", AGENT + "/accept", {contact});
  refresh();
}

// The box empties at once and stays usable (the agent may be typing in another pane
// when the answer is stored: nothing moves the focus); a refused answer comes back.
async function sendReply(contact, box) {
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  if (await command("POST", contactUrl(contact) + "/reply", {text})) {
    loadConversation(contact);
  } else if (!box.value) {
    box.value = text;
  }
}

async function disposeWork(contact, disposition) {
  if (await command("POST", contactUrl(contact) + "/dispose", {disposition})) {
    disposed[contact] = disposition;
  }
  refresh();
}

function renderPop() {
  $("pop-name").textContent = pop.name || t("unknown_caller");
  $("pop-caller").textContent = pop.caller_id || "–";
  const badge = $("pop-verified");
  badge.textContent = pop.caller_verified ? "✓ " + t("verified") : "⚠ " + t("unverified");
  badge.classList.toggle("warn", !pop.caller_verified);
  badge.dataset.verified = pop.caller_verified ? "yes" : "no";
  const attributes = Object.entries(pop.attributes || {});
  $("pop-attributes").replaceChildren(...attributes.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const past = pop.past_contacts || [];
  $("pop-past").replaceChildren(...(past.length ? past.map((r) =>
    el("li", {}, new Date(r.arrived_at * 1000).toLocaleString(document.documentElement.lang) +
      " · " + r.channel + " · " + (r.queue || "") + " · " + (r.disposition || "–"))) : [el("li", {class: "muted"}, t("none"))]));
  const open = pop.open_tickets || [];
  $("pop-tickets").replaceChildren(...(open.length ? open.map((x) =>
    el("li", {}, x.subject + " (" + x.status + ")")) : [el("li", {class: "muted"}, t("none"))]));
}

function tick() {
  const now = serverNow();
  if (ticket) {
    $("ticket-elapsed").textContent = duration(now - ticket.opened_at);
    for (const [id, due] of [["sla-first", ticket.first_response_due], ["sla-resolution", ticket.resolution_due]]) {
      const left = due === null ? null : due - now;
      $(id).textContent = left === null ? "–" : left < 0 ? t("overdue") + " " + duration(-left) : duration(left);
      $(id).classList.toggle("bad", left !== null && left < 0);
    }
  }
  if (status && status.wrap_up_until !== null && status.wrap_up_until !== undefined) {
    $("wrap-left").textContent = duration(Math.max(0, status.wrap_up_until - now));
  } else {
    $("wrap-left").textContent = "–";
  }
  if (offer && offer.expires_at) $("offer-left").textContent = duration(Math.max(0, offer.expires_at - now));
}
setInterval(tick, 250);

function mine(data) {
  return data.agent_id === undefined || data.agent_id === ME;
}

const KINDS = [
  "acd.agent_state_changed", "acd.contact_offered", "acd.offer_rescinded", "acd.offer_not_answered",
  "acd.offer_rejected", "acd.offer_accepted", "acd.contact_connected", "acd.contact_completed",
  "acd.contact_abandoned", "acd.contact_transferred", "acd.contact_held", "acd.contact_resumed",
  "runtime.screen_pop", "runtime.kb_suggested", "runtime.contact_disposed", "runtime.call_transferred",
  "runtime.agent_leg_failed", "runtime.monitoring_started", "runtime.call_taken_over",
  "ticket.opened", "ticket.note_added", "ticket.status_changed", "ticket.escalated",
  "ticket.first_response", "ticket.sla_warning", "ticket.sla_breached",
  "runtime.message_received", "runtime.reply_sent",
];

live("/api/desk/events", KINDS, (kind, data) => {
  if (kind === "acd.contact_offered" && mine(data)) {
    pendingOffer = {contact: data.contact_id, queue: data.queue, expires_at: data.expires_at, after: asks};
  } else if ((kind === "runtime.message_received" || kind === "runtime.reply_sent") && conversations[data.contact_id]) {
    loadConversation(data.contact_id);
  } else if (kind === "runtime.screen_pop" && mine(data)) {
    pop = {contact: data.contact_id, name: data.name, customer: data.customer,
           caller_id: data.caller_id, caller_verified: data.caller_verified};
    loadPop(data.contact_id);
  } else if (kind === "runtime.kb_suggested" && mine(data)) {
    suggestions = {contact: data.contact_id, questions: data.questions, articles: []};
    loadArticles(data.articles);
    loadTicket(data.contact_id);
  } else if (kind.startsWith("ticket.")) {
    const contact = current();
    if (contact && !contact.startsWith("ticket:")) loadTicket(contact);
  } else if (kind === "runtime.contact_disposed") {
    disposed[data.contact_id] = data.disposition;
  } else if (["acd.offer_rescinded", "acd.offer_not_answered", "acd.offer_rejected",
              "acd.contact_abandoned", "acd.contact_connected"].includes(kind)) {
    if (offer && offer.contact === data.contact_id) offer = null;
    if (pendingOffer && pendingOffer.contact === data.contact_id) pendingOffer = null;
  }
  refresh();
});

on("sit", () => command("POST", AGENT + "/login", {position: $("position").value}).then(refresh));
on("stand", () => command("POST", AGENT + "/logout").then(refresh));
on("ready", () => command("POST", AGENT + "/ready").then(refresh));
on("pause", () => command("POST", AGENT + "/not-ready", {reason: $("pause-reason").value}).then(refresh));
on("reject", () => command("POST", AGENT + "/reject", {reason: "declined"}).then(refresh));
on("hangup", () => command("POST", contactUrl(current()) + "/hangup").then(refresh));
on("transfer", () => command("POST", contactUrl(current()) + "/transfer", {queue: $("transfer-queue").value}));
on("blind", () => command("POST", contactUrl(current()) + "/blind-transfer", {number: $("transfer-number").value}));
on("consult", () => command("POST", contactUrl(current()) + "/attended-transfer", {to_agent: $("consult-agent").value}));
on("complete", () => command("POST", contactUrl(current()) + "/complete-transfer"));
on("cancel-consult", () => command("POST", contactUrl(current()) + "/cancel-transfer"));
on("note", async () => {
  const text = $("note-text").value.trim();
  if (!text) return;
  const body = {text, internal: true};
  if (ticket) body.expected_version = ticket.version;
  if (await command("POST", contactUrl(current()) + "/note", body)) $("note-text").value = "";
  loadTicket(current());
});
on("kb-search", async () => {
  const q = $("kb-q").value.trim();
  if (!q) return;
  const found = await api("GET", "/api/knowledge?q=" + encodeURIComponent(q));
  suggestions = {contact: current(), questions: suggestions ? suggestions.questions : [], articles: found.articles};
  render();
});
on("dispose", async () => {
  const contact = status && status.wrap_up[0];
  if (!contact) return;
  const disposition = $("disposition").value;
  if (await command("POST", contactUrl(contact) + "/dispose", {disposition})) {
    disposed[contact] = disposition;
    render();
  }
});
on("escalate", () => {
  const contact = (status && status.wrap_up[0]) || current();
  return command("POST", contactUrl(contact) + "/escalate", {reason: "level 2 needed"});
});
on("dial", async () => {
  const number = $("dial-number").value.trim();
  if (!number) return;
  if (await command("POST", "/api/dial", {number})) say(t("dialling") + " " + number);
  refresh();
});
on("schedule-callback", async () => {
  const contact = $("callback-contact").textContent;
  const when = $("callback-at").value;  // local wall time, turned into the server's clock
  const number = $("callback-number").value.trim();
  if (!contact || !when || !number) return;
  const at = new Date(when).getTime() / 1000 + clockOffset;
  if (await command("POST", contactUrl(contact) + "/callback", {number, at})) {
    say(t("callback_scheduled") + ": " + number + " · " + new Date(when).toLocaleString(document.documentElement.lang));
  }
});
on("end-wrap", () => command("POST", AGENT + "/end-wrap-up").then(refresh));
on("accept", async () => {
  const ticket = work.find((w) => w.state === "offered" && !WRITTEN.includes(w.channel));
  const taken = await command("POST", AGENT + "/accept", ticket ? {contact: ticket.contact} : undefined);
  if (taken) $("accepted").textContent = t("accepted") + ": " + taken.contact;
  refresh();
});
$("position").addEventListener("change", render);

refresh();
