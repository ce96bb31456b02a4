// The sign-in form: POST /api/login, then the person's page.
"use strict";

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const person = document.getElementById("person").value.trim();
  const password = document.getElementById("password").value;
  try {
    const me = await api("POST", "/api/login", {person, password});
    const next = new URLSearchParams(location.search).get("next") || "";
    const safe = next.startsWith("/") && !next.startsWith("//") ? next : "";
    location.href = safe || CONFIG.homes[me.role] || "/wallboard";
  } catch (error) {
    say(error.status === 401 ? t("wrong_login") : error.message, true);
  }
});
