/* The ecmond dashboard: signs in with a bearer token, builds itself from the
 * JSON API (docs/HTTP.md) and follows alert transitions on the event stream.
 * Plain JavaScript, no build step. The server's CSP allows same-origin
 * scripts and styles only, so nothing here writes style attributes: sizes
 * go through CSSOM properties, looks through classes and data attributes. */
"use strict";

(function () {
  const TOKEN_KEY = "ecmond.token";
  const REFRESH_MS = 30000;
  const GRAPH_REFRESH_MS = 300000; /* graphs show trends; each costs a render */
  const STREAM_IDLE_MS = 45000; /* three keep-alives missed: reconnect */
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const START_RETRY_MS = 5000;
  const MAX_EVENTS = 50;
  const SEVERITY = { ok: 0, warn: 1, critical: 2, exceeded: 3 };
  const STATE_LABEL = { ok: "OK", warn: "Warn", critical: "Critical", exceeded: "Exceeded" };
  const POLLUTANT = { cod: "COD", nh3n: "NH\u2083-N", tp: "TP", tn: "TN", cu: "Cu", ni: "Ni" };
  const MEASURE = {
    effluent_m3: "Effluent",
    reuse_m3: "Reclaimed water",
    electricity_kwh: "Electricity",
    energy_tce: "Energy",
    energy_intensity: "Energy intensity",
  };

  const $ = (id) => document.getElementById(id);

  /* Loaded once per page: a reload makes a new one. */
  window.ecmonDashboard = { loadedAt: Date.now() };

  /* ---------------------------------------------------------------- DOM */

  /* h("td", {class: "r", data: {key: "a/b"}}, "text", node...) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "data") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  function pill(state, small) {
    const known = state in SEVERITY;
    return h("span", { class: "pill " + (known ? state : "none") + (small ? " small" : "") },
      known ? STATE_LABEL[state] : "no data");
  }

  /* A usage bar: the fill is the used fraction, the tick the pro-rated share. */
  function bar(cls) {
    const fill = h("span", { class: "fill" });
    const tick = h("span", { class: "tick", hidden: true });
    const el = h("div", { class: "bar" + (cls ? " " + cls : "") }, fill, tick);
    return { el, fill, tick };
  }

  function setBar(b, fraction, state, expected) {
    const f = Number.isFinite(fraction) ? Math.max(0, Math.min(1, fraction)) : 0;
    b.fill.style.width = (f * 100).toFixed(2) + "%";
    b.el.dataset.state = state in SEVERITY ? state : "none";
    if (b.tick && Number.isFinite(expected) && expected > 0 && expected <= 1) {
      b.tick.hidden = false;
      b.tick.style.left = (expected * 100).toFixed(2) + "%";
      b.el.title = "pro-rated share of the period so far: " + fmtPct(expected);
    } else if (b.tick) {
      b.tick.hidden = true;
    }
  }

  function flash(tr) {
    tr.classList.remove("fresh");
    void tr.offsetWidth; /* restart the animation */
    tr.classList.add("fresh");
  }

  /* --------------------------------------------------------- formatting */

  const numFormats = new Map();
  function numFormat(opts) {
    const k = JSON.stringify(opts);
    if (!numFormats.has(k)) numFormats.set(k, new Intl.NumberFormat("en-US", opts));
    return numFormats.get(k);
  }

  function fmtNum(v) {
    if (typeof v !== "number" || !Number.isFinite(v)) return "\u2013";
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a < 0.0001) return (v < 0 ? ">\u22120.0001" : "<0.0001");
    if (a < 1) return numFormat({ maximumSignificantDigits: 4 }).format(v);
    if (a < 100) return numFormat({ maximumFractionDigits: 2 }).format(v);
    if (a < 1000) return numFormat({ maximumFractionDigits: 1 }).format(v);
    return numFormat({ maximumFractionDigits: 0 }).format(v);
  }

  function fmtPct(f) {
    if (typeof f !== "number" || !Number.isFinite(f)) return "\u2013";
    const p = f * 100;
    return numFormat({ maximumFractionDigits: p < 10 ? 1 : 0 }).format(p) + "%";
  }

  function fmtUnit(u) {
    return String(u || "").replace(/\bm3\b/g, "m\u00b3").replace("1e4", "10\u2074");
  }

  /* Times in the park's zone, whatever the browser's zone is. */
  function makeTimeFormats(tz) {
    const opts = (o) => Object.assign({ timeZone: tz, hourCycle: "h23" }, o);
    const parts = new Intl.DateTimeFormat("en-GB", opts({
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }));
    const day = new Intl.DateTimeFormat("en-GB", opts({
      weekday: "short", day: "numeric", month: "short", year: "numeric",
    }));
    let offset = "";
    try {
      const p = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "shortOffset" })
        .formatToParts(new Date()).find((x) => x.type === "timeZoneName");
      offset = p ? p.value : "";
    } catch (e) {
      offset = "";
    }
    function split(ms) {
      const o = {};
      for (const p of parts.formatToParts(new Date(ms))) o[p.type] = p.value;
      return o;
    }
    return {
      tz,
      offset,
      clock(ms) {
        const p = split(ms);
        return p.hour + ":" + p.minute + ":" + p.second;
      },
      date(ms) { return day.format(new Date(ms)); },
      /* "2026-11-22 14:05", or "today 14:05[:09]" */
      when(sec, withSeconds) {
        const p = split(sec * 1000), n = split(Date.now());
        const hm = p.hour + ":" + p.minute;
        if (p.year === n.year && p.month === n.month && p.day === n.day) {
          return "today " + hm + (withSeconds ? ":" + p.second : "");
        }
        return p.year + "-" + p.month + "-" + p.day + " " + hm;
      },
    };
  }

  function fmtIn(sec) {
    const d = sec - Date.now() / 1000;
    if (d <= 0) return "passed";
    if (d < 3600) return "in " + Math.max(1, Math.round(d / 60)) + " min";
    if (d < 48 * 3600) {
      const m = Math.round(d / 60);
      return "in " + Math.floor(m / 60) + " h " + (m % 60) + " min";
    }
    return "in " + Math.round(d / 86400) + " days";
  }

  /* "Effluent · day 2026-11-22", "Outlet main · COD hourly mean" */
  function describe(s, key, q) {
    const name = key.slice(key.indexOf("/") + 1);
    const dot = name.indexOf(".");
    const info = s.quotaInfo.get(key);
    const m = (q && q.measure) || (info && info.measure) || "";
    if (dot > 0 && !info) {
      const p = name.slice(dot + 1);
      return "Outlet " + name.slice(0, dot) + " \u00b7 " + (POLLUTANT[p] || p) + " hourly mean";
    }
    let what = MEASURE[m];
    if (!what && m.endsWith("_kg")) what = (POLLUTANT[m.slice(0, -3)] || m.slice(0, -3)) + " discharged";
    if (!what) what = m;
    const kind = info ? info.period : "";
    const label = q && q.period ? q.period : "";
    return [what, [kind, label].filter(Boolean).join(" ")].filter(Boolean).join(" \u00b7 ");
  }

  function unitOf(key, q) {
    if (q && q.unit) return fmtUnit(q.unit);
    return key.indexOf(".") > 0 ? "mg/L" : "";
  }

  /* ------------------------------------------------------------- session */

  let session = null; /* the signed-in view; a new one on every sign-in */

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function newSession(token) {
    return {
      token,
      active: true,
      staff: false,
      self: null,
      tz: "UTC",
      fmt: makeTimeFormats("UTC"),
      names: new Map(),      /* enterprise id -> name */
      quotaInfo: new Map(),  /* "ent/quota" -> {measure, period} from /park */
      usage: new Map(),      /* "ent/quota" -> quota payload */
      quotaRows: new Map(),  /* "ent/quota" -> row cells */
      alertRows: new Map(),  /* "ent/name" -> row cells */
      alerts: new Map(),     /* "ent/name" -> alert payload */
      capacity: null,
      showCapacity: false,
      seq: 0,                /* alert events received */
      connects: 0,           /* hellos received */
      touched: new Map(),    /* key -> seq of its last live change */
      timers: [],
      stream: null,          /* AbortController of the event stream */
      selected: null,        /* "ent/quota" of the quota graph */
      userSelected: false,
      quotaGraphStale: false,
      graphGen: new Map(),
      graphUrls: new Map(),
      graphsAt: 0,           /* Date.now() of the last graph refresh */
      loaded: false,
    };
  }

  function authHeaders(s) {
    return { Authorization: "Bearer " + s.token };
  }

  async function errorText(res) {
    try {
      const j = await res.json();
      if (j && j.error) return j.error;
    } catch (e) { /* not JSON */ }
    return "HTTP " + res.status;
  }

  async function api(s, path) {
    const res = await fetch(path, {
      headers: Object.assign({ Accept: "application/json" }, authHeaders(s)),
      cache: "no-store",
      credentials: "omit",
    });
    if (!res.ok) throw new HttpError(res.status, await errorText(res));
    return res.json();
  }

  /* Every failure ends here: a refused token signs out, anything else is
   * shown until the next success. */
  function failed(s, what, e) {
    if (!s.active) return;
    if (e instanceof HttpError && e.status === 401) {
      signOut("This token was not accepted. It may be mistyped or revoked.");
      return;
    }
    showBanner(what + ": " + (e && e.message ? e.message : String(e)));
  }

  function showBanner(msg) {
    $("banner").textContent = msg;
    $("banner").hidden = !msg;
  }

  function store(op, value) {
    try {
      if (op === "get") return sessionStorage.getItem(TOKEN_KEY);
      if (op === "set") sessionStorage.setItem(TOKEN_KEY, value);
      if (op === "del") sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives in this page only */ }
    return null;
  }

  function tokenFromHash() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (!m) return null;
    try {
      return decodeURIComponent(m[1]) || null;
    } catch (e) {
      return null;
    }
  }

  function takeHashToken() {
    const t = tokenFromHash();
    if (t === null) return null;
    store("set", t);
    history.replaceState(history.state, "", location.pathname + location.search);
    return t;
  }

  function showLogin(msg) {
    for (const id of ["dash", "clock", "live", "who", "signout"]) $(id).hidden = true;
    showBanner("");
    $("login").hidden = false;
    $("login-msg").textContent = msg || "";
    $("token-input").value = "";
    $("token-input").focus();
  }

  function signOut(msg) {
    const s = session;
    session = null;
    if (s) {
      s.active = false;
      if (s.stream) s.stream.abort();
      for (const t of s.timers) clearInterval(t);
      for (const u of s.graphUrls.values()) URL.revokeObjectURL(u);
    }
    store("del");
    clearPage();
    showLogin(msg);
  }

  /* Forget everything the last viewer saw. */
  function clearPage() {
    for (const id of ["alerts-body", "quotas-body", "events-list", "kpis", "capacity-body"]) {
      $(id).replaceChildren();
    }
    for (const fig of document.querySelectorAll(".graph")) {
      fig.querySelector(".graph-frame").replaceChildren(h("span", { class: "graph-msg" }, ""));
    }
    $("quota-graph-title").textContent = "Quota";
    $("alerts-count").textContent = "0";
    $("alerts-count").classList.remove("hot");
    $("live").removeAttribute("title");
    delete $("live").dataset.connects;
    $("park-name").textContent = "ecmond";
    $("park-sub").textContent = "Environmental capacity monitor";
    $("who").textContent = "";
    $("footer").textContent = "ecmond \u00b7 environmental capacity monitor";
    document.title = "ecmond";
    setLive(false, "Connecting");
  }

  async function start(token) {
    const s = session = newSession(token);
    $("login").hidden = true;
    try {
      const [who, park] = await Promise.all([api(s, "api/v1/whoami"), api(s, "api/v1/park")]);
      if (!s.active) return;
      setup(s, who, park);
    } catch (e) {
      if (!s.active) return;
      failed(s, "Cannot load the dashboard", e);
      if (session === s) setTimeout(() => { if (session === s) start(token); }, START_RETRY_MS);
      return;
    }
    showBanner("");
    $("dash").hidden = false;
    for (const id of ["clock", "live", "who", "signout"]) $(id).hidden = false;
    streamLoop(s);
    await refresh(s);
    s.timers.push(setInterval(() => refresh(s), REFRESH_MS));
  }

  /* Build the page for this viewer from /whoami and /park. */
  function setup(s, who, park) {
    s.staff = who.role === "staff";
    s.self = s.staff ? null : who.enterprise;
    s.tz = park.timezone || who.timezone || "UTC";
    try {
      s.fmt = makeTimeFormats(s.tz);
    } catch (e) {
      s.fmt = makeTimeFormats("UTC");
      s.tz = "UTC";
    }
    const parkName = park.park_name || park.park || "Park";
    s.levels = park.levels || { warn: 0.8, critical: 0.95 };
    s.names.set("park", parkName);
    for (const e of park.enterprises || []) {
      s.names.set(e.id, e.name || e.id);
      for (const q of e.quotas || []) s.quotaInfo.set(e.id + "/" + q.id, q);
    }
    for (const q of park.park_quotas || []) s.quotaInfo.set("park/" + q.id, q);
    s.showCapacity = s.staff && !!park.wwtp;

    document.title = parkName + " \u00b7 ecmond";
    $("park-name").textContent = parkName;
    $("park-sub").textContent = "Environmental capacity \u00b7 " + (park.park || "") +
      " \u00b7 times in " + s.tz + (s.fmt.offset ? " (" + s.fmt.offset + ")" : "");
    $("who").textContent = s.staff ? "Staff \u00b7 all enterprises" : s.names.get(s.self) || s.self;
    $("footer").textContent = "ecmond \u00b7 " + (park.park || "") + " \u00b7 usage refreshed every " +
      REFRESH_MS / 1000 + " s, alerts live";
    document.body.dataset.role = s.staff ? "staff" : "enterprise";
    $("capacity-card").hidden = !s.showCapacity;
    $("capacity-graph").hidden = !s.showCapacity;
    $("graphs").classList.toggle("single", !s.showCapacity);
    $("quotas-title").textContent = s.staff ? "Quotas of every enterprise" : "Your quotas";
    $("alerts-what").textContent = s.staff ? "Enterprise and quota or limit" : "Quota or limit";

    buildQuotaTable(s, park);
    tickClock(s);
    s.timers.push(setInterval(() => tickClock(s), 1000));
  }

  function tickClock(s) {
    const now = Date.now();
    $("clock-time").textContent = s.fmt.clock(now);
    $("clock-date").textContent = s.fmt.date(now) + " \u00b7 " + s.tz;
  }

  /* ------------------------------------------------------------- quotas */

  function buildQuotaTable(s, park) {
    const body = $("quotas-body");
    body.replaceChildren();
    const groups = [];
    if (s.staff && (park.park_quotas || []).length) {
      groups.push({ id: "park", name: s.names.get("park") + " (whole park)", quotas: park.park_quotas });
    }
    for (const e of park.enterprises || []) groups.push({ id: e.id, name: e.name || e.id, quotas: e.quotas || [] });
    for (const g of groups) {
      body.append(h("tr", { class: "group", data: { owner: g.id } },
        h("td", { colspan: 6 }, g.name, h("span", { class: "ent-id" }, g.id))));
      for (const q of g.quotas) addQuotaRow(s, g.id + "/" + q.id);
    }
    $("quotas-empty").hidden = s.quotaRows.size > 0;
  }

  function addQuotaRow(s, key) {
    const owner = key.slice(0, key.indexOf("/"));
    const b = bar();
    const r = {
      tr: h("tr", { class: "quota", data: { key, state: "none" }, tabindex: 0 }),
      name: h("span", { class: "ent-name" }, key.slice(owner.length + 1)),
      desc: h("span", { class: "sub" }),
      state: h("td"),
      bar: b,
      pct: h("span", { class: "bar-pct" }),
      used: h("td", { class: "r num" }),
      projected: h("td", { class: "r num" }),
      exhaust: h("td", { class: "r num" }),
    };
    r.tr.append(h("td", null, r.name, r.desc), r.state,
      h("td", { class: "bar-cell" }, h("div", { class: "bar-line" }, b.el, r.pct)),
      r.used, r.projected, r.exhaust);
    /* After its enterprise's last row, or a new group at the end. */
    const body = $("quotas-body");
    let after = null;
    for (const tr of body.children) {
      if (tr.dataset.owner === owner || (tr.dataset.key || "").startsWith(owner + "/")) after = tr;
    }
    if (!after) {
      after = h("tr", { class: "group", data: { owner } },
        h("td", { colspan: 6 }, s.names.get(owner) || owner, h("span", { class: "ent-id" }, owner)));
      body.append(after);
    }
    after.after(r.tr);
    s.quotaRows.set(key, r);
    fillQuotaRow(s, key, null);
    return r;
  }

  function fillQuotaRow(s, key, q) {
    const r = s.quotaRows.get(key) || addQuotaRow(s, key);
    const state = q && q.state in SEVERITY ? q.state : "none";
    r.tr.dataset.state = state;
    r.desc.textContent = describe(s, key, q);
    r.state.replaceChildren(pill(state));
    if (!q) {
      setBar(r.bar, 0, "none", null);
      r.pct.textContent = "\u2013";
      r.used.textContent = "\u2013";
      r.projected.textContent = "\u2013";
      r.exhaust.textContent = "\u2013";
      return;
    }
    const unit = unitOf(key, q);
    setBar(r.bar, q.fraction, state, q.expected);
    r.pct.textContent = fmtPct(q.fraction);
    r.used.replaceChildren(fmtNum(q.used) + " / " + fmtNum(q.limit) + " " + unit);
    r.projected.replaceChildren(h("span", { class: q.projected > q.limit ? "over" : null },
      fmtNum(q.projected) + " " + unit));
    if (typeof q.exhaust_at === "number") {
      r.exhaust.replaceChildren(h("span", { class: "over" }, s.fmt.when(q.exhaust_at)),
        h("span", { class: "sub" }, fmtIn(q.exhaust_at)));
    } else {
      r.exhaust.replaceChildren(h("span", { class: "muted" }, q.fraction >= 1 ? "exhausted" : "not this period"));
    }
  }

  function applyUsage(s, list, seq0) {
    for (const q of list || []) {
      const key = q.enterprise + "/" + q.quota;
      if ((s.touched.get(key) || 0) > seq0) continue; /* the stream was newer */
      s.usage.set(key, q);
      fillQuotaRow(s, key, q);
    }
    $("quotas-empty").hidden = s.quotaRows.size > 0;
    if (!s.userSelected) {
      let best = null;
      for (const [key, q] of s.usage) {
        const b = best && s.usage.get(best);
        if (!b || SEVERITY[q.state] > SEVERITY[b.state] ||
            (SEVERITY[q.state] === SEVERITY[b.state] && q.fraction > b.fraction)) best = key;
      }
      if (best && best !== s.selected) choose(s, best);
    }
  }

  /* The quota whose graph is shown: highlighted in the table. */
  function choose(s, key) {
    s.selected = key;
    for (const [k, r] of s.quotaRows) r.tr.classList.toggle("selected", k === key);
    const owner = key.slice(0, key.indexOf("/"));
    $("quota-graph-title").textContent = (s.names.get(owner) || owner) + " \u00b7 " + key.slice(owner.length + 1);
    s.quotaGraphStale = true;
  }

  function loadQuotaGraph(s) {
    if (!s.selected) return;
    s.quotaGraphStale = false;
    const owner = s.selected.slice(0, s.selected.indexOf("/"));
    const quota = s.selected.slice(owner.length + 1);
    loadGraph(s, $("quota-graph"), "api/v1/graph/quota/" + encodeURIComponent(owner) + "/" +
      encodeURIComponent(quota) + ".png", s.showCapacity ? 0.42 : 0.3);
  }

  function onQuotaPick(ev) {
    const s = session;
    if (!s || (ev.type === "keydown" && ev.key !== "Enter" && ev.key !== " ")) return;
    const tr = ev.target.closest("tr.quota");
    if (!tr) return;
    if (ev.type === "keydown") ev.preventDefault();
    s.userSelected = true;
    choose(s, tr.dataset.key);
    loadQuotaGraph(s);
  }

  /* ------------------------------------------------------------- alerts */

  function upsertAlert(s, key, a, ts) {
    let r = s.alertRows.get(key);
    const isNew = !r;
    if (isNew) {
      r = {
        tr: h("tr", { data: { key } }),
        state: h("td"),
        what: h("td"),
        bar: bar(),
        pct: h("span", { class: "bar-pct" }),
        used: h("td", { class: "r num" }),
        since: h("td", { class: "r num" }),
      };
      r.tr.append(r.state, r.what,
        h("td", { class: "bar-cell" }, h("div", { class: "bar-line" }, r.bar.el, r.pct)),
        r.used, r.since);
      s.alertRows.set(key, r);
      $("alerts-body").append(r.tr);
    }
    const owner = key.slice(0, key.indexOf("/"));
    const changed = isNew || r.tr.dataset.state !== a.state;
    s.alerts.set(key, a);
    r.tr.dataset.state = a.state;
    r.state.replaceChildren(pill(a.state));
    const name = key.slice(owner.length + 1);
    if (s.staff) {
      r.what.replaceChildren(h("span", { class: "ent-name" }, s.names.get(owner) || owner),
        h("span", { class: "sub" }, name + " \u00b7 " + describe(s, key, a)));
    } else {
      r.what.replaceChildren(h("span", { class: "ent-name" }, name), h("span", { class: "sub" }, describe(s, key, a)));
    }
    const fraction = typeof a.fraction === "number" ? a.fraction : a.used / a.limit;
    setBar(r.bar, fraction, a.state, a.expected);
    r.pct.textContent = fmtPct(fraction);
    r.used.textContent = fmtNum(a.used) + " / " + fmtNum(a.limit) + " " + unitOf(key, a);
    r.since.textContent = typeof a.since === "number" && a.since > 0 ? s.fmt.when(a.since, true) : "\u2013";
    if (typeof ts === "number") r.tr.dataset.ts = String(ts);
    if (changed) {
      /* When it was put on the page (the browser test measures this). */
      r.tr.dataset.shownMs = String(performance.timeOrigin + performance.now());
      if (s.loaded) flash(r.tr);
    }
  }

  function removeAlert(s, key) {
    const r = s.alertRows.get(key);
    if (r) r.tr.remove();
    s.alertRows.delete(key);
    s.alerts.delete(key);
  }

  /* Worst first, then the newest. */
  function sortAlerts(s) {
    const rows = [...s.alertRows.entries()].sort(([ka, ra], [kb, rb]) => {
      const d = SEVERITY[rb.tr.dataset.state] - SEVERITY[ra.tr.dataset.state];
      if (d) return d;
      const sa = (s.alerts.get(ka) || {}).since || 0, sb = (s.alerts.get(kb) || {}).since || 0;
      return sb - sa || (ka < kb ? -1 : 1);
    });
    const body = $("alerts-body");
    rows.forEach(([, r], i) => {
      if (body.children[i] !== r.tr) body.insertBefore(r.tr, body.children[i] || null);
    });
    const n = rows.length;
    $("alerts-count").textContent = String(n);
    $("alerts-count").classList.toggle("hot", n > 0);
    $("alerts-empty").hidden = n > 0;
    $("alerts-table").hidden = n === 0;
  }

  function applyAlerts(s, list, seq0) {
    const seen = new Set();
    for (const a of list || []) {
      const key = a.enterprise + "/" + a.quota;
      seen.add(key);
      if ((s.touched.get(key) || 0) > seq0) continue;
      upsertAlert(s, key, a, null);
    }
    for (const key of [...s.alertRows.keys()]) {
      if (!seen.has(key) && (s.touched.get(key) || 0) <= seq0) removeAlert(s, key);
    }
    sortAlerts(s);
  }

  /* One alert transition from the event stream. */
  function onAlert(s, ev) {
    if (!ev || typeof ev.enterprise !== "string" || typeof ev.name !== "string") return;
    const key = ev.enterprise + "/" + ev.name;
    const to = ev.to in SEVERITY ? ev.to : "ok";
    s.touched.set(key, ++s.seq);
    const a = Object.assign({}, ev.alert || {}, { enterprise: ev.enterprise, quota: ev.name, state: to });
    if (to === "ok") removeAlert(s, key);
    else upsertAlert(s, key, a, ev.ts);
    sortAlerts(s);
    if (s.quotaRows.has(key)) {
      const q = Object.assign({}, s.usage.get(key) || {}, ev.alert || {}, { state: to });
      s.usage.set(key, q);
      fillQuotaRow(s, key, q);
    }
    addEvent(s, ev, to);
    renderKpis(s);
  }

  function addEvent(s, ev, to) {
    const list = $("events-list");
    const when = typeof ev.ts === "number" ? ev.ts * 1000 : Date.now();
    const owner = ev.enterprise;
    list.prepend(h("li", null,
      h("span", { class: "time" }, s.fmt.clock(when)),
      h("span", { class: "what" }, h("b", null, s.names.get(owner) || owner), " \u00b7 " + ev.name),
      h("span", { class: "change" }, pill(ev.from, true), "\u2192", pill(to, true))));
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    $("events-empty").hidden = true;
  }

  /* ----------------------------------------------------------- capacity */

  function renderCapacity(s) {
    const c = s.capacity;
    const body = $("capacity-body");
    if (!c) return;
    const u = c.utilization;
    const state = !Number.isFinite(u) ? "none" : u >= 1 ? "exceeded" : u >= s.levels.critical ? "critical" : u >= s.levels.warn ? "warn" : "ok";
    const b = bar("cap-bar");
    setBar(b, u, state, null);
    const left = c.capacity_m3_day - c.today_m3;
    const stat = (label, value) => h("div", { class: "cap-stat" },
      h("div", { class: "label" }, label), h("div", { class: "value" }, value));
    body.replaceChildren(
      h("div", { class: "cap-main" }, h("span", { class: "cap-today" }, fmtNum(c.today_m3) + " m\u00b3"),
        h("span", { class: "cap-of" }, "inflow today, of " + fmtNum(c.capacity_m3_day) + " m\u00b3/day")),
      b.el,
      h("div", { class: "cap-pct" }, h("span", null, fmtPct(u) + " of capacity"), pill(state, true)),
      h("div", { class: "cap-stats" },
        stat("Headroom", fmtNum(c.headroom_m3_day) + " m\u00b3/day"),
        stat("30-day peak", fmtNum(c.peak30_m3) + " m\u00b3/day"),
        stat("Left today", fmtNum(left) + " m\u00b3"),
        stat("Capacity", fmtNum(c.capacity_m3_day) + " m\u00b3/day")));
    body.dataset.state = state;
  }

  /* --------------------------------------------------------- key figures */

  function renderKpis(s) {
    const tiles = [];
    const tile = (label, value, unit, note, state) => tiles.push(h("div", { class: "card kpi", data: { state } },
      h("div", { class: "kpi-label" }, label),
      h("div", { class: "kpi-value" }, value, unit ? h("small", null, unit) : null),
      h("div", { class: "kpi-note" }, note)));

    const count = { warn: 0, critical: 0, exceeded: 0 };
    let worst = "ok";
    for (const a of s.alerts.values()) {
      if (a.state in count) count[a.state]++;
      if (SEVERITY[a.state] > SEVERITY[worst]) worst = a.state;
    }
    tile("Active alerts", String(s.alerts.size), null,
      count.exceeded + " exceeded \u00b7 " + count.critical + " critical \u00b7 " + count.warn + " warn", worst);

    let atRisk = 0, riskState = "ok", soonest = null, top = null, over = null;
    for (const [key, q] of s.usage) {
      if (q.fraction >= 1 && !over) over = key;
      if (SEVERITY[q.state] > 0) atRisk++;
      if (SEVERITY[q.state] > SEVERITY[riskState]) riskState = q.state;
      if (typeof q.exhaust_at === "number" && (!soonest || q.exhaust_at < soonest.q.exhaust_at)) soonest = { key, q };
      if (Number.isFinite(q.fraction) && (!top || q.fraction > top.q.fraction)) top = { key, q };
    }
    const owners = new Set([...s.quotaRows.keys()].map((k) => k.slice(0, k.indexOf("/"))));
    tile("Quotas at warn or worse", String(atRisk), "of " + s.quotaRows.size,
      s.staff ? owners.size + (owners.size === 1 ? " owner" : " owners") + " with quotas" : "this period", riskState);

    const label = (key) => {
      const o = key.slice(0, key.indexOf("/"));
      return (s.staff ? (s.names.get(o) || o) + " \u00b7 " : "") + key.slice(o.length + 1);
    };
    if (s.showCapacity && s.capacity) {
      const c = s.capacity;
      tile("Treatment plant today", fmtPct(c.utilization), null,
        fmtNum(c.today_m3) + " of " + fmtNum(c.capacity_m3_day) + " m\u00b3", $("capacity-body").dataset.state);
      tile("Headroom", fmtNum(c.headroom_m3_day), "m\u00b3/day", "capacity minus the 30-day peak",
        c.headroom_m3_day > 0 ? "ok" : "exceeded");
    } else {
      if (soonest) {
        tile("Next exhaustion", s.fmt.when(soonest.q.exhaust_at), null,
          label(soonest.key) + " \u00b7 " + fmtIn(soonest.q.exhaust_at), soonest.q.state);
      } else if (over) {
        tile("Next exhaustion", "reached", null, label(over) + " is over its limit", "exceeded");
      } else {
        tile("Next exhaustion", "none", null, "no quota runs out this period", "ok");
      }
      tile("Highest use", top ? fmtPct(top.q.fraction) : "\u2013", null, top ? label(top.key) : "no data yet",
        top ? top.q.state : "none");
    }
    $("kpis").replaceChildren(...tiles);
  }

  /* -------------------------------------------------------------- graphs */

  /* Fetch a graph with the token (an <img src> cannot send it) and show it
   * through an object URL; a newer request for the same figure wins. */
  async function loadGraph(s, fig, path, ratio) {
    const frame = fig.querySelector(".graph-frame");
    const gen = (s.graphGen.get(fig.id) || 0) + 1;
    s.graphGen.set(fig.id, gen);
    const width = Math.max(400, Math.min(1600, Math.round(frame.clientWidth || 640)));
    const height = Math.max(200, Math.round(width * ratio));
    const msg = (text) => frame.replaceChildren(h("span", { class: "graph-msg" }, text));
    if (!frame.querySelector("img")) msg("Loading\u2026");
    let blob;
    try {
      const res = await fetch(path + "?width=" + width + "&height=" + height,
        { headers: authHeaders(s), cache: "no-store", credentials: "omit" });
      if (!res.ok) throw new HttpError(res.status, await errorText(res));
      blob = await res.blob();
    } catch (e) {
      if (!s.active || s.graphGen.get(fig.id) !== gen) return;
      if (e instanceof HttpError && e.status === 401) return failed(s, "Graph", e);
      return msg("No graph: " + e.message);
    }
    if (!s.active || s.graphGen.get(fig.id) !== gen) return;
    const url = URL.createObjectURL(blob);
    const img = new Image();
    img.alt = fig.querySelector("figcaption b").textContent;
    img.onload = () => {
      const old = s.graphUrls.get(fig.id);
      if (!s.active || s.graphGen.get(fig.id) !== gen) {
        URL.revokeObjectURL(url);
        return;
      }
      frame.replaceChildren(img);
      s.graphUrls.set(fig.id, url);
      if (old) URL.revokeObjectURL(old);
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      if (s.graphGen.get(fig.id) === gen) msg("The graph could not be shown.");
    };
    img.src = url;
  }

  function refreshGraphs(s) {
    if (s.showCapacity) loadGraph(s, $("capacity-graph"), "api/v1/graph/capacity.png", 0.42);
    loadQuotaGraph(s);
  }

  /* ------------------------------------------------------------- refresh */

  /* Usage, alerts and capacity anew. Keys the stream changed since the
   * requests left keep the stream's version (seq0). */
  async function resync(s) {
    const seq0 = s.seq;
    const jobs = [
      api(s, "api/v1/usage").then((u) => s.active && applyUsage(s, u.usage, seq0)),
      api(s, "api/v1/alerts").then((a) => s.active && applyAlerts(s, a.alerts, seq0)),
    ];
    if (s.showCapacity) {
      jobs.push(api(s, "api/v1/capacity").then((c) => {
        if (!s.active) return;
        s.capacity = c;
        renderCapacity(s);
      }));
    }
    const results = await Promise.allSettled(jobs);
    if (!s.active) return false;
    const bad = results.find((r) => r.status === "rejected");
    if (bad) {
      failed(s, "Cannot refresh", bad.reason);
    } else {
      showBanner("");
      const now = s.fmt.clock(Date.now());
      $("usage-updated").textContent = "updated " + now;
      $("capacity-updated").textContent = "updated " + now;
    }
    renderKpis(s);
    s.loaded = true;
    return !bad;
  }

  /* Graphs on the first call and then every GRAPH_REFRESH_MS. */
  async function refresh(s) {
    await resync(s);
    if (!s.active || Date.now() - (s.graphsAt || 0) < GRAPH_REFRESH_MS - 1000) return;
    s.graphsAt = Date.now();
    refreshGraphs(s);
  }

  /* -------------------------------------------------------- event stream */

  /* Server-sent events framing: lines end in CRLF, LF or CR; "field: value"
   * lines; a blank line dispatches; lines starting with ':' are comments. */
  class SseParser {
    constructor(onEvent) {
      this.onEvent = onEvent;
      this.buf = "";
      this.type = "";
      this.data = [];
    }

    push(text) {
      this.buf += text;
      let start = 0;
      for (;;) {
        const rest = this.buf.slice(start);
        const i = rest.search(/[\r\n]/);
        if (i < 0) break;
        if (rest[i] === "\r" && i === rest.length - 1) break; /* maybe CRLF */
        const eol = rest[i] === "\r" && rest[i + 1] === "\n" ? 2 : 1;
        this.line(rest.slice(0, i));
        start += i + eol;
      }
      this.buf = this.buf.slice(start);
    }

    line(line) {
      if (line === "") {
        if (this.data.length) this.onEvent(this.type || "message", this.data.join("\n"));
        this.type = "";
        this.data = [];
        return;
      }
      if (line[0] === ":") return;
      const c = line.indexOf(":");
      const field = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? "" : line.slice(c + 1);
      if (value[0] === " ") value = value.slice(1);
      if (field === "event") this.type = value;
      else if (field === "data") this.data.push(value);
    }
  }

  function setLive(on, text) {
    const el = $("live");
    el.dataset.live = on ? "1" : "0";
    $("live-text").textContent = text;
  }

  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

  /* fetch() and a reader, since EventSource cannot send the token; reconnects
   * with a growing delay, reset by the server's hello. */
  async function streamLoop(s) {
    let delay = BACKOFF_MIN_MS;
    while (s.active) {
      const ctrl = new AbortController();
      s.stream = ctrl;
      let idle = null;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => ctrl.abort(), STREAM_IDLE_MS);
      };
      let why = "";
      try {
        arm();
        const res = await fetch("api/v1/events", {
          headers: Object.assign({ Accept: "text/event-stream" }, authHeaders(s)),
          cache: "no-store",
          credentials: "omit",
          signal: ctrl.signal,
        });
        if (res.status === 401) {
          clearTimeout(idle);
          return failed(s, "Live alerts", new HttpError(401, "unauthorized"));
        }
        if (!res.ok || !res.body) throw new HttpError(res.status, await errorText(res));
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        const parser = new SseParser((type, data) => {
          if (!s.active) return;
          if (type === "hello") {
            delay = BACKOFF_MIN_MS;
            setLive(true, "Live");
            $("live").dataset.connects = String(++s.connects);
            /* Whatever happened before this stream was open. */
            resync(s).then(() => { if (s.active && s.quotaGraphStale) loadQuotaGraph(s); });
          } else if (type === "alert") {
            let ev = null;
            try {
              ev = JSON.parse(data);
            } catch (e) {
              return;
            }
            onAlert(s, ev);
          }
        });
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          arm();
          parser.push(decoder.decode(value, { stream: true }));
        }
        why = "the stream ended";
      } catch (e) {
        why = e && e.name === "AbortError" ? "no data for " + STREAM_IDLE_MS / 1000 + " s" : e.message;
      }
      clearTimeout(idle);
      if (!s.active) return;
      const wait = delay + Math.round(Math.random() * delay * 0.2);
      setLive(false, "Reconnecting");
      $("live").title = "Live alerts: " + why + "; retrying in " + Math.round(wait / 1000) + " s";
      await sleep(wait);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }

  /* ---------------------------------------------------------------- boot */

  function boot() {
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const t = $("token-input").value.trim();
      if (!t) return;
      store("set", t);
      $("login-msg").textContent = "";
      start(t);
    });
    $("signout").addEventListener("click", () => signOut(""));
    $("quotas-body").addEventListener("click", onQuotaPick);
    $("quotas-body").addEventListener("keydown", onQuotaPick);
    window.addEventListener("hashchange", () => {
      if (tokenFromHash() === null) return;
      if (session) signOut("");
      start(takeHashToken());
    });
    const token = takeHashToken() || store("get");
    if (token) start(token);
    else showLogin("");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
