// callcenter_sdk web chat widget: <script src="https://center.example/chat/static/chat.js" defer></script>
// Renders into <div id="callcenter-chat"> (or a new box at the end of the page) and speaks the
// JSON protocol of callcenter_sdk.channels.ChatChannel over the WebSocket next to this script.
// Lines are numbered and kept until the center acknowledges them (stored), so a line sent
// again after a lost connection is stored once. The rejoin token lives in localStorage.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script.src.replace(/\/static\/chat\.js(\?.*)?$/, "");
  var socketUrl = base.replace(/^http/, "ws") + "/ws";
  var KEY = "callcenter-chat";
  var box = document.getElementById("callcenter-chat");
  if (!box) {
    box = document.createElement("div");
    box.id = "callcenter-chat";
    document.body.appendChild(box);
  }
  box.innerHTML =
    '<form class="cc-start">' +
    '<label>Name <input name="name" required></label>' +
    '<label>E-mail, phone or customer number <input name="who" required></label>' +
    '<button type="submit">Start chat</button></form>' +
    '<div class="cc-talk" hidden><ol class="cc-log" aria-live="polite"></ol>' +
    '<p class="cc-typing" hidden>An agent is typing…</p>' +
    '<form class="cc-send"><input name="line" autocomplete="off" aria-label="Your message">' +
    '<button type="submit">Send</button></form></div>' +
    '<p class="cc-status" role="status"></p>';
  var start = box.querySelector(".cc-start");
  var talk = box.querySelector(".cc-talk");
  var log = box.querySelector(".cc-log");
  var typing = box.querySelector(".cc-typing");
  var sendForm = box.querySelector(".cc-send");
  var status = box.querySelector(".cc-status");

  var saved = JSON.parse(localStorage.getItem(KEY) || "null");
  var hello = null;
  var socket = null;
  var next = 1;
  var pending = {};  // seq -> text, until acknowledged
  var shown = {};    // message ids already in the log
  var typingTimer = null;
  var lastTyping = 0;

  function save(token) {
    saved = { token: token };
    localStorage.setItem(KEY, JSON.stringify(saved));
  }

  function show(id, from, text) {
    if (id && shown[id]) return;
    if (id) shown[id] = true;
    var li = document.createElement("li");
    li.className = "cc-" + from;
    li.textContent = text;
    if (id) li.dataset.id = id;
    log.appendChild(li);
    return li;
  }

  function connect() {
    socket = new WebSocket(socketUrl);
    socket.onopen = function () {
      socket.send(JSON.stringify(saved ? { type: "hello", token: saved.token } : hello));
    };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "welcome") {
        save(frame.token);
        start.hidden = true;
        talk.hidden = false;
        status.textContent = frame.customer ? "Hello " + frame.customer + "." : "Connected.";
        frame.transcript.forEach(function (line) { show(line.id, line.from, line.text); });
        next = Math.max(next, frame.next);
        Object.keys(pending).forEach(function (seq) {
          socket.send(JSON.stringify({ type: "message", seq: Number(seq), text: pending[seq] }));
        });
      } else if (frame.type === "ack") {
        var li = log.querySelector('li[data-seq="' + frame.seq + '"]');
        if (li) { li.dataset.id = frame.id; li.classList.remove("cc-pending"); }
        shown[frame.id] = true;
        delete pending[frame.seq];
      } else if (frame.type === "message") {
        typing.hidden = true;
        show(frame.id, "agent", frame.text);
      } else if (frame.type === "typing") {
        typing.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typing.hidden = true; }, 3000);
      } else if (frame.type === "ended") {
        status.textContent = "The agent closed this conversation; write again to reopen it.";
      } else if (frame.type === "idle") {
        status.textContent = "Closed after a while without messages.";
      } else if (frame.type === "error") {
        status.textContent = frame.error;
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4001) {  // refused: the token expired or is not ours
        localStorage.removeItem(KEY);
        saved = null;
        start.hidden = false;
        talk.hidden = true;
        return;
      }
      if (event.code === 4000) return;  // idle: reconnect when the customer writes
      setTimeout(connect, 1000);
    };
  }

  start.addEventListener("submit", function (event) {
    event.preventDefault();
    var who = start.elements.who.value.trim();
    hello = { type: "hello", name: start.elements.name.value.trim() };
    if (who.indexOf("@") > 0) hello.email = who;
    else if (/^\+?[0-9 .-]{6,}$/.test(who)) hello.phone = who.replace(/[ .-]/g, "");
    else hello.number = who;
    connect();
  });

  sendForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = sendForm.elements.line.value;
    if (!text.trim()) return;
    sendForm.elements.line.value = "";
    var seq = next++;
    pending[seq] = text;
    var li = show(null, "customer", text);
    li.dataset.seq = seq;
    li.classList.add("cc-pending");
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "message", seq: seq, text: text }));
    } else if (!socket) {
      connect();
    }
  });

  sendForm.elements.line.addEventListener("input", function () {
    var now = Date.now();
    if (socket && socket.readyState === WebSocket.OPEN && now - lastTyping > 2000) {
      lastTyping = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  if (saved) connect();
})();
