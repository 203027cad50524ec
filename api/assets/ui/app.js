// seqcast forecast page. Plain JavaScript, no library, no network access
// beyond this server's own API: GET /health (models), GET
// /v1/models/{name}/metadata (model card), POST /predict. The API key, when
// given, lives in the key field only and is sent with API calls only.
"use strict";

const HISTORY_SHOWN = 120; // the chart shows at most this many past values
const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";

const state = { models: [], meta: null, csv: null };

// fmt shows a number as the page's tables do: two decimals from 100 up, six
// significant digits below. No thousands separators.
function fmt(x) {
  if (typeof x !== "number" || !isFinite(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(2) : String(Number(x.toPrecision(6)));
}

function headers(json) {
  const h = {};
  if (json) h["Content-Type"] = "application/json";
  const k = $("apikey").value.trim();
  if (k) h["X-API-Key"] = k;
  return h;
}

// Errors are shown next to the field they name; fieldErrors maps the API's
// field (or a page field) to the element holding the message.
const errorFor = { apikey: "apikey", model: "model", series: "series", csv: "csv", horizon: "horizon", form: "form" };

function clearErrors() {
  for (const f of Object.keys(errorFor)) {
    $(f + "-error").textContent = "";
    const el = $(f === "csv" ? "csv" : f);
    if (el && el.removeAttribute) el.removeAttribute("aria-invalid");
  }
}

function showError(field, message, focus) {
  const box = $(field + "-error");
  box.textContent = message;
  const el = field === "form" ? null : $(field);
  if (el) {
    el.setAttribute("aria-invalid", "true");
    if (focus) el.focus();
  }
}

// apiField maps an API error to the page field it concerns.
function apiField(status, err) {
  const f = (err && err.field) || "";
  if (status === 401 || status === 403) return "apikey";
  if (f.startsWith("historical_prices") || f.startsWith("window")) return "series";
  if (f === "horizon") return "horizon";
  if (f === "model" || f === "model_version") return "model";
  return "form";
}

function apiMessage(status, err, sent) {
  if (!err) return "HTTP " + status;
  let m = err.message || err.code || "HTTP " + status;
  const idx = /^historical_prices\[(\d+)\]/.exec(err.field || "");
  if (idx && sent) {
    const i = Number(idx[1]);
    m = "value " + (i + 1) + " of " + sent.length + ": " + m;
  }
  if (err.field) m += " (field " + err.field + ")";
  return m;
}

async function loadModels() {
  try {
    const r = await fetch("/health", { headers: { Accept: "application/json" } });
    const body = await r.json();
    const sel = $("model");
    sel.textContent = "";
    state.models = body.models || [];
    for (const m of state.models) {
      const o = document.createElement("option");
      o.value = m.name;
      o.textContent = m.name + " (v" + m.version + (m.ready ? "" : ", loading") + ")";
      if (m.name === body.default_model) o.selected = true;
      sel.appendChild(o);
    }
    if (!state.models.length) showError("model", "the server serves no model");
    $("demo").disabled = !state.models.some((m) => m.name === "gold");
    await loadCard();
  } catch (e) {
    showError("model", "could not list the models: " + e.message);
  }
}

async function loadCard() {
  const name = $("model").value;
  const status = $("card-status"), table = $("card-table"), verdict = $("card-verdict");
  table.hidden = true;
  verdict.textContent = "";
  state.meta = null;
  $("model-info").textContent = "";
  if (!name) return;
  status.textContent = "Loading the model card of " + name + "...";
  let r, body;
  try {
    r = await fetch("/v1/models/" + encodeURIComponent(name) + "/metadata", { headers: headers(false) });
    body = await r.json();
  } catch (e) {
    status.textContent = "Could not load the model card: " + e.message;
    return;
  }
  if (!r.ok) {
    const err = body && body.error;
    status.textContent = r.status === 401 ? "Type the API key to see the model card." : "No model card: " + apiMessage(r.status, err);
    if (r.status === 401 && $("apikey").value.trim()) showError("apikey", apiMessage(r.status, err));
    return;
  }
  const sc = body.seqcast || {};
  state.meta = sc;
  if (sc.window) {
    $("model-info").textContent = "Window " + sc.window + ": give at least " + sc.window + " values" +
      (sc.features > 1 ? "; " + sc.features + " features per step (this page sends one series)" : "") + ".";
  }
  const bt = sc.backtest;
  if (!bt) {
    status.textContent = name + " has no backtest.json: no interval, confidence is always low.";
    return;
  }
  status.textContent = name + ": " + Math.round(bt.level * 100) + "% interval from a backtest on " + (bt.n || "?") + " test windows.";
  $("band-label").textContent = Math.round(bt.level * 100) + "% interval";
  const m = bt.metrics || {}, n = bt.naive || {};
  const tbody = table.tBodies[0];
  tbody.textContent = "";
  const names = { mae: "MAE", rmse: "RMSE", mape: "MAPE (%)" };
  for (const k of ["mae", "rmse", "mape"]) {
    if (m[k] === undefined) continue;
    const tr = tbody.insertRow();
    tr.dataset.metric = k;
    tr.insertCell().textContent = names[k];
    tr.insertCell().textContent = fmt(m[k]);
    tr.insertCell().textContent = n[k] === undefined ? "-" : fmt(n[k]);
  }
  table.hidden = tbody.rows.length === 0;
  if (m.mae !== undefined && n.mae !== undefined) {
    verdict.textContent = m.mae < n.mae
      ? "The model beats the naive forecast on MAE (" + fmt(m.mae) + " < " + fmt(n.mae) + ")."
      : "The model does not beat the naive forecast (last value) on MAE: " + fmt(m.mae) + " vs " + fmt(n.mae) + ".";
  }
}

// parseSeries reads the text area: numbers separated by commas, semicolons
// or white space.
function parseSeries() {
  const text = $("series").value.trim();
  if (!text) return { error: "paste some numbers, upload a CSV or use the demo series" };
  const tokens = text.split(/[\s,;]+/).filter((t) => t !== "");
  const out = [];
  for (let i = 0; i < tokens.length; i++) {
    const v = Number(tokens[i]);
    if (tokens[i] === "" || Number.isNaN(v)) return { error: "value " + (i + 1) + " (\"" + tokens[i].slice(0, 20) + "\") is not a number" };
    out.push(v);
  }
  return { values: out };
}

function seriesInfo() {
  const p = parseSeries();
  $("series-info").textContent = p.values ? p.values.length + " values" : "";
}

// CSV: a header line, then rows; commas (or semicolons) between fields,
// double quotes around a field allowed.
function splitCSVLine(line, sep) {
  const out = [];
  let cur = "", q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === sep) { out.push(cur); cur = ""; } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

function parseCSV(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length < 2) throw new Error("the file needs a header line and at least one row");
  const sep = lines[0].includes(",") ? "," : lines[0].includes(";") ? ";" : "\t";
  const header = splitCSVLine(lines[0], sep);
  const rows = lines.slice(1).map((l) => splitCSVLine(l, sep));
  const numeric = header.map((_, j) => rows.every((r) => r[j] !== undefined && r[j] !== "" && !Number.isNaN(Number(r[j]))));
  return { header, rows, numeric };
}

function fillFromColumn() {
  const c = state.csv, j = Number($("column").value);
  if (!c || Number.isNaN(j)) return;
  const vals = [];
  for (let i = 0; i < c.rows.length; i++) {
    const v = Number(c.rows[i][j]);
    if (c.rows[i][j] === undefined || c.rows[i][j] === "" || Number.isNaN(v)) {
      showError("csv", "column " + c.header[j] + ", line " + (i + 2) + ": \"" + String(c.rows[i][j] || "").slice(0, 20) + "\" is not a number");
      return;
    }
    vals.push(v);
  }
  $("csv-error").textContent = "";
  $("series").value = vals.join("\n");
  seriesInfo();
}

async function onFile() {
  const f = $("csv").files[0];
  const sel = $("column");
  sel.textContent = "";
  sel.disabled = true;
  $("csv-error").textContent = "";
  if (!f) return;
  try {
    state.csv = parseCSV(await f.text());
  } catch (e) {
    showError("csv", f.name + ": " + e.message);
    return;
  }
  const c = state.csv;
  let last = -1;
  c.header.forEach((h, j) => {
    const o = document.createElement("option");
    o.value = String(j);
    o.textContent = h || "column " + (j + 1);
    if (!c.numeric[j]) o.textContent += " (not numeric)";
    if (c.numeric[j]) last = j;
    sel.appendChild(o);
  });
  if (last < 0) {
    showError("csv", f.name + ": no column holds only numbers");
    return;
  }
  sel.disabled = false;
  sel.value = String(last);
  fillFromColumn();
}

async function onDemo() {
  try {
    const r = await fetch("/ui/gold-demo.json");
    const d = await r.json();
    if (state.models.some((m) => m.name === "gold") && $("model").value !== "gold") {
      $("model").value = "gold";
      loadCard();
    }
    $("series").value = d.values.join("\n");
    $("series-info").textContent = d.values.length + " values: gold, USD/oz, " + d.dates[0] + " to " + d.dates[d.dates.length - 1];
  } catch (e) {
    showError("series", "could not load the demo series: " + e.message);
  }
}

async function onSubmit(ev) {
  ev.preventDefault();
  clearErrors();
  const p = parseSeries();
  if (p.error) { showError("series", p.error, true); return; }
  const h = Number($("horizon").value);
  if (!Number.isInteger(h)) { showError("horizon", "a whole number of steps, 1 to 30", true); return; }
  const req = { historical_prices: p.values, horizon: h };
  if ($("model").value) req.model = $("model").value;
  const result = $("result");
  result.dataset.state = "loading";
  $("submit").disabled = true;
  $("status").textContent = "Forecasting...";
  const t0 = performance.now();
  let r, body;
  try {
    r = await fetch("/predict", { method: "POST", headers: headers(true), body: JSON.stringify(req) });
    body = await r.json().catch(() => null);
  } catch (e) {
    result.dataset.state = "error";
    $("submit").disabled = false;
    $("status").textContent = "The request failed.";
    showError("form", "the request failed: " + e.message);
    return;
  }
  const clientMs = performance.now() - t0;
  $("submit").disabled = false;
  if (!r.ok || !body || body.error) {
    const err = body && body.error;
    const field = apiField(r.status, err);
    showError(field, apiMessage(r.status, err, p.values), true);
    result.dataset.state = "error";
    $("status").textContent = "The API answered " + r.status + (err && err.code ? " (" + err.code + ")" : "") + ".";
    return;
  }
  state.last = [p.values, body, r.headers.get("X-Process-Time"), clientMs];
  render(...state.last);
  result.dataset.state = "done";
}

function stat(dl, id, label, value) {
  const d = document.createElement("div");
  const dt = document.createElement("dt"), dd = document.createElement("dd");
  dt.textContent = label;
  dd.textContent = value;
  dd.id = id;
  d.append(dt, dd);
  dl.appendChild(d);
}

function render(history, body, processTime, clientMs) {
  const fc = body.forecast || [body.predicted_price];
  const iv = body.forecast_intervals || (body.interval ? [body.interval] : []);
  $("status").textContent = "Forecast of " + fc.length + " step" + (fc.length > 1 ? "s" : "") + " by " + body.model + " v" + body.model_version + ".";
  const dl = $("stats");
  dl.textContent = "";
  stat(dl, "stat-next", "Next value", fmt(body.predicted_price));
  stat(dl, "stat-confidence", "Confidence", body.confidence);
  stat(dl, "stat-cached", "Cached", body.cached ? "yes" : "no");
  const pt = Number(processTime);
  stat(dl, "stat-server", "Server time (X-Process-Time)", processTime ? (pt * 1000).toFixed(2) + " ms" : "-");
  stat(dl, "stat-client", "Round trip (measured here)", clientMs.toFixed(1) + " ms");
  const tbody = $("forecast-table").tBodies[0];
  tbody.textContent = "";
  fc.forEach((v, i) => {
    const tr = tbody.insertRow();
    tr.insertCell().textContent = String(i + 1);
    const cells = [v, iv[i] ? iv[i].lower : undefined, iv[i] ? iv[i].upper : undefined];
    for (const [j, x] of cells.entries()) {
      const td = tr.insertCell();
      td.className = ["value", "lower", "upper"][j];
      td.textContent = x === undefined ? "-" : fmt(x);
      if (x !== undefined) td.dataset.value = String(x);
    }
  });
  drawChart(history, fc, iv);
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

// niceTicks returns about n round values spanning [lo, hi].
function niceTicks(lo, hi, n) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function drawChart(history, fc, iv) {
  const svg = $("chart");
  // The drawing is in CSS pixels of the chart's width (so text keeps its
  // size on a phone), between 300 and 800.
  const cw = svg.clientWidth || 800;
  const W = Math.round(Math.min(800, Math.max(300, cw))), H = W < 560 ? 280 : 360;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  for (const c of Array.from(svg.childNodes)) if (c.nodeName !== "title") svg.removeChild(c);
  const hist = history.slice(-HISTORY_SHOWN);
  const n = hist.length, m = fc.length;
  let lo = Math.min(...hist, ...fc), hi = Math.max(...hist, ...fc);
  for (const b of iv) { lo = Math.min(lo, b.lower); hi = Math.max(hi, b.upper); }
  const margin = (hi - lo) * 0.06 || Math.abs(hi) * 0.05 || 1;
  lo -= margin; hi += margin;
  const ticks = niceTicks(lo, hi, W < 560 ? 4 : 5);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  const dec = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  const tickText = (v) => v.toFixed(dec);
  const labelW = 8 + 7.2 * Math.max(...ticks.map((t) => tickText(t).length));
  const pad = { l: Math.max(40, labelW), r: 14, t: 14, b: 30 };
  // History on the left; the forecast gets at least a quarter of the width.
  const plotW = W - pad.l - pad.r;
  const fcW = m ? Math.max(plotW * 0.25, plotW * m / (n - 1 + m)) : 0;
  const xNow = pad.l + plotW - fcW;
  const x = (i) => i < n ? pad.l + (n > 1 ? i / (n - 1) : 1) * (xNow - pad.l) : xNow + ((i - n + 1) / m) * fcW;
  const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
  const g = el("g", { class: "axes" }, svg);
  for (const t of ticks) {
    el("line", { class: "grid", x1: pad.l, x2: W - pad.r, y1: y(t), y2: y(t) }, g);
    const lab = el("text", { x: pad.l - 6, y: y(t) + 4, "text-anchor": "end" }, g);
    lab.textContent = tickText(t);
  }
  el("line", { class: "axis", x1: pad.l, x2: pad.l, y1: pad.t, y2: H - pad.b }, g);
  el("line", { class: "axis", x1: pad.l, x2: W - pad.r, y1: H - pad.b, y2: H - pad.b }, g);
  const first = el("text", { x: pad.l, y: H - 10, "text-anchor": "start" }, g);
  first.textContent = "t-" + (n - 1);
  const now = el("text", { x: x(n - 1), y: H - 10, "text-anchor": "middle" }, g);
  now.textContent = "now";
  const end = el("text", { x: W - pad.r, y: H - 10, "text-anchor": "end" }, g);
  end.textContent = "t+" + m;
  el("line", { class: "now", x1: x(n - 1), x2: x(n - 1), y1: pad.t, y2: H - pad.b }, g);
  const last = hist[n - 1];
  if (iv.length === m && m > 0) {
    const up = iv.map((b, i) => x(n + i).toFixed(2) + "," + y(b.upper).toFixed(2));
    const down = iv.map((b, i) => x(n + i).toFixed(2) + "," + y(b.lower).toFixed(2)).reverse();
    const d = "M" + x(n - 1).toFixed(2) + "," + y(last).toFixed(2) + " L" + up.join(" L") + " L" + down.join(" L") + " Z";
    el("path", { class: "band", d, "data-steps": m }, svg);
  }
  const hd = hist.map((v, i) => (i ? "L" : "M") + x(i).toFixed(2) + "," + y(v).toFixed(2)).join(" ");
  el("path", { class: "history", d: hd, "data-points": n }, svg);
  const fd = "M" + x(n - 1).toFixed(2) + "," + y(last).toFixed(2) + " " + fc.map((v, i) => "L" + x(n + i).toFixed(2) + "," + y(v).toFixed(2)).join(" ");
  el("path", { class: "forecast", d: fd }, svg);
  fc.forEach((v, i) => {
    const c = el("circle", { class: "forecast-point", cx: x(n + i).toFixed(2), cy: y(v).toFixed(2), r: 4, "data-value": v }, svg);
    const t = el("title", {}, c);
    t.textContent = "step " + (i + 1) + ": " + fmt(v) + (iv[i] ? " (" + fmt(iv[i].lower) + " to " + fmt(iv[i].upper) + ")" : "");
  });
  svg.setAttribute("aria-label", "Last " + n + " values, then " + m + " forecast steps" + (iv.length ? " with an interval band" : ""));
}

document.addEventListener("DOMContentLoaded", () => {
  $("result").dataset.state = "idle";
  $("form").addEventListener("submit", onSubmit);
  $("model").addEventListener("change", () => { clearErrors(); loadCard(); });
  $("apikey").addEventListener("change", () => { $("apikey-error").textContent = ""; $("apikey").removeAttribute("aria-invalid"); loadCard(); });
  $("csv").addEventListener("change", onFile);
  $("column").addEventListener("change", fillFromColumn);
  $("demo").addEventListener("click", onDemo);
  $("series").addEventListener("input", seriesInfo);
  let redraw = 0; // the chart's layout follows the width (phone or desk)
  window.addEventListener("resize", () => {
    clearTimeout(redraw);
    redraw = setTimeout(() => { if (state.last) render(...state.last); }, 100);
  });
  loadModels();
});
