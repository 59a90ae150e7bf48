// The playground page: threads, sending messages with files, polling the thread for
// replies and status lines, acting as another user, and the usage panel.
"use strict";

(() => {
  const API = "/playground/api";
  const POLL_MS = 500;
  const $ = (id) => document.getElementById(id);
  const state = { thread: null, after: -1, pending: [], polling: null, inflight: false, again: false };

  function randomId(length) {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
  }

  function actor() { return $("actor").value.trim() || "you"; }

  function showActing() { $("acting").textContent = `acting as ${actor()}`; }

  // --- threads ------------------------------------------------------------------
  async function loadThreads() {
    const response = await fetch(`${API}/threads`);
    if (!response.ok) return;
    const { threads } = await response.json();
    const nav = $("threads");
    nav.replaceChildren(...threads.map((t) => Render.el("a", {
      href: `#${t.id}`, class: t.id === state.thread ? "current" : null,
    }, Render.mentions(t.title) || "(files)")));
  }

  function openThread(id) {
    state.thread = id;
    state.after = -1;
    $("messages").replaceChildren();
    $("progress").hidden = true;
    $("thread-title").textContent = `Thread ${id}`;
    loadThreads();
    poll();
  }

  function route() {
    const id = location.hash.slice(1);
    if (/^[a-z0-9]{6,40}$/.test(id)) openThread(id);
    else location.hash = randomId(12);
  }

  // --- polling ------------------------------------------------------------------
  async function poll() {
    clearTimeout(state.polling);
    if (state.inflight) { state.again = true; return; }  // one request at a time
    state.inflight = true;
    const thread = state.thread;
    try {
      const response = await fetch(`${API}/threads/${thread}/events?after=${state.after}`);
      if (response.ok && thread === state.thread) showView(await response.json());
    } catch (error) {
      console.warn("poll failed", error);  // the server restarts: keep polling
    } finally {
      state.inflight = false;
      state.polling = setTimeout(poll, state.again ? 0 : POLL_MS);
      state.again = false;
    }
  }

  function showView(view) {
    for (const item of view.entries) {
      if (item.seq <= state.after) continue;
      $("messages").append(Render.entry(item));
      state.after = item.seq;
    }
    if (view.entries.length) $("messages").lastElementChild.scrollIntoView({ block: "end" });
    const lines = Object.values(view.progress);
    $("progress").hidden = lines.length === 0;
    $("progress").textContent = lines.length ? `Nexus is working: ${lines.join(" · ")}` : "";
  }

  // --- sending ------------------------------------------------------------------
  function showAttachments() {
    $("attachments").replaceChildren(...state.pending.map((file, index) => {
      const remove = Render.el("button", { type: "button", title: "Remove" }, "×");
      remove.onclick = () => { state.pending.splice(index, 1); showAttachments(); };
      return Render.el("span", { class: "chip" },
        `${file.name} · ${Render.formatBytes(file.size)} `, remove);
    }));
  }

  function attach(files) {
    state.pending.push(...files);
    showAttachments();
  }

  async function send(text, files, as) {
    const form = new FormData();
    form.append("text", text);
    form.append("actor", as);
    form.append("event_id", randomId(24));
    for (const file of files) form.append("file", file, file.name);
    const response = await fetch(`${API}/threads/${state.thread}/messages`, {
      method: "POST", body: form,
    });
    if (response.status === 400) {
      const { error } = await response.json();
      $("messages").append(Render.entry({ type: "notice", text: error }));
    }
    loadThreads();
    poll();
  }

  async function submit(event) {
    event.preventDefault();
    const text = $("text").value.trim();
    const files = state.pending.splice(0);
    if (!text && !files.length) return;
    $("text").value = "";
    showAttachments();
    await send(text, files, actor());
  }

  // --- acting as another user ------------------------------------------------------
  async function grant() {
    const user = actor();
    await send(`role <@${user}> ${$("role").value}`, [], "you");
  }

  // --- usage ----------------------------------------------------------------------
  function usageTable(headers, rows) {
    return Render.el("table", { class: "result" },
      Render.el("thead", {}, Render.el("tr", {}, ...headers.map((h) => Render.el("th", {}, h)))),
      Render.el("tbody", {}, ...rows.map((row) =>
        Render.el("tr", {}, ...row.map((cell) => Render.el("td", {}, cell))))));
  }

  function amount(value) {
    if (value === null || value === undefined) return "—";
    return Number.isInteger(value) ? value.toLocaleString("en-US")
      : value.toLocaleString("en-US", { maximumFractionDigits: 4 });
  }

  async function showUsage() {
    const panel = $("usage");
    if (!panel.hidden) { panel.hidden = true; return; }
    const view = await (await fetch(`${API}/usage`)).json();
    panel.hidden = false;
    if (!view.exists) {
      panel.replaceChildren(Render.el("p", {}, "No usage yet: send a first message."));
      return;
    }
    const kinds = Object.keys(view.usage.today);
    panel.replaceChildren(
      Render.el("h2", {}, `Usage of ${view.workspace}`),
      usageTable(["kind", "today", "this month"],
        kinds.map((k) => [k, amount(view.usage.today[k]), amount(view.usage.month[k])])),
      Render.el("h2", {}, "Quotas"),
      usageTable(["limit", "used", "limit", "left"], view.quotas.map((q) =>
        [q.name, amount(q.used), q.limit === null ? "unlimited" : amount(q.limit), amount(q.left)])),
      Render.el("h2", {}, "Members"),
      usageTable(["user", "role"], view.members.map((m) => [m.user, m.role])));
  }

  // --- drag and drop ----------------------------------------------------------------
  function setUpDrop() {
    const main = $("main");
    let depth = 0;
    main.addEventListener("dragenter", (e) => { e.preventDefault(); depth += 1;
      $("drop-overlay").hidden = false; });
    main.addEventListener("dragleave", () => { depth -= 1;
      if (depth <= 0) { depth = 0; $("drop-overlay").hidden = true; } });
    main.addEventListener("dragover", (e) => e.preventDefault());
    main.addEventListener("drop", (e) => {
      e.preventDefault();
      depth = 0;
      $("drop-overlay").hidden = true;
      attach(Array.from(e.dataTransfer.files));
    });
  }

  $("composer").addEventListener("submit", submit);
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("file-input").addEventListener("change", (e) => { attach(Array.from(e.target.files));
    e.target.value = ""; });
  $("new-thread").addEventListener("click", () => { location.hash = randomId(12); });
  $("grant").addEventListener("click", grant);
  $("usage-toggle").addEventListener("click", showUsage);
  $("actor").addEventListener("input", showActing);
  window.addEventListener("hashchange", route);
  setUpDrop();
  showActing();
  route();
})();
