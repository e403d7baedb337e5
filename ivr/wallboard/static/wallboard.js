// The wallboard: asks /wallboard/data every few seconds and writes its numbers into the page (as
// text, never as markup), one request at a time. When an answer fails, says it is stale, or none
// has come for two refreshes and a request's longest wait, the page says DATA STALE and dims the
// last numbers it had.
"use strict";
(function () {
  const body = document.body;
  const refreshMs = Number(body.dataset.refreshS) * 1000;
  const url = body.dataset.dataUrl;
  const ABORT_MS = 8000; // the server bounds its answer far below this: no answer by then is a hang
  let lastOk = 0; // Date.now() of the last good answer
  let why = "";
  let zone = "UTC";

  const $ = (id) => document.getElementById(id);
  const set = (id, text) => { $(id).textContent = text; };
  const none = (v) => v === null || v === undefined;
  const pct = (share) => none(share) ? "–" : Math.floor(share * 100 + 1e-9) + "%";
  const mmss = (s) => none(s) ? "–" : Math.floor(s / 60) + ":" + String(Math.round(s % 60)).padStart(2, "0");
  const secs = (s) => s >= 90 ? mmss(s) : Math.round(s) + " s";
  const num = (v, digits) => none(v) ? "–" : v.toFixed(digits);
  const clock = (iso) => new Date(iso).toLocaleTimeString("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit" });
  const band = (mean, lo, hi, fmt) => none(mean) ? "–" : fmt(mean) + " (" + fmt(lo ?? mean) + "–" + fmt(hi ?? mean) + ")";

  function cell(row, text, cls) {
    const td = row.insertCell();
    td.textContent = text;
    if (cls) td.className = cls;
  }

  function renderQueue(q) {
    const id = "q" + q.queue;
    set(id + "-waiting", String(q.waiting));
    set(id + "-longest", q.waiting ? mmss(q.longest_wait_s) : "–");
    set(id + "-offered", String(q.offered));
    set(id + "-answered", String(q.answered));
    set(id + "-oncalls", String(q.on_calls));
    const rows = $(id + "-levels");
    rows.replaceChildren();
    for (const level of q.service_levels) {
      const row = rows.insertRow();
      const verdict = none(level.met) ? "" : level.met ? "met" : "missed";
      cell(row, pct(level.share), "share " + verdict);
      cell(row, "in " + secs(level.within_s) + ", target " + pct(level.target));
      cell(row, level.answered_within + " of " + level.offered + (verdict ? " " + verdict.toUpperCase() : ""), verdict);
    }
  }

  function renderNowcast(cast) {
    set("nowcast-message", "· " + cast.message);
    const rows = $("nowcast-rows");
    rows.replaceChildren();
    const byStart = new Map();
    for (const item of cast.intervals) {
      if (!byStart.has(item.start)) byStart.set(item.start, {});
      byStart.get(item.start)[item.class] = item;
    }
    for (const [start, classes] of byStart) {
      const row = rows.insertRow();
      cell(row, clock(start));
      for (const name of ["911", "311"]) {
        const c = classes[name] || {};
        cell(row, pct(c.p_target_met));
        cell(row, band(c.wait_mean_s, c.wait_lo_s, c.wait_hi_s, secs));
        cell(row, band(c.queue_mean, c.queue_lo, c.queue_hi, (v) => num(v, 1)));
      }
    }
  }

  function render(data) {
    zone = data.timezone;
    data.queues.forEach(renderQueue);
    set("agents-on-calls", String(data.agents.on_calls));
    set("agents-note", "on calls now, " + data.agents.note);
    const roster = data.nowcast.on_duty;
    set("agents-roster", roster ? "· on duty by the roster" + (roster.at ? " at " + clock(roster.at) : "") + ": " +
      Object.entries(roster.pools).map(([pool, n]) => pool + " " + n).join(" · ") : "");
    renderNowcast(data.nowcast);
    lastOk = Date.now();
    why = "";
    showState();
  }

  function showState() {
    const age = lastOk ? Math.round((Date.now() - lastOk) / 1000) : null;
    const stale = why !== "" || !lastOk || Date.now() - lastOk > 2 * refreshMs + ABORT_MS;
    $("stale").hidden = !stale;
    body.classList.toggle("stale", stale);
    const since = lastOk ? "last update " + new Date(lastOk).toLocaleTimeString("en-GB") + " (" + age + " s ago)" : "no data yet";
    set("stale-why", "· " + (why || "no answer from the server") + " · " + since);
    set("status", lastOk ? "updated " + new Date(lastOk).toLocaleTimeString("en-GB") : "waiting for the first numbers…");
  }

  async function refresh() {
    try {
      const answer = await fetch(url, { cache: "no-store", credentials: "same-origin", signal: AbortSignal.timeout(ABORT_MS) });
      const data = await answer.json().catch(() => ({ stale: true, reason: "HTTP " + answer.status }));
      if (!answer.ok || data.stale) {
        why = data.reason || "HTTP " + answer.status;
      } else {
        render(data);
      }
    } catch (err) {
      why = "the server does not answer";
    }
    showState();
    setTimeout(refresh, refreshMs); // the next one after this one: never two at once
  }

  refresh();
  setInterval(showState, 1000);
})();
