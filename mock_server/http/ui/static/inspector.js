// The sandbox inspector: live updates (server-sent events), buttons that call the control API,
// relative times against the sandbox's clock, and "copy as curl". No framework, no build step.
// Every page reads without it; this only makes pages live and buttons work.

const live = document.getElementById("live");
const status = document.getElementById("status");
const liveState = document.getElementById("live-state");
const nowEl = document.getElementById("now");
const rateEl = document.getElementById("rate");

// The sandbox's clock as last pushed, and when (by this browser's clock) it was pushed.
const clock = {
  now: Number(rateEl?.dataset.now ?? Date.now()),
  rate: Number(rateEl?.dataset.rate ?? 1),
  at: performance.now(),
};

function sandboxNow() {
  return clock.now + (performance.now() - clock.at) * clock.rate;
}

function span(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

function relative(at, now) {
  const delta = at - now;
  if (Math.abs(delta) < 1000) return "now";
  return delta > 0 ? `in ${span(delta)}` : `${span(-delta)} ago`;
}

function iso(ms) {
  const text = new Date(ms).toISOString(); // 2026-01-01T00:00:00.000Z
  return text.endsWith(".000Z") ? text.replace(".000Z", "Z") : text;
}

function renderTimes() {
  const now = sandboxNow();
  for (const el of document.querySelectorAll(".rel[data-at]")) {
    const text = relative(Number(el.dataset.at), now);
    if (el.textContent !== text) el.textContent = text;
  }
  if (nowEl) {
    const text = iso(Math.floor(now));
    nowEl.textContent = text;
    nowEl.dateTime = text;
  }
  if (rateEl) rateEl.textContent = clock.rate === 0 ? "frozen" : `running at rate ${clock.rate}`;
}

function say(text, problem = false) {
  status.textContent = text;
  status.classList.toggle("error", problem);
}

// Reload the live region of this view (the server renders it; nothing is built here).
let refreshing = null;
let again = false;
async function refresh(seq) {
  if (!live) return;
  if (refreshing) {
    again = true;
    return refreshing;
  }
  const url = new URL(location.href);
  url.searchParams.set("fragment", "1");
  if (seq !== undefined) url.searchParams.set("v", String(seq));
  refreshing = (async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      const html = await response.text();
      const open = [...live.querySelectorAll("details[open][id]")].map((d) => d.id);
      live.innerHTML = html; // server-rendered, every value escaped there
      for (const id of open) document.getElementById(id)?.setAttribute("open", "");
      if (seq !== undefined) live.dataset.seq = String(seq);
      renderTimes();
    } finally {
      refreshing = null;
    }
  })();
  await refreshing;
  if (again) {
    again = false;
    await refresh();
  }
}

async function call(spec, body, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  const [method, path] = spec.split(" ");
  say(`${method} ${path} …`);
  try {
    const response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const field = answer.meta?.argument ? ` (${answer.meta.argument})` : "";
      say(`${method} ${path}: ${answer.code ?? response.status}${field}: ${answer.msg ?? ""}`, true);
    } else {
      say(`${method} ${path}: done`);
      if (path === "/_sandbox/clock" && answer.now) {
        clock.now = Date.parse(answer.now);
        clock.rate = answer.rate;
        clock.at = performance.now();
      }
    }
  } catch (error) {
    say(`${method} ${path}: ${error}`, true);
  }
  await refresh();
}

function formBody(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled || field.value === "") continue;
    if (field.dataset.json !== undefined) {
      try {
        return JSON.parse(field.value);
      } catch (error) {
        throw new Error(`${field.name}: not JSON (${error.message})`);
      }
    }
    body[field.name] = field.type === "number" ? Number(field.value) : field.value;
  }
  return body;
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-call]");
  if (button) {
    event.preventDefault();
    await call(button.dataset.call, JSON.parse(button.dataset.body || "{}"), button.dataset.confirm);
    return;
  }
  const copy = event.target.closest("button[data-copy]");
  if (copy) {
    const text = document.getElementById(copy.dataset.copy)?.textContent ?? "";
    try {
      await navigator.clipboard.writeText(text);
      say("copied");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(copy.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      say("selected: copy it with Ctrl+C");
    }
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-call]");
  if (!form) return;
  event.preventDefault();
  let body;
  try {
    body = formBody(form);
  } catch (error) {
    say(error.message, true);
    return;
  }
  await call(form.dataset.call, body);
});

// Live updates: a push says that something changed; the view reloads what it shows.
function connect() {
  const events = new EventSource("/_sandbox/ui/events");
  events.addEventListener("open", () => {
    if (liveState) liveState.textContent = "live";
  });
  events.addEventListener("change", (event) => {
    const data = JSON.parse(event.data);
    clock.now = data.now_ms;
    clock.rate = data.rate;
    clock.at = performance.now();
    refresh(data.seq);
  });
  events.addEventListener("closing", () => {
    if (liveState) liveState.textContent = "sandbox stopped";
    events.close();
  });
  events.addEventListener("error", () => {
    if (liveState) liveState.textContent = "reconnecting…";
  });
}

connect();
renderTimes();
setInterval(renderTimes, 1000);
