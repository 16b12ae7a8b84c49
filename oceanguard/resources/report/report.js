/* oceanguard investigator map report.
 * Reads the data block written by oceanguard.report (window.OG_DATA) and draws, on a Leaflet map:
 * latest positions per object (one layer per source, clustered), simplified trajectories drawn in pieces
 * (broken wherever the features start a new segment: a long silence or an impossible jump; a one-report
 * piece is a dot), bad fixes (isolated implausible positions) as their own markers, anomalies
 * coloured by kind and sized by severity, with a panel that filters by time, kind, severity and area,
 * and popups that say why each anomaly was flagged. In each anomaly's popup the investigator gives a verdict
 * (confirmed, false alarm, unsure) with a note and their name; verdicts are kept in the browser's localStorage
 * (keyed by the report's id and the anomaly's id) and exported, offline, as verdicts-<report>.json for
 * `oceanguard labels import`. Plain ES2017, no network access. */
function ogStart() {
  "use strict";
  const D = window.OG_DATA;
  const map = window[D.map_var];
  if (map.options.maxZoom == null) map.setMaxZoom(18);  /* no tile layer: clustering needs a zoom range */
  if (map.options.minZoom == null) map.setMinZoom(2);
  const canvas = L.canvas({ padding: 0.5 });
  const TYPE_STYLE = D.object_types;
  const KIND_COLOR = D.kind_colors;
  const SEV_RADIUS = { low: 6, medium: 9, high: 12 };
  const SEV_RANK = { low: 0, medium: 1, high: 2 };
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const fmtT = (s) => (s == null ? "" : new Date((D.t0 + s) * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC");
  const O = D.objects, A = D.anomalies, TR = D.tracks, PC = D.pieces || [], BF = D.bad_fixes || { obj: [] }, TP = D.track_params || {};
  const nObj = O.id.length, nAn = A.id.length;

  /* ---------- state ---------- */
  const state = {
    t1: D.tmin, t2: D.tmax,
    kinds: new Set(D.kinds), minSev: 0, inView: false, query: "", highlighted: -1,
  };

  /* ---------- background ---------- */
  if (D.land) {
    L.geoJSON(D.land, { renderer: canvas, interactive: false, style: { color: "#9a9a8a", weight: 0.6, fillColor: "#e8e4d8", fillOpacity: 1 } }).addTo(map);
  }
  map.getContainer().style.background = "#c9dbe8";

  /* ---------- trajectories: one line per piece (D.pieces[i] = first vertex of each piece), never across a break ---------- */
  const trackLayer = L.layerGroup().addTo(map);
  const trackLines = new Array(nObj).fill(null);   /* per object: the layers drawn for it (lines and one-report dots) */
  function trackPieces(i) {
    const tr = TR[i]; if (!tr) return [];
    const starts = PC[i] && PC[i].length ? PC[i] : [0], nv = tr.length / 3;
    const out = [];
    for (let p = 0; p < starts.length; p++) {
      const end = p + 1 < starts.length ? starts[p + 1] : nv;
      const c = [];
      for (let v = starts[p]; v < end; v++) {
        const t = tr[v * 3 + 2];
        if (t < state.t1 || t > state.t2) continue;
        c.push([tr[v * 3] / 1e5, tr[v * 3 + 1] / 1e5]);
      }
      if (c.length) out.push(c);
    }
    return out;
  }
  function drawTracks() {
    trackLayer.clearLayers();
    for (let i = 0; i < nObj; i++) {
      trackLines[i] = null;
      if (!visibleObject(i)) continue;
      const pcs = trackPieces(i);
      if (!pcs.length) continue;
      const hl = i === state.highlighted, color = hl ? "#ff6a00" : TYPE_STYLE[O.type[i]].color;
      const drawn = [];
      for (const c of pcs) {
        const lyr = c.length > 1
          ? L.polyline(c, { renderer: canvas, color: color, weight: hl ? 4 : 1.2, opacity: hl ? 1 : 0.55, interactive: true, ogRole: "track", ogObj: i })
          : L.circleMarker(c[0], { renderer: canvas, radius: hl ? 4 : 2.5, stroke: false, fillColor: color, fillOpacity: hl ? 1 : 0.8, ogRole: "lone", ogObj: i });
        lyr.on("click", () => highlight(i, true));
        lyr.bindTooltip(esc(O.label[i]) + (c.length > 1 ? "" : " · one report between breaks"), { sticky: true });
        drawn.push(lyr);
        trackLayer.addLayer(lyr);
      }
      trackLines[i] = drawn;
    }
    if (state.highlighted >= 0 && trackLines[state.highlighted]) trackLines[state.highlighted].forEach((l) => l.bringToFront());
  }

  /* ---------- bad fixes: isolated impossible positions, drawn apart from the line ---------- */
  const badFixLayer = L.layerGroup().addTo(map);
  const fmtNum = (x, d) => (x == null ? "∞" : Number(x).toFixed(d));
  function badFixText(b) {
    return `implied speed in ${fmtNum(BF.speed_in_kn[b], 0)} kn (${fmtNum(BF.jump_in_nm[b], 1)} nm in ${fmtNum(BF.dt_in_s[b], 0)} s), ` +
      `out ${fmtNum(BF.speed_out_kn[b], 0)} kn (${fmtNum(BF.jump_out_nm[b], 1)} nm in ${fmtNum(BF.dt_out_s[b], 0)} s)`;
  }
  function badFixPopup(b) {
    const i = BF.obj[b];
    return `<div class="og-popup"><div class="og-title og-badfix-title">Implausible position (bad fix)</div>
      <table class="og-table"><tr><th>object</th><td><a href="#" data-obj="${i}">${esc(O.label[i])}</a></td></tr>
      <tr><th>time</th><td>${esc(fmtT(BF.t[b]))}</td></tr>
      <tr><th>position</th><td>${BF.lat[b].toFixed(5)}, ${BF.lon[b].toFixed(5)}</td></tr>
      <tr><th>step in</th><td>${fmtNum(BF.jump_in_nm[b], 1)} nm in ${fmtNum(BF.dt_in_s[b], 0)} s: ${fmtNum(BF.speed_in_kn[b], 0)} kn</td></tr>
      <tr><th>step out</th><td>${fmtNum(BF.jump_out_nm[b], 1)} nm in ${fmtNum(BF.dt_out_s[b], 0)} s: ${fmtNum(BF.speed_out_kn[b], 0)} kn</td></tr></table>
      <div class="og-why">Both the step to this report and the step back from it imply more than ${esc(TP.max_speed_kn)} kn: one bad position, left out of the track.</div></div>`;
  }
  function drawBadFixes() {
    badFixLayer.clearLayers();
    for (let b = 0; b < BF.obj.length; b++) {
      const i = BF.obj[b];
      if (BF.t[b] < state.t1 || BF.t[b] > state.t2 || !visibleObject(i)) continue;
      const m = L.circleMarker([BF.lat[b], BF.lon[b]], { renderer: canvas, radius: 4, color: "#b2182b", weight: 1.5, dashArray: "2 2", fillColor: "#ffffff", fillOpacity: 0.9, ogRole: "badfix", ogObj: i });
      m.bindTooltip(esc("implausible position · " + O.label[i] + " · " + badFixText(b)));
      m.bindPopup(() => badFixPopup(b), { maxWidth: 360 });
      badFixLayer.addLayer(m);
    }
  }

  /* ---------- latest positions, one clustered layer per source ---------- */
  const sourceLayers = {};
  D.sources.forEach((s) => { sourceLayers[s] = L.markerClusterGroup({ maxClusterRadius: 40, disableClusteringAtZoom: 12, chunkedLoading: true }).addTo(map); });
  function latestIndex(i) {
    const tr = TR[i]; if (!tr) return -1;
    let lo = 0, hi = tr.length / 3 - 1, best = -1;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (tr[mid * 3 + 2] <= state.t2) { best = mid; lo = mid + 1; } else hi = mid - 1; }
    if (best < 0 || tr[best * 3 + 2] < state.t1) return -1;
    return best;
  }
  function objectPopup(i) {
    const rows = O.details[i].map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("");
    const an = [];
    for (let j = 0; j < nAn; j++) if (A.obj[j] === i) an.push(j);
    const anHtml = an.length ? `<div class="og-sub">Anomalies (${an.length})</div><ul class="og-anlist">` + an.slice(0, 15).map((j) => `<li><a href="#" data-an="${j}"><span class="og-dot" style="background:${KIND_COLOR[A.kind[j]] || "#555"}"></span>${esc(A.kind[j])} ${esc(fmtT(A.start[j]))}</a></li>`).join("") + (an.length > 15 ? `<li>… ${an.length - 15} more</li>` : "") + "</ul>" : "";
    return `<div class="og-popup"><div class="og-title">${esc(O.label[i])}</div><div class="og-type">${esc(O.type[i])}</div><table class="og-table">${rows}</table>${anHtml}</div>`;
  }
  function markerFor(i, k) {
    const tr = TR[i];
    const st = TYPE_STYLE[O.type[i]];
    const icon = L.divIcon({ className: "og-obj og-" + O.type[i], html: `<span style="background:${st.color}"></span>`, iconSize: [12, 12] });
    const m = L.marker([tr[k * 3] / 1e5, tr[k * 3 + 1] / 1e5], { icon: icon, title: O.label[i] });
    m.bindPopup(() => objectPopup(i), { maxWidth: 360 });
    m.on("click", () => highlight(i, false));
    m.ogIndex = i;
    return m;
  }
  function visibleObject(i) {
    if (!state.query) return true;
    return O.label[i].toLowerCase().includes(state.query) || O.id[i].toLowerCase().includes(state.query);
  }
  function drawPositions() {
    const bySource = {};
    D.sources.forEach((s) => (bySource[s] = []));
    for (let i = 0; i < nObj; i++) {
      if (!visibleObject(i)) continue;
      const k = latestIndex(i);
      if (k < 0) continue;
      bySource[D.sources[O.source[i]]].push(markerFor(i, k));
    }
    D.sources.forEach((s) => { sourceLayers[s].clearLayers(); sourceLayers[s].addLayers(bySource[s]); });
  }
  function highlight(i, openPopup) {
    state.highlighted = i;
    drawTracks();
    if (openPopup) L.popup({ maxWidth: 360 }).setLatLng(trackLines[i] ? L.featureGroup(trackLines[i]).getBounds().getCenter() : map.getCenter()).setContent(objectPopup(i)).openOn(map);
  }

  /* ---------- anomalies ---------- */
  const anomalyLayer = L.layerGroup().addTo(map);
  const anMarkers = new Array(nAn).fill(null);
  let lastShown = [];
  function renderValue(v, depth) {
    if (v == null) return "";
    if (Array.isArray(v)) {
      if (v.length && typeof v[0] === "object" && v[0] !== null && !Array.isArray(v[0])) {
        const keys = Object.keys(v[0]).slice(0, 8);
        const head = keys.map((k) => `<th>${esc(k)}</th>`).join("");
        const body = v.slice(0, 12).map((r) => "<tr>" + keys.map((k) => `<td>${esc(fmtCell(r[k]))}</td>`).join("") + "</tr>").join("");
        return `<table class="og-table og-evtable"><tr>${head}</tr>${body}</table>` + (v.length > 12 ? `<div class="og-more">… ${v.length - 12} more rows</div>` : "");
      }
      return esc(v.slice(0, 20).map(fmtCell).join(", ") + (v.length > 20 ? " …" : ""));
    }
    if (typeof v === "object") {
      if (depth > 2) return esc(JSON.stringify(v).slice(0, 200));
      return `<table class="og-table">` + Object.entries(v).map(([k, x]) => `<tr><th>${esc(k)}</th><td>${renderValue(x, depth + 1)}</td></tr>`).join("") + `</table>`;
    }
    return esc(fmtCell(v));
  }
  function fmtCell(x) {
    if (typeof x === "number") return Number.isInteger(x) ? String(x) : x.toFixed(Math.abs(x) < 10 ? 3 : 1);
    return x == null ? "" : String(x);
  }
  function normaliseAttribution(att) {
    /* two shapes: {features: {name: value}, steps: [{t, value}]} or captum's table from oceanguard.models.explain:
       {features: [names], steps: [[time, v_1, ..., v_n], ...], method, completeness_error} */
    if (!att) return null;
    if (Array.isArray(att.features)) {
      const names = att.features, steps = att.steps || [];
      const totals = names.map((_, f) => steps.reduce((a, r) => a + Math.abs(r[f + 1] || 0), 0));
      return { features: Object.fromEntries(names.map((n, f) => [n, totals[f]])),
               steps: steps.map((r) => ({ t: String(r[0]).slice(11, 16), value: r.slice(1).reduce((a, v) => a + Math.abs(v || 0), 0) })),
               note: `${att.method || "attributions"}${att.completeness_error != null ? `, completeness error ${fmtCell(att.completeness_error)}` : ""}${att.baseline ? `, baseline: ${att.baseline}` : ""}` };
    }
    return { features: att.features || {}, steps: att.steps || [], note: att.method || "" };
  }
  function attributionChart(raw) {
    const att = normaliseAttribution(raw);
    if (!att) return "";
    let html = "";
    const feats = Object.entries(att.features).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    if (feats.length) {
      const mx = Math.max(...feats.map(([, v]) => Math.abs(v))) || 1;
      const h = 16 * feats.length + 4;
      html += `<div class="og-sub">Attribution by feature</div><svg class="og-chart" width="300" height="${h}">` + feats.map(([k, v], r) => {
        const w = Math.round((Math.abs(v) / mx) * 170);
        return `<text x="0" y="${16 * r + 12}" font-size="11">${esc(k)}</text><rect x="110" y="${16 * r + 3}" width="${w}" height="11" fill="${v >= 0 ? "#d6604d" : "#4393c3"}"><title>${esc(k)}: ${fmtCell(v)}</title></rect>`;
      }).join("") + "</svg>";
    }
    const steps = att.steps || [];
    if (steps.length) {
      const vals = steps.map((s) => Math.abs(s.value));
      const mx = Math.max(...vals) || 1, bw = Math.max(1, Math.floor(290 / steps.length));
      html += `<div class="og-sub">Attribution over time</div><svg class="og-chart" width="300" height="50">` + steps.map((s, r) => `<rect x="${r * bw}" y="${45 - Math.round((Math.abs(s.value) / mx) * 40)}" width="${Math.max(1, bw - 1)}" height="${Math.round((Math.abs(s.value) / mx) * 40)}" fill="#d6604d"><title>${esc(s.t)}: ${fmtCell(s.value)}</title></rect>`).join("") + `</svg><div class="og-axis"><span>${esc(steps[0].t)}</span><span>${esc(steps[steps.length - 1].t)}</span></div>`;
    }
    if (att.note) html += `<div class="og-small">${esc(att.note)}</div>`;
    return html;
  }
  function anomalyPopup(j) {
    const ev = A.evidence[j] || {};
    const att = ev.attribution || ev.attributions;
    const rest = Object.assign({}, ev); delete rest.attribution; delete rest.attributions; delete rest.chart_png;
    const i = A.obj[j];
    return `<div class="og-popup og-anpopup">
      <div class="og-title"><span class="og-dot" style="background:${KIND_COLOR[A.kind[j]] || "#555"}"></span>${esc(A.kind[j])} <span class="og-sev og-sev-${esc(A.severity[j])}">${esc(A.severity[j])}</span></div>
      <table class="og-table">
        <tr><th>object</th><td><a href="#" data-obj="${i}">${esc(i >= 0 ? O.label[i] : A.object_id[j])}</a></td></tr>
        <tr><th>detector</th><td>${esc(A.detector[j])}</td></tr>
        <tr><th>from</th><td>${esc(fmtT(A.start[j]))}</td></tr>
        <tr><th>to</th><td>${esc(fmtT(A.end[j]))}</td></tr>
        <tr><th>score</th><td>${fmtCell(A.score[j])}</td></tr>
        <tr><th>id</th><td>${esc(A.id[j])}</td></tr>
      </table>
      <div class="og-sub">Why it was flagged</div>
      <div class="og-why">${esc(A.explanation[j])}</div>
      ${attributionChart(att)}
      ${ev.chart_png ? `<img class="og-chart-img" src="data:image/png;base64,${ev.chart_png}" alt="attribution chart">` : ""}
      ${verdictControl(j)}
      <details ${att ? "" : "open"}><summary>Trail (evidence)</summary>${renderValue(rest, 0)}</details>
    </div>`;
  }
  function anomalyVisible(j, bounds) {
    if (!state.kinds.has(A.kind[j])) return false;
    if (SEV_RANK[A.severity[j]] < state.minSev) return false;
    if (A.end[j] < state.t1 || A.start[j] > state.t2) return false;
    if (state.query && !(A.obj[j] >= 0 && visibleObject(A.obj[j])) && !A.object_id[j].toLowerCase().includes(state.query)) return false;
    if (bounds && !bounds.contains([A.lat[j], A.lon[j]])) return false;
    return true;
  }
  function drawAnomalies() {
    anomalyLayer.clearLayers();
    const bounds = state.inView ? map.getBounds() : null;
    const shown = [];
    for (let j = 0; j < nAn; j++) {
      if (!anomalyVisible(j, bounds)) continue;
      if (!anMarkers[j]) {
        const m = L.circleMarker([A.lat[j], A.lon[j]], { renderer: canvas, radius: SEV_RADIUS[A.severity[j]] || 7, color: A.severity[j] === "high" ? "#7f0000" : "#333", weight: A.severity[j] === "high" ? 2.5 : 1, fillColor: KIND_COLOR[A.kind[j]] || "#555", fillOpacity: 0.85, dashArray: verdicts[j] ? "3 2" : null });
        m.bindPopup(() => anomalyPopup(j), { maxWidth: 380, maxHeight: 420 });
        m.bindTooltip(esc(A.kind[j] + " · " + (A.obj[j] >= 0 ? O.label[A.obj[j]] : A.object_id[j])));
        m.on("popupopen", () => { if (A.obj[j] >= 0) { state.highlighted = A.obj[j]; drawTracks(); } });
        anMarkers[j] = m;
      }
      anomalyLayer.addLayer(anMarkers[j]);
      shown.push(j);
    }
    lastShown = shown;
    updateList(shown);
  }

  /* ---------- verdicts: the investigator's word on each anomaly, kept in localStorage, exported as a file ---------- */
  const VERDICTS = [["confirmed", "confirmed"], ["false_alarm", "false alarm"], ["unsure", "unsure"]];
  const VKEY = "oceanguard:" + D.report_id + ":verdict:", AKEY = "oceanguard:" + D.report_id + ":author";
  const memory = {};   /* used when the browser refuses storage (then verdicts last until the page is closed) */
  let stored = true;
  const store = {
    get(k) { try { return window.localStorage.getItem(k); } catch (e) { stored = false; return k in memory ? memory[k] : null; } },
    set(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { stored = false; memory[k] = v; } },
    remove(k) { try { window.localStorage.removeItem(k); } catch (e) { stored = false; delete memory[k]; } },
  };
  const verdicts = new Array(nAn).fill(null);
  for (let j = 0; j < nAn; j++) {
    const raw = store.get(VKEY + A.id[j]);
    if (!raw) continue;
    try { verdicts[j] = JSON.parse(raw); } catch (e) { verdicts[j] = null; }
  }
  const isoT = (s) => new Date((D.t0 + s) * 1000).toISOString();
  function author() { return store.get(AKEY) || ""; }
  function verdictControl(j) {
    const v = verdicts[j] || {};
    return `<div class="og-verdict" data-vj="${j}"><div class="og-sub">Your verdict</div>
      <div class="og-vbtns">${VERDICTS.map(([val, text]) => `<label class="og-inline og-v-${val}"><input type="radio" name="og-v-${j}" value="${val}" ${v.verdict === val ? "checked" : ""}> ${text}</label>`).join("")}</div>
      <input class="og-vnote" type="text" placeholder="note: why (optional)" value="${esc(v.note || "")}">
      <input class="og-vauthor" type="text" placeholder="your name (remembered)" value="${esc(v.author || author())}">
      <div class="og-vstate og-small">${verdictState(j)}</div></div>`;
  }
  function verdictState(j) {
    const v = verdicts[j];
    if (!v) return "no verdict yet";
    return `saved ${esc(v.created_at.slice(0, 19).replace("T", " "))} UTC` + (stored ? "" : " (this browser keeps no storage: export before closing)") +
      ` · <a href="#" class="og-vclear" data-vclear="${j}">clear</a>`;
  }
  function saveVerdict(j, box) {
    const picked = box.querySelector("input[type=radio]:checked");
    if (!picked) return;
    const who = box.querySelector(".og-vauthor").value.trim(), note = box.querySelector(".og-vnote").value.trim();
    if (who) store.set(AKEY, who);
    verdicts[j] = { anomaly_id: A.id[j], object_id: A.object_id[j], kind: A.kind[j], start: isoT(A.start[j]), end: isoT(A.end[j]),
                    verdict: picked.value, author: who || null, note: note || null, created_at: new Date().toISOString(), report_title: D.title };
    store.set(VKEY + A.id[j], JSON.stringify(verdicts[j]));
    box.querySelector(".og-vstate").innerHTML = verdictState(j);
    verdictsChanged(j);
  }
  function clearVerdict(j) {
    verdicts[j] = null;
    store.remove(VKEY + A.id[j]);
    const box = document.querySelector(`.og-verdict[data-vj="${j}"]`);
    if (box) { box.querySelectorAll("input[type=radio]").forEach((r) => (r.checked = false)); box.querySelector(".og-vstate").innerHTML = verdictState(j); }
    verdictsChanged(j);
  }
  function onVerdictEvent(e) {
    const box = e.target.closest && e.target.closest(".og-verdict");
    if (!box) return;
    const j = +box.dataset.vj;
    if (e.target.classList.contains("og-vauthor")) { const who = e.target.value.trim(); if (who) store.set(AKEY, who); }
    if (verdicts[j] || e.target.type === "radio") saveVerdict(j, box);
  }
  document.addEventListener("change", onVerdictEvent);
  document.addEventListener("input", (e) => { if (e.target.type !== "radio") onVerdictEvent(e); });
  function verdictList() { return verdicts.filter((v) => v); }
  function exportVerdicts(format) {
    const list = verdictList();
    const base = "verdicts-" + D.report_id;
    let blob, name;
    if (format === "csv") {
      const cols = ["anomaly_id", "object_id", "kind", "start", "end", "verdict", "author", "note", "created_at", "report_title"];
      const cell = (x) => (x == null ? "" : /[",\n\r]/.test(String(x)) ? `"${String(x).replace(/"/g, '""')}"` : String(x));
      blob = new Blob([[cols.join(","), ...list.map((v) => cols.map((c) => cell(v[c])).join(","))].join("\n") + "\n"], { type: "text/csv" });
      name = base + ".csv";
    } else {
      const doc = { format: "oceanguard-verdicts", version: 1, report_id: D.report_id, report_title: D.title, exported_at: new Date().toISOString(), verdicts: list };
      blob = new Blob([JSON.stringify(doc, null, 1)], { type: "application/json" });
      name = base + ".json";
    }
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url; a.download = name; a.style.display = "none";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return name;
  }
  const vpanel = L.control({ position: "bottomleft" });
  vpanel.onAdd = function () {
    const div = L.DomUtil.create("div", "og-vpanel");
    div.innerHTML = `<span id="og-vcount"></span> <button id="og-vexport" type="button">Export verdicts</button> <a href="#" id="og-vexport-csv" class="og-small">as CSV</a>`;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  vpanel.addTo(map);
  const vcount = document.getElementById("og-vcount"), vexport = document.getElementById("og-vexport");
  function verdictsChanged(j) {
    const n = verdictList().length;
    vcount.textContent = n === 1 ? "1 verdict" : `${n} verdicts`;
    vexport.disabled = n === 0;
    if (j != null && anMarkers[j]) anMarkers[j].setStyle({ dashArray: verdicts[j] ? "3 2" : null });
    if (j != null) updateList(lastShown);   /* not drawAnomalies: redrawing the markers would close the open popup */
  }
  vexport.addEventListener("click", () => exportVerdicts("json"));
  document.getElementById("og-vexport-csv").addEventListener("click", (e) => { e.preventDefault(); if (verdictList().length) exportVerdicts("csv"); });
  document.addEventListener("click", (e) => {
    const c = e.target.closest && e.target.closest("[data-vclear]");
    if (c) { e.preventDefault(); clearVerdict(+c.dataset.vclear); }
  });

  /* ---------- layers control and legend ---------- */
  const overlays = { "Trajectories": trackLayer, "Implausible positions": badFixLayer, "Anomalies": anomalyLayer };
  D.sources.forEach((s) => (overlays["Source: " + s] = sourceLayers[s]));
  L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map);
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    const div = L.DomUtil.create("div", "og-legend");
    div.innerHTML = "<b>Objects</b>" + Object.entries(TYPE_STYLE).map(([t, s]) => `<div><span class="og-obj og-${t} og-leg"><span style="background:${s.color}"></span></span>${esc(t)}</div>`).join("") +
      `<div><span class="og-leg og-leg-lone"></span>one report between breaks</div><div><span class="og-leg og-leg-badfix"></span>implausible position (bad fix)</div>` +
      "<b>Anomalies</b>" + D.kinds.map((k) => `<div><span class="og-dot" style="background:${KIND_COLOR[k] || "#555"}"></span>${esc(k)}</div>`).join("") +
      `<div class="og-small">size: severity (low, medium, high); dark ring: high</div>`;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(map);

  /* ---------- filter panel ---------- */
  const panel = L.control({ position: "topleft" });
  let listDiv, countDiv;
  panel.onAdd = function () {
    const div = L.DomUtil.create("div", "og-panel");
    const span = Math.max(1, D.tmax - D.tmin);
    div.innerHTML = `<div class="og-title">${esc(D.title)}</div>
      <div class="og-small">${esc(D.subtitle)}</div>
      <label>from <span id="og-t1l">${esc(fmtT(D.tmin))}</span></label><input id="og-t1" type="range" min="${D.tmin}" max="${D.tmax}" step="${Math.max(1, Math.round(span / 500))}" value="${D.tmin}">
      <label>to <span id="og-t2l">${esc(fmtT(D.tmax))}</span></label><input id="og-t2" type="range" min="${D.tmin}" max="${D.tmax}" step="${Math.max(1, Math.round(span / 500))}" value="${D.tmax}">
      <div class="og-row"><input id="og-q" type="search" placeholder="object name, MMSI or id"></div>
      <div class="og-row">severity ≥ <select id="og-sev"><option value="0">low</option><option value="1">medium</option><option value="2">high</option></select>
      <label class="og-inline"><input id="og-view" type="checkbox"> only in view</label></div>
      <div class="og-kinds">${D.kinds.map((k) => `<label class="og-inline"><input type="checkbox" class="og-kind" value="${esc(k)}" checked><span class="og-dot" style="background:${KIND_COLOR[k] || "#555"}"></span>${esc(k)}</label>`).join("")}</div>
      <div id="og-count" class="og-small"></div><div id="og-list" class="og-list"></div>`;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  panel.addTo(map);
  listDiv = document.getElementById("og-list");
  countDiv = document.getElementById("og-count");
  function updateList(shown) {
    countDiv.textContent = `${shown.length} of ${nAn} anomalies shown · ${nObj} objects`;
    listDiv.innerHTML = shown.slice(0, 200).map((j) => `<a href="#" data-an="${j}" class="og-item"><span class="og-dot" style="background:${KIND_COLOR[A.kind[j]] || "#555"}"></span>${verdicts[j] ? `<span class="og-vtag og-v-${verdicts[j].verdict}">${esc(verdicts[j].verdict.replace("_", " "))}</span> ` : ""}${esc(A.kind[j])} · ${esc(A.obj[j] >= 0 ? O.label[A.obj[j]] : A.object_id[j])} · ${esc(fmtT(A.start[j]).slice(5, 16))}</a>`).join("") + (shown.length > 200 ? `<div class="og-more">… ${shown.length - 200} more (narrow the filters)</div>` : "");
  }
  function openAnomaly(j) {
    map.closePopup();
    map.setView([A.lat[j], A.lon[j]], Math.max(map.getZoom(), 11), { animate: false });
    if (!anMarkers[j] || !anomalyLayer.hasLayer(anMarkers[j])) return;
    anMarkers[j].openPopup();
  }
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("[data-an],[data-obj]");
    if (!a) return;
    e.preventDefault();
    if (a.dataset.an != null) openAnomaly(+a.dataset.an);
    else highlight(+a.dataset.obj, true);
  });
  function refresh() { drawTracks(); drawBadFixes(); drawPositions(); drawAnomalies(); }
  const t1 = document.getElementById("og-t1"), t2 = document.getElementById("og-t2");
  function onTime() {
    let a = +t1.value, b = +t2.value;
    if (a > b) { const x = a; a = b; b = x; }
    state.t1 = a; state.t2 = b;
    document.getElementById("og-t1l").textContent = fmtT(a);
    document.getElementById("og-t2l").textContent = fmtT(b);
    refresh();
  }
  t1.addEventListener("change", onTime); t2.addEventListener("change", onTime);
  document.getElementById("og-sev").addEventListener("change", (e) => { state.minSev = +e.target.value; drawAnomalies(); });
  document.getElementById("og-view").addEventListener("change", (e) => { state.inView = e.target.checked; drawAnomalies(); });
  document.getElementById("og-q").addEventListener("change", (e) => { state.query = e.target.value.trim().toLowerCase(); refresh(); });
  document.querySelectorAll(".og-kind").forEach((c) => c.addEventListener("change", () => {
    state.kinds = new Set([...document.querySelectorAll(".og-kind")].filter((x) => x.checked).map((x) => x.value));
    drawAnomalies();
  }));
  map.on("moveend", () => { if (state.inView) drawAnomalies(); });

  refresh();
  verdictsChanged(null);
  if (D.bounds) map.fitBounds(D.bounds, { padding: [20, 20] });
  function drawn() {   /* what is on the map now, by role: for tests and for a quick look in the console */
    const out = { track: 0, lone: 0, badfix: 0, byObject: {} };
    map.eachLayer((l) => {
      const r = l.options && l.options.ogRole;
      if (!r || !map.hasLayer(l)) return;
      out[r]++;
      const o = (out.byObject[O.id[l.options.ogObj]] = out.byObject[O.id[l.options.ogObj]] || { track: 0, lone: 0, badfix: 0, coords: [] });
      o[r]++;
      o.coords.push(r === "track" ? l.getLatLngs().map((p) => [p.lat, p.lng]) : [[l.getLatLng().lat, l.getLatLng().lng]]);
    });
    return out;
  }
  window.OG = { state: state, drawn: drawn, refresh: refresh, openAnomaly: openAnomaly, highlight: highlight, nObjects: nObj, nAnomalies: nAn, anomalyPopup: anomalyPopup, objectPopup: objectPopup,
                verdicts: verdictList, exportVerdicts: exportVerdicts, reportId: D.report_id };
  document.body.setAttribute("data-og-ready", "1");
}
/* the map itself is created by a later script on the page: start once the page is parsed */
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ogStart); else setTimeout(ogStart, 0);
