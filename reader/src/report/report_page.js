/*
 * ringtail HTML run report: the page side (inlined into report_page.html by the reader).
 *
 * Contract, in short (the data object is written by reader/src/report/run_report.cpp; docs/QUERY.md,
 * "HTML report", says what each section shows):
 *  - reads the report object from the JSON script element #ringtail-data;
 *  - renders six sections (overview, tools, traces, policy, cost, errors) with stat cards,
 *    sortable tables, inline-SVG charts and trace waterfalls, carrying the data-* hooks tests read;
 *  - never inserts data as HTML: data text goes in through textContent, attributes through setAttribute;
 *  - records every error in pre#script-errors; a section that throws says so, the others still render;
 *  - when done sets body[data-rendered] to "ok" (or "error") and body[data-render-ms].
 * Works offline from file://: no network, no modules, no dependencies. This text is inlined into the
 * page, so it spells no markup or attribute-value pairs that tests reading the page could mistake.
 */
(function () {
  "use strict";

  const startedAt = performance.now();

  // ---------------------------------------------------------------- errors first
  // Installed before anything else so that even a failure while drawing is visible to tests.
  let errorCount = 0;
  let errorBox = null;

  function describe(error) {
    return error instanceof Error && error.message ? error.message : String(error);
  }

  function recordError(message) {
    errorCount += 1;
    if (!errorBox) errorBox = document.getElementById("script-errors");
    if (errorBox) errorBox.appendChild(document.createTextNode(message + "\n"));
    // An error after the render finished (a late event handler) must still flip the verdict.
    if (document.body && document.body.hasAttribute("data-rendered")) {
      document.body.setAttribute("data-rendered", "error");
    }
  }

  window.onerror = (message, source, line, column, error) => {
    recordError(error ? describe(error) : String(message) + (line ? " (line " + line + ")" : ""));
    return false;
  };
  window.addEventListener("unhandledrejection", (event) => {
    recordError("unhandled rejection: " + describe(event.reason));
  });

  // ---------------------------------------------------------------- DOM helpers
  const SVG_NS = "http://www.w3.org/2000/svg";

  // Builds an element. "text" becomes textContent, "class" a class list of our own constants,
  // everything else goes through setAttribute, so data can never become markup.
  function h(tag, props, children) {
    const node = document.createElement(tag);
    setProps(node, props);
    if (children) for (const child of children) if (child) node.appendChild(child);
    return node;
  }

  function s(tag, props) {
    const node = document.createElementNS(SVG_NS, tag);
    setProps(node, props);
    return node;
  }

  function setProps(node, props) {
    if (!props) return;
    for (const key of Object.keys(props)) {
      const value = props[key];
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.setAttribute("class", value);
      else node.setAttribute(key, String(value));
    }
  }

  function note(text) {
    return h("p", { class: "note", text: text });
  }

  // ---------------------------------------------------------------- formatting
  const textCollator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  const DASH = "\u2013";

  function isNum(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  function has(value) {
    return value !== null && value !== undefined;
  }

  // Hand-rolled rather than Intl.NumberFormat: this runs tens of thousands of times at the caps.
  function groupDigits(text) {
    const dot = text.indexOf(".");
    const whole = dot < 0 ? text : text.slice(0, dot);
    return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (dot < 0 ? "" : text.slice(dot));
  }

  function fmtCount(n) {
    return isNum(n) ? groupDigits(String(Math.round(n))) : DASH;
  }

  // Three significant digits, at most three decimals, and never rounding away integer digits.
  function fmtMs(ms) {
    if (!isNum(ms)) return DASH;
    if (Math.abs(ms) >= 100) return groupDigits(String(Math.round(ms))) + " ms";
    const rounded = Math.round(Number(ms.toPrecision(3)) * 1000) / 1000;
    if (rounded === 0 && ms > 0) return "<0.001 ms";
    return String(rounded) + " ms";
  }

  function plural(n, noun) {
    return fmtCount(n) + " " + noun + (n === 1 ? "" : "s");
  }

  function fmtPct(ratio) {
    return isNum(ratio) ? (ratio * 100).toFixed(1) + "%" : DASH;
  }

  // Token counts arrive as exact decimal strings; group digits without going through a float.
  function fmtIntText(text) {
    if (!has(text)) return DASH;
    return /^-?\d+$/.test(String(text)) ? groupDigits(String(text)) : String(text);
  }

  function fmtUsd(usd) {
    if (!isNum(usd)) return DASH;
    if (usd === 0) return "$0";
    if (Math.abs(usd) >= 1) return "$" + usd.toFixed(2);
    return "$" + Number(usd.toPrecision(3)).toString();
  }

  // Two units are enough for a time span: "12.5 s", "9 min 58 s", "3 h 5 min", "2 d 4 h".
  function fmtSeconds(total) {
    if (!isNum(total)) return DASH;
    if (total < 60) return Number(total.toPrecision(3)) + " s";
    const t = Math.round(total);
    const [big, bigUnit, small, smallUnit] =
      t >= 86400 ? [86400, "d", 3600, "h"] : t >= 3600 ? [3600, "h", 60, "min"] : [60, "min", 1, "s"];
    return Math.floor(t / big) + " " + bigUnit + " " + Math.floor((t % big) / small) + " " + smallUnit;
  }

  function fmtBucket(seconds) {
    if (seconds % 86400 === 0) return seconds / 86400 + " d";
    if (seconds % 3600 === 0) return seconds / 3600 + " h";
    if (seconds % 60 === 0) return seconds / 60 + " min";
    // Sub-second buckets (the width starts at 1 ms) read better in ms: "10 ms", not "0.01 s".
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    return seconds + " s";
  }

  const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/;

  // Shown as "2026-12-06 20:44:38(.123)" in UTC. Z-stamps are cut as text so that nanoseconds
  // are never rounded through Date; other offsets are converted.
  function fmtTime(stamp, withMs) {
    if (typeof stamp !== "string" || stamp === "") return DASH;
    const m = RFC3339.exec(stamp);
    if (!m) return stamp;
    const frac = ((m[3] || "") + "000").slice(0, 3);
    if (m[4] && m[4].toUpperCase() !== "Z") {
      const date = new Date(m[1] + "T" + m[2] + "." + frac + m[4]);
      return isNaN(date.getTime()) ? stamp : fmtEpochMs(date.getTime(), withMs);
    }
    return m[1] + " " + m[2] + (withMs ? "." + frac : "");
  }

  function fmtEpochMs(ms, withMs) {
    const iso = new Date(ms).toISOString();
    return iso.slice(0, 10) + " " + iso.slice(11, withMs ? 23 : 19);
  }

  // ---------------------------------------------------------------- colours
  const LEVEL_COLORS = {
    TRACE: "#a3a9b3", DEBUG: "#7a8ca3", INFO: "#3b7ddd", WARN: "#f0a30a", WARNING: "#f0a30a",
    ERROR: "#d93b3b", CRITICAL: "#7c1414", FATAL: "#7c1414",
  };
  const LEVEL_ORDER = ["TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL"];
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f"];
  const OTHER_COLOR = "#b8b8b8";

  // Series in data order with "(other)" last and grey; colours follow the order.
  function paletteSeries(map) {
    const names = Object.keys(map || {}).sort((a, b) => (a === "(other)") - (b === "(other)"));
    let next = 0;
    return names.map((name) => {
      const color = name === "(other)" ? OTHER_COLOR : PALETTE[next++ % PALETTE.length];
      return { name: name, values: map[name] || [], color: color };
    });
  }

  // Levels stack by severity (TRACE at the bottom) in their fixed colours; unknown levels go on top.
  function levelSeries(map) {
    const rank = (name) => (LEVEL_ORDER.includes(name.toUpperCase()) ? LEVEL_ORDER.indexOf(name.toUpperCase()) : 99);
    let next = 0;
    return Object.keys(map || {}).sort((a, b) => rank(a) - rank(b)).map((name) => {
      const color = LEVEL_COLORS[name.toUpperCase()] || PALETTE[next++ % PALETTE.length];
      return { name: name, values: map[name] || [], color: color };
    });
  }

  // ---------------------------------------------------------------- cards
  function card(stat, raw, shown, label, opts) {
    const options = opts || {};
    const cls = options.bad ? "card bad" : options.warn ? "card warn" : "card";
    // Exactly the contract's markup (tests may read it as text): no extra attributes on cards.
    return h("div", { class: cls, "data-stat": stat }, [
      h("div", { class: "v", "data-v": has(raw) ? String(raw) : "", text: shown }),
      h("div", { class: "k", text: label }),
    ]);
  }

  function cards(list) {
    return h("div", { class: "cards" }, list);
  }

  function countCard(stat, n, label, opts) {
    return card(stat, isNum(n) ? n : null, fmtCount(n), label, opts);
  }

  function lossCard(stat, n, label) {
    return countCard(stat, n, label, { bad: isNum(n) && n > 0 });
  }

  // ---------------------------------------------------------------- tables
  // A column: {key, label, num, value(row) -> raw, text(row) -> shown, cell(td, row) to decorate}.
  function col(key, label, num, value, text, cell) {
    return { key: key, label: label, num: !!num, value: value, text: text, cell: cell };
  }

  function textCol(key, label, value) {
    return col(key, label, false, value || ((r) => r[key]));
  }

  function countCol(key, label, value) {
    const get = value || ((r) => r[key]);
    return col(key, label, true, get, (r) => fmtCount(get(r)));
  }

  function msCol(key, label) {
    return col(key, label, true, (r) => r[key], (r) => fmtMs(r[key]));
  }

  // A share column draws a faint in-cell bar, so proportions read at a glance.
  function shareCol(key, label, value) {
    return col(key, label, true, value, (r) => fmtPct(value(r)), (td, r) => {
      const share = value(r);
      if (isNum(share)) {
        const pct = Math.max(0, Math.min(100, share * 100)).toFixed(1);
        td.style.backgroundImage = "linear-gradient(90deg, var(--share) " + pct + "%, transparent " + pct + "%)";
      }
    });
  }

  function dataTable(name, columns, rows, opts) {
    const options = opts || {};
    const headRow = h("tr", null, columns.map((c) => {
      return h("th", {
        "data-key": c.key, "data-type": c.num ? "num" : "text",
        tabindex: "0", scope: "col", title: "sort by " + c.label, text: c.label,
      });
    }));
    const body = h("tbody");
    if (!rows || rows.length === 0) {
      body.appendChild(h("tr", { class: "empty" }, [
        h("td", { class: "empty", colspan: String(columns.length), text: "none" }),
      ]));
    } else {
      for (const row of rows) body.appendChild(tableRow(columns, row, options));
    }
    const table = h("table", { "data-table": name }, [h("thead", null, [headRow]), body]);
    makeSortable(table);
    return h("div", { class: "table-wrap" + (options.tall ? " tall" : "") }, [table]);
  }

  function tableRow(columns, row, options) {
    const tr = h("tr", {
      class: options.rowClass ? options.rowClass(row) : null,
      title: options.rowTitle ? options.rowTitle(row) : null,
    });
    for (const c of columns) {
      const raw = c.value(row);
      const missing = !has(raw) || raw === "";
      const shown = c.text ? c.text(row) : (missing ? DASH : String(raw));
      // data-col and data-v only (alignment and widths come from the stylesheet by column key).
      const td = h("td", { "data-col": c.key, "data-v": missing ? "" : String(raw), text: shown });
      if (c.cell) c.cell(td, row);
      tr.appendChild(td);
    }
    return tr;
  }

  // Headers sort on click and, for keyboard users, on Enter or Space.
  function makeSortable(table) {
    const onEvent = (event) => {
      const th = event.target.closest("th");
      if (!th || (event.type === "keydown" && event.key !== "Enter" && event.key !== " ")) return;
      event.preventDefault();
      sortBy(table, th);
    };
    table.tHead.addEventListener("click", onEvent);
    table.tHead.addEventListener("keydown", onEvent);
  }

  // First click sorts ascending, the next reverses. Missing values stay at the bottom either way.
  function sortBy(table, th) {
    const direction = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    for (const other of th.parentNode.cells) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", direction);
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    if (rows.length < 2 || rows[0].classList.contains("empty")) return;
    const numeric = th.getAttribute("data-type") === "num";
    const index = th.cellIndex;
    const sign = direction === "ascending" ? 1 : -1;
    const keyed = rows.map((tr) => ({ tr: tr, key: sortKey(tr.cells[index], numeric) }));
    keyed.sort((a, b) => {
      if (a.key === null || b.key === null) return (a.key === null) - (b.key === null);
      const order = numeric ? a.key - b.key : textCollator.compare(a.key, b.key);
      return sign * order;
    });
    const frag = document.createDocumentFragment();
    for (const item of keyed) frag.appendChild(item.tr);
    body.appendChild(frag);
  }

  function sortKey(td, numeric) {
    if (!td) return null;
    const raw = td.getAttribute("data-v");
    if (raw === null || raw === "") return null;
    if (!numeric) return td.textContent;
    const n = Number(raw);
    return Number.isFinite(n) ? n : null;
  }

  // ---------------------------------------------------------------- charts
  let chartWidth = 1100;
  const PLOT_HEIGHT = 160;

  function noData(name, why) {
    return h("p", { class: "no-data", "data-chart": name, text: "no data" + (why ? " (" + why + ")" : "") });
  }

  // 1, 2, 5 x 10^k steps so that grid lines land on round values.
  function niceScale(max, wanted) {
    const raw = max / wanted;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((f) => f * magnitude).find((v) => v >= raw);
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    return { step: step, top: Math.ceil(max / step - 1e-9) * step, decimals: decimals };
  }

  // Swatch and name per series, wrapped into rows by an estimated text width; returns its height.
  function drawLegend(svg, series, left, maxWidth) {
    const group = s("g", { class: "legend", transform: "translate(" + left + ",6)" });
    let x = 0;
    let y = 0;
    for (const one of series) {
      const name = one.name.length > 40 ? one.name.slice(0, 39) + "\u2026" : one.name;
      const width = 36 + name.length * 6.8;
      if (x > 0 && x + width > maxWidth) {
        x = 0;
        y += 18;
      }
      group.appendChild(s("rect", { x: x, y: y + 2, width: 12, height: 12, rx: 2, fill: one.color }));
      group.appendChild(s("text", { x: x + 17, y: y + 12, text: name }));
      x += width;
    }
    svg.appendChild(group);
    return series.length ? y + 18 : 0;
  }

  function axisLine(x1, y1, x2, y2, cls) {
    return s("line", { x1: x1, y1: y1, x2: x2, y2: y2, class: cls });
  }

  // spec: {name, label, count, series[{name,color,values}], xTicks[{i,text}], xTitle, yTitle,
  //        yTick(v, decimals), value(v), category(i), centerTicks}
  function stackedBars(spec) {
    const n = spec.count;
    const totals = new Array(n).fill(0);
    for (const one of spec.series) {
      for (let i = 0; i < n; i++) totals[i] += positive(one.values[i]);
    }
    const max = totals.reduce((a, b) => Math.max(a, b), 0);
    if (n === 0 || !(max > 0)) return noData(spec.name, spec.emptyWhy);

    const W = chartWidth, left = 66, right = 14, plotW = W - left - right;
    const svg = s("svg", { "data-chart": spec.name, class: "chart", role: "img", "aria-label": spec.label });
    const legendH = drawLegend(svg, spec.series, left, plotW);
    const top = legendH + 16;
    const bottom = top + PLOT_HEIGHT;
    const H = bottom + 46;
    setProps(svg, { viewBox: "0 0 " + W + " " + H, width: W, height: H });

    drawYAxis(svg, spec, max, left, right, top, bottom, W);
    drawBars(svg, spec, max, left, plotW, top, bottom);
    drawXAxis(svg, spec, left, plotW, bottom, W);
    return h("div", { class: "chart-box" }, [svg]);
  }

  function positive(value) {
    return isNum(value) && value > 0 ? value : 0;
  }

  function drawYAxis(svg, spec, max, left, right, top, bottom, W) {
    const scale = niceScale(max, 4);
    const group = s("g", { class: "axis y" });
    for (let v = 0; v <= scale.top + scale.step / 2; v += scale.step) {
      const y = bottom - (v / scale.top) * (bottom - top);
      group.appendChild(axisLine(left, y, W - right, y, v === 0 ? "base" : "grid"));
      const label = spec.yTick(v, scale.decimals);
      group.appendChild(s("text", { x: left - 7, y: y + 4, "text-anchor": "end", text: label }));
    }
    const turn = "translate(13," + (top + bottom) / 2 + ") rotate(-90)";
    group.appendChild(s("text", { class: "title", "text-anchor": "middle", transform: turn, text: spec.yTitle }));
    svg.appendChild(group);
    spec.yTop = scale.top;
  }

  // Up to 8 x 250 bars per chart, so plain setAttribute calls instead of the generic helper.
  function drawBars(svg, spec, max, left, plotW, top, bottom) {
    const n = spec.count;
    const slot = plotW / n;
    const gap = slot >= 6 ? Math.min(slot * 0.18, 8) : slot >= 3 ? 1 : 0;
    const width = String(Math.max(slot - gap, 0.5));
    const perUnit = (bottom - top) / spec.yTop;
    const group = s("g", { class: "bars", "shape-rendering": "crispEdges" });
    for (let i = 0; i < n; i++) {
      let y = bottom;
      const x = String(left + i * slot + gap / 2);
      const category = spec.category(i);
      for (const one of spec.series) {
        const v = positive(one.values[i]);
        if (v === 0) continue;
        const height = v * perUnit;
        y -= height;
        const rect = document.createElementNS(SVG_NS, "rect");
        rect.setAttribute("x", x);
        rect.setAttribute("y", y.toFixed(2));
        rect.setAttribute("width", width);
        rect.setAttribute("height", height.toFixed(2));
        rect.setAttribute("fill", one.color);
        const title = document.createElementNS(SVG_NS, "title");
        title.textContent = one.name + " \u00b7 " + category + ": " + spec.value(v);
        rect.appendChild(title);
        group.appendChild(rect);
      }
    }
    svg.appendChild(group);
  }

  function drawXAxis(svg, spec, left, plotW, bottom, W) {
    const slot = plotW / spec.count;
    const group = s("g", { class: "axis x" });
    for (const tick of spec.xTicks) {
      const x = left + (tick.i + (spec.centerTicks ? 0.5 : 0)) * slot;
      group.appendChild(axisLine(x, bottom, x, bottom + 5, "tick"));
      // Time labels at the very edges lean inwards so that they are not cut off.
      let anchor = "middle";
      if (!spec.centerTicks && x - left < 30) anchor = "start";
      else if (!spec.centerTicks && left + plotW - x < 30) anchor = "end";
      group.appendChild(s("text", { x: x, y: bottom + 18, "text-anchor": anchor, text: tick.text }));
    }
    const title = { class: "title", x: left + plotW / 2, y: bottom + 40, "text-anchor": "middle", text: spec.xTitle };
    group.appendChild(s("text", title));
    svg.appendChild(group);
  }

  const NICE_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
    43200, 86400, 172800, 604800];

  // Ticks sit on round wall-clock times (placed within their bucket, whatever the bucket alignment);
  // the date is shown on the first tick and wherever it changes.
  function timeTicks(start, bucket, n, multiDay) {
    const span = n * bucket;
    const maxLabels = Math.max(2, Math.floor((chartWidth - 80) / 95));
    const step = NICE_STEPS_S.find((v) => span / v <= maxLabels) ||
      Math.ceil(span / maxLabels / 86400) * 86400;
    const ticks = [];
    let lastDay = "";
    for (let at = Math.ceil(start / step) * step; at <= start + span; at += step) {
      const stamp = fmtEpochMs(at * 1000);
      let text = step < 60 ? stamp.slice(11, 19) : stamp.slice(11, 16);
      if (step >= 86400) text = stamp.slice(5, 10);
      else if (multiDay && stamp.slice(0, 10) !== lastDay) text = stamp.slice(5, 10) + " " + text;
      lastDay = stamp.slice(0, 10);
      ticks.push({ i: (at - start) / bucket, text: text });
    }
    return ticks;
  }

  // Shared by the three charts over time: same buckets, same x axis.
  function timeChart(name, label, timeline, series, yUnit, yTick, value) {
    const bucket = isNum(timeline.bucket_s) && timeline.bucket_s > 0 ? timeline.bucket_s : 1;
    const start = isNum(timeline.start) ? timeline.start : 0;
    const n = series.reduce((m, one) => Math.max(m, one.values.length), 0);
    const day = fmtEpochMs(start * 1000).slice(0, 10);
    const multiDay = day !== fmtEpochMs((start + n * bucket) * 1000 - 1).slice(0, 10);
    return stackedBars({
      name: name, label: label, count: n, series: series,
      xTicks: timeTicks(start, bucket, n, multiDay),
      xTitle: "time (UTC" + (multiDay ? "" : ", " + day) + "), " + fmtBucket(bucket) + " per bar",
      yTitle: yUnit + " per " + fmtBucket(bucket),
      yTick: yTick, value: value,
      category: (i) => {
        const from = fmtEpochMs((start + i * bucket) * 1000);
        const to = fmtEpochMs((start + (i + 1) * bucket) * 1000);
        return from + " to " + (to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to) + " UTC";
      },
    });
  }

  function countTick(v) {
    if (v >= 1e6) return Number((v / 1e6).toPrecision(3)) + "M";
    if (v >= 1e4) return Number((v / 1e3).toPrecision(3)) + "k";
    return fmtCount(v);
  }

  function usdTick(v, decimals) {
    return "$" + v.toFixed(Math.min(decimals, 8));
  }

  // ---------------------------------------------------------------- header and nav
  const SECTIONS = [["overview", "Overview", renderOverview], ["tools", "Tools", renderTools],
    ["traces", "Traces", renderTraces], ["policy", "Policy", renderPolicy], ["cost", "Cost", renderCost],
    ["errors", "Errors", renderErrors]];

  function renderHeader(data) {
    const o = data.overview || {};
    const range = o.first || o.last ? fmtTime(o.first, true) + " \u2192 " + fmtTime(o.last, true) + " UTC"
      : "no events";
    const facts = [
      ["source", data.source], ["filter", data.filter ? data.filter : "none"],
      ["generated", fmtTime(data.generated_at) + " UTC"], ["time range", range],
    ];
    const list = h("dl", { class: "facts" });
    for (const [key, value] of facts) {
      const shown = has(value) ? value : DASH;
      list.appendChild(h("div", null, [h("dt", { text: key }), h("dd", { text: shown })]));
    }
    const header = h("header", { class: "page-head" }, [h("h1", { text: "ringtail report" }), list]);
    if (data.version !== 1) header.appendChild(note("data version " + data.version + "; this page reads version 1"));
    return header;
  }

  function renderNav() {
    return h("nav", { class: "page-nav" }, SECTIONS.map((entry) => h("a", { href: "#" + entry[0], text: entry[1] })));
  }

  // ---------------------------------------------------------------- overview
  function renderOverview(box, data) {
    const o = data.overview;
    const d = o.drops;
    box.appendChild(cards([
      countCard("events", o.events, "events"),
      countCard("errors", o.errors, "errors", { warn: o.errors > 0 }),
      card("error_rate", o.error_rate, fmtPct(o.error_rate), "error rate", { warn: o.error_rate > 0 }),
      card("span", o.span_s, fmtSeconds(o.span_s), "time span"),
    ]));
    box.appendChild(h("h3", { text: "Losses" }));
    box.appendChild(cards([
      lossCard("dropped", d.dropped, "dropped"),
      lossCard("overwritten", d.overwritten, "of them overwritten"),
      lossCard("lost_no_ring", d.lost_no_ring, "lost: no ring"),
      lossCard("lost_callsite_table_full", d.lost_callsite_table_full, "lost: callsite table full"),
      lossCard("too_big", d.too_big, "too big"),
      lossCard("audit_lost", d.audit_lost, "audit lost"),
      lossCard("crashes", d.crashes, "crashes"),
      lossCard("corrupt_rings", d.corrupt_rings, "corrupt rings"),
    ]));
    const t = o.timeline;
    box.appendChild(h("h3", { text: "Events by level" }));
    box.appendChild(timeChart("events_by_level", "events over time by level", t, levelSeries(t.levels),
      "events", countTick, (v) => plural(v, "event")));
    box.appendChild(h("h3", { text: "Events by service" }));
    box.appendChild(timeChart("events_by_service", "events over time by service", t, paletteSeries(t.services),
      "events", countTick, (v) => plural(v, "event")));
    box.appendChild(h("div", { class: "two-col" }, [
      keyCountTable("levels", "level", o.by_level, o.events),
      keyCountTable("services", "service", o.by_service, o.events),
    ]));
  }

  function keyCountTable(name, keyLabel, rows, events) {
    const share = (r) => events > 0 && isNum(r.count) ? r.count / events : null;
    const keyCol = textCol(name === "levels" ? "level" : "service", keyLabel, (r) => r.key);
    return h("div", null, [
      h("h3", { text: name === "levels" ? "By level" : "By service" }),
      dataTable(name, [keyCol, countCol("count", "count"), shareCol("share", "share", share)], rows),
    ]);
  }

  // ---------------------------------------------------------------- tools
  function renderTools(box, data) {
    const tools = data.tools;
    const rows = tools.rows || [];
    box.appendChild(cards([
      countCard("tool_calls", tools.calls, "tool calls"),
      countCard("tools", rows.length, "distinct tools"),
    ]));
    box.appendChild(h("h3", { text: "Latency distribution" }));
    box.appendChild(latencyChart(tools.histogram_edges_ms || [], rows));
    box.appendChild(h("h3", { text: "Per tool" }));
    box.appendChild(dataTable("tools", [
      textCol("tool", "tool"),
      countCol("calls", "calls"),
      col("success_rate", "success", true, (r) => r.success_rate, (r) => fmtPct(r.success_rate),
        (td, r) => { if (isNum(r.success_rate) && r.success_rate < 0.9) td.classList.add("bad-text"); }),
      msCol("avg_ms", "avg"), msCol("p50_ms", "p50"), msCol("p95_ms", "p95"), msCol("p99_ms", "p99"),
      msCol("max_ms", "max"),
    ], rows, { tall: true }));
  }

  function edgeLabel(ms) {
    if (ms >= 1000) return Number((ms / 1000).toPrecision(3)) + "k";
    return String(Number(ms.toPrecision(3)));
  }

  // At most 8 series: the 7 most-called tools and the rest summed as "(other)", so no call is hidden.
  function latencySeries(rows, n) {
    const shown = rows.length > 8 ? rows.slice(0, 7) : rows.slice();
    const series = shown.map((r, i) => ({ name: String(r.tool), values: r.histogram || [], color: PALETTE[i] }));
    if (rows.length > 8) {
      const other = new Array(n).fill(0);
      for (const r of rows.slice(7)) for (let i = 0; i < n; i++) other[i] += positive((r.histogram || [])[i]);
      series.push({ name: "(other)", color: OTHER_COLOR, values: other });
    }
    return series;
  }

  function latencyChart(edges, rows) {
    const n = edges.length + 1;
    // Bucket i holds (edges[i-1], edges[i]]; the first has no lower edge, the last no upper one.
    const labels = edges.map((e) => "\u2264" + edgeLabel(e)).concat([">" + edgeLabel(edges[n - 2])]);
    const ranges = labels.map((label, i) => {
      if (i === 0 || i === n - 1) return label.charAt(0) + " " + fmtMs(edges[i === 0 ? 0 : n - 2]);
      return fmtMs(edges[i - 1]).replace(" ms", "") + "\u2013" + fmtMs(edges[i]);
    });
    const every = Math.max(1, Math.ceil(n / Math.floor((chartWidth - 80) / 48)));
    return stackedBars({
      name: "tool_latency", label: "tool call latency histogram", count: edges.length ? n : 0,
      series: latencySeries(rows, n), centerTicks: true,
      xTicks: labels.map((text, i) => ({ i: i, text: text })).filter((tick) => tick.i % every === 0),
      xTitle: "latency (ms), upper bound of each bucket", yTitle: "calls",
      yTick: countTick, value: (v) => plural(v, "call"),
      category: (i) => ranges[i], emptyWhy: "no tool calls with a duration",
    });
  }

  // ---------------------------------------------------------------- traces
  // Span rows drawn up front; past this, a closed trace draws its waterfall when first opened.
  // Typical runs stay under it entirely; at the caps (31 traces x 1,000 spans) building every row
  // would alone take longer than the whole page may.
  const EAGER_SPAN_ROWS = 2000;
  let eagerRowsLeft = EAGER_SPAN_ROWS;

  function renderTraces(box, data) {
    const t = data.traces;
    eagerRowsLeft = EAGER_SPAN_ROWS;
    box.appendChild(cards([
      countCard("roots", t.roots, "root spans ended"),
      countCard("failed_spans", t.failed_spans, "failed spans", { warn: t.failed_spans > 0 }),
    ]));
    box.appendChild(waterfallLegend());
    box.appendChild(traceGroup("slowest", "Slowest traces", t.slowest));
    box.appendChild(traceGroup("failed", "Failed traces", t.failed));
    if (t.requested && t.requested.length) box.appendChild(traceGroup("requested", "Requested traces", t.requested));
  }

  function waterfallLegend() {
    const entries = [["", "span"], ["tool", "tool call"], ["llm", "model call"], ["err", "failed"],
      ["unended", "unended (no span.end)"]];
    const item = (e) => h("span", null, [h("i", { class: "sp-bar " + e[0] }), document.createTextNode(e[1])]);
    return h("div", { class: "wf-legend" }, entries.map(item));
  }

  function traceGroup(key, title, traces) {
    const list = traces || [];
    const group = h("div", { class: "trace-group", "data-group": key }, [
      h("h3", { text: title + " (" + list.length + ")" }),
    ]);
    if (!list.length) group.appendChild(h("p", { class: "none", text: "none" }));
    list.forEach((trace, i) => group.appendChild(renderTrace(trace, i === 0)));
    return group;
  }

  function renderTrace(trace, open) {
    const spans = trace.spans || [];
    const status = trace.status === "ERROR" ? "ERROR" : "OK";
    const summary = h("summary", { class: "trace-head" }, [
      h("span", { class: "badge " + status.toLowerCase(), text: status }),
      h("span", { class: "root", text: has(trace.root) ? trace.root : "(unknown root)" }),
      trace.service ? h("span", { class: "svc", text: trace.service }) : null,
      h("span", { class: "dur", text: fmtMs(trace.duration_ms) }),
      h("span", { class: "when", text: fmtTime(trace.start, true) + " UTC" }),
      h("span", { class: "count", text: plural(spans.length, "span") +
        (trace.spans_truncated > 0 ? " (+" + fmtCount(trace.spans_truncated) + " left out)" : "") }),
      h("code", { class: "tid", text: trace.trace_id }),
    ]);
    const details = h("details", null, [summary]);
    const box = h("div", { class: "trace", "data-trace-id": trace.trace_id, "data-status": status }, [details]);
    if (open || spans.length <= eagerRowsLeft) {
      eagerRowsLeft = Math.max(0, eagerRowsLeft - spans.length);
      details.appendChild(waterfall(trace, spans));
    } else {
      deferWaterfall(box, details, trace, spans);
    }
    if (open) details.open = true;
    return box;
  }

  function deferWaterfall(box, details, trace, spans) {
    box.setAttribute("data-waterfall", "deferred");
    const placeholder = note("drawing " + fmtCount(spans.length) + " spans\u2026");
    details.appendChild(placeholder);
    details.addEventListener("toggle", () => {
      details.replaceChild(waterfall(trace, spans), placeholder);
      box.removeAttribute("data-waterfall");
    }, { once: true });
  }

  function traceScale(trace, spans) {
    let scale = isNum(trace.duration_ms) ? trace.duration_ms : 0;
    for (const span of spans) {
      const end = (+span.offset_ms || 0) + (+span.duration_ms || 0);
      if (end > scale) scale = end;
    }
    return scale > 0 ? scale : 1;
  }

  // Rows come in chunks of this many; chunks after the first skip layout while off screen
  // (content-visibility), which is what keeps a 1,000-span waterfall that starts open cheap.
  const ROWS_PER_CHUNK = 100;

  function waterfall(trace, spans) {
    const scale = traceScale(trace, spans);
    const box = h("div", { class: "waterfall" }, [waterfallAxis(scale)]);
    let chunk = null;
    spans.forEach((span, i) => {
      if (i % ROWS_PER_CHUNK === 0) {
        chunk = h("div", { class: i === 0 ? "wf-chunk" : "wf-chunk lazy" });
        if (i > 0) chunk.style.containIntrinsicSize = "auto " + 25 * Math.min(ROWS_PER_CHUNK, spans.length - i) + "px";
        box.appendChild(chunk);
      }
      chunk.appendChild(spanRow(span, scale));
    });
    if (!spans.length) box.appendChild(h("p", { class: "none", text: "no spans" }));
    if (trace.spans_truncated > 0) {
      box.appendChild(note(fmtCount(trace.spans_truncated) + " more spans left out past the per-trace cap"));
    }
    addSpanTitles(box, spans);
    return box;
  }

  // Tooltips are built on first hover: formatting them for every row up front costs more than all else.
  function addSpanTitles(box, spans) {
    let byId = null;
    box.addEventListener("mouseover", (event) => {
      const row = event.target.closest(".span-row");
      if (!row || row.hasAttribute("title")) return;
      if (!byId) byId = new Map(spans.map((span) => [String(span.span_id), span]));
      const span = byId.get(row.getAttribute("data-span-id"));
      if (span) row.setAttribute("title", spanTitle(span));
    });
  }

  function waterfallAxis(scale) {
    const track = h("div", { class: "sp-track axis" });
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const cls = f === 0 ? "first" : f === 1 ? "last" : "";
      const label = h("span", { class: cls, text: f === 0 ? "0 ms" : fmtMs(scale * f) });
      label.style.left = f * 100 + "%";
      track.appendChild(label);
    }
    return h("div", { class: "wf-axis" }, [
      h("div", { class: "sp-name", text: "span" }), track, h("div", { class: "sp-meta", text: "details" }),
    ]);
  }

  // Hot path (thousands of rows at the caps): rows are cloned from a prototype per depth, with the
  // indentation already in place, and filled in; several times faster than building each element.
  const rowPrototypes = [];

  function spanRowPrototype(depth) {
    const level = Math.min(depth, 24);
    if (!rowPrototypes[level]) {
      const name = h("div", { class: "sp-name" });
      name.style.paddingLeft = 6 + level * 14 + "px";
      rowPrototypes[level] = h("div", { class: "span-row" }, [
        name,
        h("div", { class: "sp-track" }, [h("div", { class: "sp-bar" }), h("span", { class: "sp-dur" })]),
        h("div", { class: "sp-meta" }, [h("span", { class: "badge" }), h("span", { class: "sp-facts" })]),
      ]);
    }
    return rowPrototypes[level];
  }

  function spanRow(span, scale) {
    const depth = isNum(span.depth) && span.depth > 0 ? span.depth : 0;
    const status = span.status === "ERROR" || span.status === "UNENDED" ? span.status : "OK";
    const row = spanRowPrototype(depth).cloneNode(true);
    row.setAttribute("data-span-id", String(span.span_id));
    row.setAttribute("data-depth", String(depth));
    row.setAttribute("data-status", status);
    const name = row.firstChild;
    name.textContent = has(span.name) ? String(span.name) : "(unnamed)";
    fillTrack(name.nextSibling, span, status, scale);
    fillMeta(row.lastChild, span, status);
    if (span.error) {
      const err = document.createElement("div");
      err.className = "sp-error";
      err.style.paddingLeft = 20 + Math.min(depth, 24) * 14 + "px";
      err.textContent = (span.error.type || "error") + ": " + (span.error.message || "");
      row.appendChild(err);
    }
    return row;
  }

  function fillTrack(track, span, status, scale) {
    const offset = isNum(span.offset_ms) ? span.offset_ms : 0;
    const ended = isNum(span.duration_ms);
    const left = Math.min(100, Math.max(0, (offset / scale) * 100));
    const width = ended ? Math.min(100 - left, Math.max(0, (span.duration_ms / scale) * 100)) : 100 - left;
    const bar = track.firstChild;
    const kind = barKind(span, status);
    if (kind) bar.className = "sp-bar " + kind;
    bar.style.cssText = "left:" + left.toFixed(3) + "%;width:" + width.toFixed(3) + "%";

    // The duration label sits after the bar, before it when the bar reaches the end, inside when it spans all.
    const label = track.lastChild;
    label.textContent = ended ? fmtMs(span.duration_ms) : "unended";
    if (left + width < 80) {
      label.className = "sp-dur after";
      label.style.left = (left + width).toFixed(3) + "%";
    } else if (left > 22) {
      label.className = "sp-dur before";
      label.style.right = (100 - left).toFixed(3) + "%";
    } else {
      label.className = "sp-dur inside";
      label.style.left = left.toFixed(3) + "%";
    }
  }

  function barKind(span, status) {
    if (status === "ERROR") return "err";
    if (status === "UNENDED") return "unended";
    if (span.model) return "llm";
    if (span.tool) return "tool";
    return "";
  }

  function fillMeta(meta, span, status) {
    const badge = meta.firstChild;
    badge.className = "badge " + status.toLowerCase();
    badge.textContent = status;
    const facts = [];
    if (has(span.tool)) facts.push("tool " + span.tool);
    if (has(span.model)) facts.push("model " + span.model);
    if (has(span.tokens)) facts.push(fmtIntText(span.tokens) + " tok");
    if (has(span.cost_text)) facts.push(String(span.cost_text));
    if (facts.length) meta.lastChild.textContent = facts.join(" \u00b7 ");
    else meta.removeChild(meta.lastChild);
  }

  function spanTitle(span) {
    const lines = [String(span.name), "start +" + fmtMs(span.offset_ms) + ", duration " +
      (isNum(span.duration_ms) ? fmtMs(span.duration_ms) : "unknown (no span.end)")];
    lines.push("span " + span.span_id + (span.parent_span_id ? ", parent " + span.parent_span_id : ""));
    if (isNum(span.events)) lines.push(fmtCount(span.events) + " events");
    return lines.join("\n");
  }

  // ---------------------------------------------------------------- policy
  function renderPolicy(box, data) {
    const p = data.policy;
    const breakglass = p.breakglass || [];
    box.appendChild(cards([
      countCard("policy_checks", p.checks, "policy checks"),
      countCard("denied_total", p.denied_total, "denied", { warn: p.denied_total > 0 }),
      countCard("breakglass", breakglass.length, "break-glass", { warn: breakglass.length > 0 }),
    ]));
    box.appendChild(h("div", { class: "two-col" }, [
      h("div", null, [h("h3", { text: "Decisions" }), dataTable("policy_decisions", [
        textCol("policy", "policy"),
        col("decision", "decision", false, (r) => r.decision, null, markDenied),
        countCol("count", "count"),
      ], p.decisions)]),
      h("div", null, [h("h3", { text: "Denied: top reasons" }), dataTable("denied_reasons", [
        textCol("reason", "reason"), countCol("count", "count"),
      ], p.denied_reasons)]),
    ]));
    box.appendChild(h("h3", { text: "Denied (most recent first)" }));
    box.appendChild(dataTable("denied", [
      timeCol("timestamp"), textCol("kind", "kind"), textCol("policy", "policy"), textCol("validator", "validator"),
      textCol("agent_id", "agent"), textCol("tool", "tool"), textCol("reason", "reason"),
    ], p.denied, { tall: true }));
    box.appendChild(h("h3", { text: "Break-glass activations" }));
    box.appendChild(dataTable("breakglass", [
      timeCol("timestamp"), textCol("service", "service"), textCol("enabled_by", "enabled by"),
      textCol("reason", "reason"),
      timeCol("expires_at", "expires"), textCol("token_hash", "token hash"),
      textCol("affected_validators", "validators"), textCol("affected_decisions", "decisions"),
    ], breakglass, { tall: true, rowClass: () => "breakglass-row" }));
  }

  function markDenied(td, r) {
    const decision = String(r.decision).toUpperCase();
    if (decision === "BLOCK" || decision === "DENY") td.classList.add("bad-text");
  }

  function timeCol(key, label) {
    return col(key, label || "time (UTC)", false, (r) => r[key], (r) => fmtTime(r[key], true));
  }

  // ---------------------------------------------------------------- cost
  function renderCost(box, data) {
    const c = data.cost;
    box.appendChild(cards([
      card("cost_usd", c.cost_usd, c.cost_text, "total cost"),
      card("tokens", c.tokens, c.tokens_text, "tokens"),
      countCard("requests", c.requests, "requests"),
      card("average_usd", c.average_usd, c.average_text, "average per request"),
    ]));
    const t = c.timeline;
    box.appendChild(h("h3", { text: "Cost over time" }));
    box.appendChild(timeChart("cost_over_time", "cost over time by model", t, paletteSeries(t.models),
      "USD", usdTick, fmtUsd));
    box.appendChild(h("h3", { text: "By model" }));
    box.appendChild(dataTable("cost_by_model", [
      textCol("model", "model"),
      countCol("requests", "requests"),
      exactCol("tokens", "tokens", "tokens_text"),
      exactCol("cost_usd", "cost", "cost_text"),
      exactCol("average_usd", "avg / request", "average_text"),
      shareCol("share", "share of cost", (r) => r.share),
    ], c.by_model));
  }

  // Exact decimal strings sort by their value and show as their *_text twin.
  function exactCol(key, label, textKey) {
    return col(key, label, true, (r) => r[key], (r) => r[textKey]);
  }

  // ---------------------------------------------------------------- errors
  function renderErrors(box, data) {
    const e = data.errors;
    const groups = e.groups || [];
    box.appendChild(cards([
      countCard("error_lines", e.total, "lines with an error", { warn: e.total > 0 }),
      countCard("error_groups", groups.length + (e.other_groups || 0), "error groups"),
    ]));
    const example = (r) => r.example || {};
    box.appendChild(h("h3", { text: "Groups by type and code (top 50 by count)" }));
    box.appendChild(dataTable("errors", [
      textCol("type", "type"),
      col("code", "code", true, (r) => r.code),
      countCol("count", "count"),
      textCol("example_message", "example message", (r) => example(r).error_message),
      textCol("example_service", "service", (r) => example(r).service),
      col("example_timestamp", "time (UTC)", false, (r) => example(r).timestamp,
        (r) => fmtTime(example(r).timestamp, true)),
    ], groups, { tall: true, rowTitle: (r) => (has(example(r).message) ? "event: " + example(r).message : null) }));
    if (e.other_groups > 0) box.appendChild(note(fmtCount(e.other_groups) + " more groups left out (top 50 by count)"));
  }

  // ---------------------------------------------------------------- main
  function readData() {
    const holder = document.getElementById("ringtail-data");
    if (!holder) throw new Error("no #ringtail-data element");
    const data = JSON.parse(holder.textContent);
    if (!data || typeof data !== "object") throw new Error("the data is not an object");
    return data;
  }

  function sectionShell(parent, id, title) {
    const body = h("div", { class: "section-body" });
    parent.appendChild(h("section", { id: id }, [h("h2", { text: title }), body]));
    return body;
  }

  function measureChartWidth(body) {
    const width = body.getBoundingClientRect().width;
    if (width > 0) chartWidth = Math.max(480, Math.round(width));
  }

  function renderSection(body, id, draw, data) {
    try {
      draw(body, data);
    } catch (error) {
      body.textContent = "";
      body.appendChild(h("p", { class: "section-error", text: "this section could not be drawn: " + describe(error) }));
      recordError(id + ": " + describe(error) + (error && error.stack ? "\n" + error.stack : ""));
    }
  }

  function main() {
    const page = document.body;
    errorBox = h("pre", { id: "script-errors" });
    let data = null;
    try {
      data = readData();
    } catch (error) {
      recordError("could not read the report data: " + describe(error));
    }
    try {
      if (data) page.appendChild(renderHeader(data));
    } catch (error) {
      recordError("header: " + describe(error));
    }
    page.appendChild(renderNav());
    page.appendChild(errorBox);
    const content = h("main");
    page.appendChild(content);
    const bodies = SECTIONS.map((entry) => sectionShell(content, entry[0], entry[1]));
    if (!data) {
      const text = "this section could not be drawn: no report data";
      for (const body of bodies) body.appendChild(h("p", { class: "section-error", text: text }));
      return;
    }
    measureChartWidth(bodies[0]);
    SECTIONS.forEach((entry, i) => { renderSection(bodies[i], entry[0], entry[2], data); });
  }

  try {
    main();
  } catch (error) {
    recordError("report page: " + describe(error));
  }
  // Reading layout here makes data-render-ms include style and layout, not only script time.
  void document.body.offsetHeight;
  document.body.setAttribute("data-render-ms", (performance.now() - startedAt).toFixed(1));
  document.body.setAttribute("data-rendered", errorCount === 0 ? "ok" : "error");
})();
