// Drawing thread entries: the user's messages, notices, and Nexus replies segment by
// segment (text, table, chart image, file, citations, collapsible receipt).
// Everything goes through textContent, never innerHTML: replies quote user data.
"use strict";

const Render = (() => {
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== undefined && value !== null) node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function formatBytes(size) {
    if (size === null || size === undefined) return "";
    const units = ["bytes", "KB", "MB", "GB"];
    let value = size;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function formatCell(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number" && !Number.isInteger(value)) {
      return value.toLocaleString("en-US", { maximumFractionDigits: 4 });
    }
    return String(value);
  }

  // Mentions as the chat platforms draw them: <@bob> → @bob.
  function mentions(text) {
    return text.replace(/<@!?([\w.:-]+)>/g, "@$1");
  }

  // A paragraph with `code` spans, as the chat platforms draw backticks.
  function prose(text) {
    const parts = mentions(text).split("`");
    const nodes = parts.map((part, i) => (i % 2 === 1 && i < parts.length - 1
      ? el("code", {}, part) : (i % 2 === 1 ? `\`${part}` : part)));
    return el("p", { class: "text" }, ...nodes);
  }

  function payloadUrl(segment, mime) {
    if (segment.data_base64) return `data:${mime};base64,${segment.data_base64}`;
    return `/playground/api/blob?key=${encodeURIComponent(segment.blob_key)}`;
  }

  function table(segment) {
    const head = el("tr", {}, ...segment.columns.map((c) => el("th", { scope: "col" }, c)));
    const rows = segment.rows.map((row) => el("tr", {}, ...row.map((cell) =>
      el("td", { class: typeof cell === "number" ? "num" : null }, formatCell(cell)))));
    const caption = segment.title ? el("caption", {}, segment.title) : null;
    const node = el("table", { class: "result", "data-testid": "result-table" },
      caption, el("thead", {}, head), el("tbody", {}, ...rows));
    if (!segment.truncated) return node;
    const more = `Showing ${segment.rows.length} of ${segment.total_rows ?? "more"} rows.`;
    return el("div", {}, node, el("p", { class: "hint" }, more));
  }

  function receipt(segment) {
    const facts = [segment.method, segment.planner,
      segment.rows_used !== null ? `${segment.rows_used} rows` : null,
      segment.duration_ms !== null ? `${segment.duration_ms} ms` : null,
      `${segment.tokens_in + segment.tokens_out} tokens`, `$${segment.cost_usd.toFixed(4)}`,
      segment.cached ? "cached" : null].filter(Boolean);
    const details = el("details", { class: "receipt", "data-testid": "receipt" },
      el("summary", {}, `Receipt · ${facts.join(" · ")}`));
    const list = el("dl");
    const add = (name, value) => { list.append(el("dt", {}, name), el("dd", {}, value)); };
    if (segment.sources.length) add("sources", segment.sources.join(", "));
    if (segment.model) add("model", segment.model);
    if (segment.spec) add("spec", el("pre", {}, JSON.stringify(segment.spec, null, 2)));
    if (segment.code) add("code", el("pre", {}, segment.code));
    for (const note of segment.notes) if (note) add("note", note);
    details.append(list);
    return details;
  }

  function segment(seg) {
    switch (seg.kind) {
      case "text":
        return prose(seg.text);
      case "table":
        return table(seg);
      case "image":
        return el("img", { class: "chart", "data-testid": "chart", alt: seg.alt || seg.file_name,
          src: payloadUrl(seg, "image/png") });
      case "file":
        return el("a", { class: "file", download: seg.file_name, href: payloadUrl(seg, seg.mime) },
          `Download ${seg.file_name}`);
      case "citations":
        return el("ol", { class: "citations" }, ...seg.citations.map((c) => el("li", {},
          el("strong", {}, c.title), c.location ? ` (${c.location})` : "",
          c.snippet ? el("blockquote", {}, c.snippet) : null)));
      case "receipt":
        return receipt(seg);
      default:
        return el("p", { class: "hint" }, `(${seg.kind})`);
    }
  }

  function time(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function entry(item) {
    if (item.type === "notice") {
      return el("li", { class: "notice", "data-testid": "notice" }, item.text);
    }
    if (item.type === "message") {
      const files = item.files.map((f) =>
        el("span", { class: "chip" }, `${f.name} · ${formatBytes(f.size)}`));
      return el("li", { class: "message user", "data-testid": "user-message" },
        el("div", { class: "who" }, `${item.actor} · ${time(item.at)}`),
        item.text ? prose(item.text) : null,
        files.length ? el("div", { class: "chips" }, ...files) : null);
    }
    return el("li", { class: "message bot", "data-testid": "reply", "data-key": item.key },
      el("div", { class: "who" }, `Nexus · ${time(item.at)}`),
      ...item.segments.map(segment));
  }

  return { el, entry, formatBytes, mentions };
})();
