// The audit view: for members of the audit group only. It uses GET /api/audit alone, which answers
// anyone else with the 404 of a missing route: then this view never appears.
"use strict";

const auditView = (() => {
  const el = (id) => document.getElementById(id);
  let cursor = null;
  let filters = {};

  function cell(text) { const td = document.createElement("td"); td.textContent = text ?? "-"; return td; }

  function label(r) {
    if (r.kind === "turn") return r.outcome === "ok" ? "answer" : `turn failed (${r.error || "error"})`;
    if (r.decision === "approved" || r.decision === "rejected") return `approval: ${r.decision}`;
    if (r.outcome === "started") return `tool call ${r.tool} started`;
    if (r.outcome === "ok" || r.outcome === "error") return `tool call ${r.tool}: ${r.outcome}`;
    return `decision on ${r.tool}: ${r.decision || r.outcome}`;
  }

  async function fetchPage(params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
    return api(`/audit?${query}`);
  }

  async function probe() {
    if (!state.config || state.config.pattern < 3) return;
    const response = await fetchPage({ limit: "1" });
    el("audit-toggle").hidden = response.status !== 200;
  }

  function show(open) {
    el("audit-admin").hidden = !open;
    el("app").hidden = open;
    el("audit-toggle").textContent = open ? "Chat" : "Audit";
    if (open && !el("audit-rows").children.length) load(true);
  }

  async function load(fresh) {
    if (fresh) {
      cursor = null;
      el("audit-rows").replaceChildren();
      const since = el("audit-since").value, until = el("audit-until").value;
      filters = {
        actor: el("audit-actor").value.trim(), session: el("audit-session").value.trim(),
        decision: el("audit-decision").value, since, until: until ? `${until}T23:59:59Z` : "",
      };
    }
    const response = await fetchPage({ ...filters, limit: "50", cursor });
    if (response.status !== 200) { el("audit-status").textContent = `the trail cannot be read (${response.status})`; return; }
    const page = await response.json();
    for (const r of page.items) {
      const tr = document.createElement("tr");
      tr.dataset.session = r.session;
      tr.append(cell(r.time.replace("T", " ").slice(0, 19)), cell(r.actor), cell(r.session.slice(0, 12) + "…"),
        cell(String(r.seq)), cell(label(r)), cell(r.decision), cell(r.request_id));
      tr.addEventListener("click", () => timeline(r.session, r.request_id));
      el("audit-rows").append(tr);
    }
    cursor = page.next_cursor;
    el("audit-more").hidden = !cursor;
    el("audit-status").textContent = `${el("audit-rows").children.length} record(s)`;
    if (fresh && filters.session) verdict(page.session_verification);
    else if (fresh) el("audit-verdict").hidden = true;
  }

  // The session's state as `agentarch audit verify` reports it: the chain (or its first bad record and
  // tamper class), the newest record a signed checkpoint covers, and the records no checkpoint covers yet.
  const HEADLINES = {
    signed: "Session verified and signed",
    "partly signed": "Session verified, partly signed",
    unsigned: "Session verified, not signed yet",
    tampered: "Session tampered",
  };

  function line(testid, name, text) {
    const div = document.createElement("div");
    div.dataset.testid = testid;
    const b = document.createElement("b");
    b.textContent = `${name}: `;
    div.append(b, text);
    return div;
  }

  function verdict(v) {
    const box = el("audit-verdict");
    box.hidden = !v;
    if (!v) return;
    box.className = `verdict ${v.state.replace(" ", "-")}`;
    const head = document.createElement("strong");
    head.textContent = `${HEADLINES[v.state] || v.state} (${v.records} record(s))`;
    const first = v.problems.find((p) => p.seq === v.first_bad_seq);
    const chain = v.first_bad_seq === null
      ? "the hash chain is intact"
      : `first bad record seq ${v.first_bad_seq}, ${v.tamper}: ${first ? first.message : ""}`;
    let signed, open;
    if (!v.notary) {
      signed = "no notary configured (the chain alone cannot show a dropped tail)";
      open = "-";
    } else {
      signed = v.signed_seq === null
        ? "no signed checkpoint covers this session yet"
        : `records 1..${v.signed_seq} are covered by a signed checkpoint`;
      if (v.notary.latest) signed += ` (newest checkpoint ${v.notary.latest.replace("T", " ").slice(0, 19)})`;
      if (!v.notary.readable) signed += " — the checkpoints cannot be read right now";
      else if (!v.notary.caught_up) signed += " — older checkpoints are still being read: look again";
      open = v.uncovered ? `records ${v.uncovered[0]}..${v.uncovered[1]} (the notary signs them within a minute)` : "none";
    }
    box.replaceChildren(head, line("audit-verdict-chain", "Chain", chain),
      line("audit-verdict-signed", "Signed", signed), line("audit-verdict-uncovered", "Not yet covered", open));
    const others = v.problems.filter((p) => p !== first);
    if (others.length) {
      box.append(line("audit-verdict-problems", "Also", others.map((p) => `seq ${p.seq} ${p.tamper}: ${p.message}`).join(" · ")));
    }
    if (v.notary && v.notary.problems.length) {
      box.append(line("audit-verdict-notary", "Checkpoints", v.notary.problems.map((p) => `${p.tamper}: ${p.message}`).join(" · ")));
    }
  }

  async function timeline(session, requestId) {
    const response = await fetchPage({ session, limit: "100" });
    if (response.status !== 200) return;
    const page = await response.json();
    verdict(page.session_verification);
    const list = el("audit-timeline");
    list.replaceChildren();
    const turn = page.items.filter((r) => !requestId || r.request_id === requestId);
    const head = document.createElement("li");
    head.textContent = `message (request ${requestId || "?"}) in session ${session}`;
    list.append(head);
    for (const r of turn) {
      const li = document.createElement("li");
      li.className = `step ${r.decision || r.outcome}`;
      li.textContent = `${r.time.slice(11, 19)} · seq ${r.seq} · ${label(r)}${r.policy_ids.length ? ` (${r.policy_ids.join(", ")})` : ""}`;
      list.append(li);
    }
    el("audit-timeline-box").hidden = false;
  }

  function init() {
    el("audit-toggle").addEventListener("click", () => show(el("audit-admin").hidden));
    el("audit-filters").addEventListener("submit", (e) => { e.preventDefault(); load(true); });
    el("audit-more").addEventListener("click", () => load(false));
  }

  return { init, probe };
})();

auditView.init();
