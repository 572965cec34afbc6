"""`ringtail report --html` rendered by a real browser (headless Chromium).

One store is built for the module: examples/agent_sim run with a small ring
and no reader (so that it drops, and ringtail.dropped lines exist), and a
Python producer that logs hostile text into every section; both drained by a
real `ringtail drain --once`. The report of that store is rendered with
`chromium --dump-dom`, and what the browser drew is compared with what the
text verbs (`ringtail stats`, `report --cost`, `query`) answer over the same
store: every section, card and table row, and the trace waterfalls' spans.

Environment (ctest sets it): RINGTAIL_BIN (the ringtail tool), RINGTAIL_AGENT_SIM
(examples/agent_sim), PYTHONPATH (the build's python/), CHROMIUM (default
`chromium`). A missing browser fails the tests: install-deps installs it.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import html_dom  # noqa: E402

RINGTAIL = os.environ.get("RINGTAIL_BIN", "ringtail")
AGENT_SIM = os.environ.get("RINGTAIL_AGENT_SIM", "agent_sim")
CHROMIUM = os.environ.get("CHROMIUM", "chromium")

HOSTILE_TOOL = '<img src=x onerror="document.title=1">'
HOSTILE_POLICY = "pol</script><script>window.injected=1</script>"
HOSTILE_REASON = "reason <b>bold</b> & </script>"
HOSTILE_MODEL = "model<i>x</i>"
HOSTILE_ERROR = "<svg onload=alert(1)>"
SECTIONS = ["overview", "tools", "traces", "policy", "cost", "errors"]


def ringtail(*args, check=True):
    result = subprocess.run([RINGTAIL, *args, "--no-progress"] if args[0] in ("stats", "query", "report") else
                            [RINGTAIL, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"ringtail {' '.join(args)}: {result.returncode}\n{result.stderr}"
    return result


def ringtail_json(*args, exact=False):
    """A verb's --json answer; with `exact`, numbers as their text (report --cost writes exact decimals)."""
    text = ringtail(*args, "--json").stdout
    return json.loads(text, parse_float=str, parse_int=str) if exact else json.loads(text)


def approx6(value):
    """stats --json writes numbers with 6 significant digits."""
    return pytest.approx(value, rel=1e-5)


def query_lines(store, *args):
    return [json.loads(line) for line in ringtail("query", store, *args).stdout.splitlines() if line]


def drain_pid(pid, store, env=None):
    result = subprocess.run([RINGTAIL, "drain", "--once", "--pid", str(pid), "--out", store],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr


def chromium(*args, timeout=120):
    if shutil.which(CHROMIUM) is None and not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is not installed (scripts/install-deps.sh installs chromium)")
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--no-first-run", "--user-data-dir=" + os.environ["RT_CHROMIUM_PROFILE"], *args],
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def render(path):
    """The DOM after the page's scripts ran."""
    return html_dom.parse(chromium("--dump-dom", "file://" + os.path.abspath(path)).stdout)


HOSTILE_PRODUCER = textwrap.dedent(f"""
    import os, time
    import ringtail
    from ringtail import agent
    ringtail.init(service="hostile")
    tool = {HOSTILE_TOOL!r}
    with ringtail.span("request<script>", tool=tool) as s:
        trace_id = s.trace_id
        agent.step_start("run-h", 1, tool)
        agent.step_end("run-h", 1, tool, "FAILURE", 3.5)
        agent.policy_check({HOSTILE_POLICY!r}, "validator.h", "BLOCK", {HOSTILE_REASON!r})
        agent.llm_call({HOSTILE_MODEL!r}, 10, 20, 0.25, 12.0)
        try:
            raise ValueError({HOSTILE_ERROR!r})
        except ValueError as e:
            ringtail.error("boom", error=e)
            s.fail(e)
    agent.breakglass("oncall<u>@example.com", "why </script>", time.time() + 600, "secret-token",
                     "validator.h", "BLOCK")
    print(trace_id, os.getpid())
""")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    os.environ["RT_CHROMIUM_PROFILE"] = str(base / "chromium-profile")
    out = str(base / "store")
    # A 64 KiB ring and no reader while it runs: the agent drops (ringtail.dropped lines).
    env = dict(os.environ, RINGTAIL_RING_BYTES="64K")
    agent = subprocess.run([AGENT_SIM, "--steps", "150", "--seed", "7", "--service", "demo_agent"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert agent.returncode == 0, agent.stderr
    # agent_sim names its segment on stdout/stderr: "segment /dev/shm/ringtail.<pid>.<start>".
    said = agent.stdout + agent.stderr
    pid = int(said.split("segment /dev/shm/ringtail.")[1].split(".")[0])
    drain_pid(pid, out)
    script = base / "hostile.py"
    script.write_text(HOSTILE_PRODUCER)
    producer = subprocess.run(["/usr/bin/python3", str(script)], capture_output=True, text=True, timeout=60)
    assert producer.returncode == 0, producer.stderr
    hostile_trace, hostile_pid = producer.stdout.split()
    # It exited: its segment waits for the drain, under its pid.
    drain_pid(hostile_pid, out)
    assert query_lines(out, "--service", "hostile"), "the hostile producer's lines are not in the store"
    return {"dir": out, "base": base, "hostile_trace": hostile_trace}


@pytest.fixture(scope="module")
def report(store):
    path = str(store["base"] / "report.html")
    result = ringtail("report", store["dir"], "--html", "-o", path)
    assert result.stdout.strip() == path
    return {"path": path, "dom": render(path)}


def card(dom, name):
    element = dom.find("div", data_stat=name)
    assert element is not None, f"no card {name}"
    value = element.find(data_v=None)
    assert value is not None, f"card {name} has no data-v"
    return value.attrs["data-v"], value.text().strip()


def table(dom, name):
    element = dom.find("table", data_table=name)
    assert element is not None, f"no table {name}"
    return html_dom.table_rows(element)


def test_every_section_rendered_without_a_script_error(report):
    dom = report["dom"]
    body = dom.find("body")
    errors = dom.find(id="script-errors")
    assert errors is None or errors.text().strip() == "", errors.text()
    assert body.attrs.get("data-rendered") == "ok"
    ids = [s.attrs.get("id") for s in dom.find_all("section")]
    assert ids == SECTIONS
    for section in dom.find_all("section"):
        assert section.find("h2") is not None and section.find("h2").text().strip()
    # Offline: nothing is loaded from anywhere.
    for element in dom.iter():
        for attr in ("src", "href"):
            value = element.attrs.get(attr) or ""
            assert not value.startswith(("http:", "https:", "//")), (element.tag, value)


def test_overview_equals_stats(store, report):
    dom = report["dom"]
    by_level = ringtail_json("stats", store["dir"], "--by", "level")
    by_service = ringtail_json("stats", store["dir"], "--by", "service")
    total = by_level["total"]
    assert card(dom, "events")[0] == str(total)
    levels = {g["key"]["level"]: g["count"] for g in by_level["groups"]}
    assert {r["level"][1]: int(r["count"][0]) for r in table(dom, "levels")} == levels
    services = {g["key"]["service"]: g["count"] for g in by_service["groups"]}
    assert {r["service"][1]: int(r["count"][0]) for r in table(dom, "services")} == services
    errors = levels.get("ERROR", 0) + levels.get("CRITICAL", 0)
    assert card(dom, "errors")[0] == str(errors)
    assert float(card(dom, "error_rate")[0]) == pytest.approx(errors / total, rel=1e-12)
    dropped = sum(line["dropped"] for line in query_lines(store["dir"], "--message", "ringtail.dropped"))
    assert dropped > 0, "the agent was meant to drop (a 64 KiB ring and no reader)"
    assert card(dom, "dropped")[0] == str(dropped)
    audit_lost = sum(line["audit_lost"] for line in query_lines(store["dir"], "--message", "ringtail.audit_lost"))
    assert card(dom, "audit_lost")[0] == str(audit_lost)
    for chart, series in (("events_by_level", levels), ("events_by_service", services)):
        svg = dom.find("svg", data_chart=chart)
        assert svg is not None, chart
        legend = svg.find("g", **{"class": "legend"})
        assert legend is not None, f"{chart} has no legend"
        assert set(series) <= {t.text().strip() for t in legend.find_all("text")}
        assert len(svg.find_all("text")) > len(series) + 4, f"{chart}: no axis labels"


def test_tools_equal_stats(store, report):
    dom = report["dom"]
    stats = ringtail_json("stats", store["dir"], "--message", "step.end", "--by", "tool", "--duration", "duration_ms")
    assert card(dom, "tool_calls")[0] == str(stats["total"])
    rows = {r["tool"][1]: r for r in table(dom, "tools")}
    assert len(rows) == len(stats["groups"])
    for group in stats["groups"]:
        row = rows[group["key"]["tool"]]
        assert int(row["calls"][0]) == group["count"]
        assert float(row["success_rate"][0]) == approx6(group["success_rate"])
        for ours, theirs in (("avg_ms", "avg"), ("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"),
                             ("max_ms", "max")):
            assert float(row[ours][0]) == approx6(group["duration"][theirs]), (group["key"], ours)
    assert HOSTILE_TOOL in rows
    histogram = dom.find("svg", data_chart="tool_latency")
    assert histogram is not None and histogram.find_all("rect")


def test_cost_equals_report_cost(store, report):
    dom = report["dom"]
    cost = ringtail_json("report", store["dir"], "--cost", "--by", "model", exact=True)
    text = ringtail("report", store["dir"], "--cost").stdout
    assert card(dom, "cost_usd")[0] == cost["cost_usd"]
    assert "Total Cost: " + card(dom, "cost_usd")[1] in text
    assert card(dom, "tokens")[0] == cost["tokens"]
    assert card(dom, "requests")[0] == cost["requests"]
    assert card(dom, "average_usd")[0] == cost["average_cost_usd"]
    rows = {r["model"][1]: r for r in table(dom, "cost_by_model")}
    assert set(rows) == {g["key"]["model"] for g in cost["groups"]}
    assert HOSTILE_MODEL in rows
    for group in cost["groups"]:
        row = rows[group["key"]["model"]]
        assert row["requests"][0] == group["requests"]
        assert row["cost_usd"][0] == group["cost_usd"]
        assert row["tokens"][0] == group["tokens"]
        assert row["average_usd"][0] == group["average_cost_usd"]
    assert dom.find("svg", data_chart="cost_over_time") is not None


def test_policy_and_errors_equal_stats(store, report):
    dom = report["dom"]
    decisions = ringtail_json("stats", store["dir"], "--message", "policy.check", "--by", "policy,decision")
    assert card(dom, "policy_checks")[0] == str(decisions["total"])
    shown = {(r["policy"][1], r["decision"][1]): int(r["count"][0]) for r in table(dom, "policy_decisions")}
    assert shown == {(g["key"]["policy"], g["key"]["decision"]): g["count"] for g in decisions["groups"]}
    blocked = len(query_lines(store["dir"], "--message", "policy.check", "--where", "decision=BLOCK"))
    denied_audit = len(query_lines(store["dir"], "--message", "audit.decision", "--where", "allow=false"))
    assert card(dom, "denied_total")[0] == str(blocked + denied_audit)
    assert any(r["reason"][1] == HOSTILE_REASON for r in table(dom, "denied_reasons"))
    breakglass = table(dom, "breakglass")
    assert [r["enabled_by"][1] for r in breakglass] == ["oncall<u>@example.com"]
    assert breakglass[0]["token_hash"][1].startswith("hmac:") and "secret-token" not in report["dom"].text()
    errors = ringtail_json("stats", store["dir"], "--where", "error.type exists", "--by", "error.type,error.code")
    assert card(dom, "error_lines")[0] == str(errors["total"])
    shown = {(r["type"][1], r["code"][0] or None): int(r["count"][0]) for r in table(dom, "errors")}
    expected = {(g["key"]["error.type"], None if g["key"]["error.code"] is None else str(g["key"]["error.code"])):
                g["count"] for g in errors["groups"]}
    assert shown == expected


def test_trace_waterfalls_hold_the_traces_spans(store, report):
    dom = report["dom"]
    traces = dom.find(id="traces").find_all("div", **{"class": None, "data-trace-id": None})
    traces = [t for t in traces if "trace" in t.classes()]
    assert traces, "no trace drawn"
    for trace in traces[:3] + [t for t in traces if t.attrs.get("data-status") == "ERROR"][:2]:
        trace_id = trace.attrs["data-trace-id"]
        lines = query_lines(store["dir"], "--where", f"trace_id={trace_id}")
        spans = {line["span_id"] for line in lines if line["message"] in ("span.start", "span.end")}
        rows = [r for r in trace.find_all("div") if "span-row" in r.classes()]
        assert {r.attrs["data-span-id"] for r in rows} == spans, trace_id
        failed = {line["span_id"] for line in lines if line["message"] == "span.end" and line.get("status") == "ERROR"}
        assert {r.attrs["data-span-id"] for r in rows if r.attrs.get("data-status") == "ERROR"} == failed
        assert trace.attrs["data-status"] == ("ERROR" if failed else "OK")
    failed_traces = [t for t in traces if t.attrs.get("data-status") == "ERROR"]
    assert failed_traces, "the agent's failed steps make failed traces"


def test_hostile_text_stays_text(store, report):
    dom = report["dom"]
    text = dom.text()
    for hostile in (HOSTILE_TOOL, HOSTILE_REASON, HOSTILE_MODEL, HOSTILE_ERROR, HOSTILE_POLICY):
        assert hostile in text, hostile
    for element in dom.iter():
        assert not any(name.startswith("on") for name in element.attrs), (element.tag, element.attrs)
    assert not dom.find_all("img") and not dom.find_all("svg", onload=None)
    # No element made of the hostile markup (the page's own <b> or <i>, if any, hold other text).
    for tag, inner in (("b", "bold"), ("i", "x"), ("u", "@example.com")):
        assert not [e for e in dom.find_all(tag) if e.text() == inner], tag
    # One data script and the page's own; none injected.
    assert len(dom.find_all("script")) == 2


def test_tables_sort_when_a_header_is_clicked(store, report, tmp_path):
    clicker = textwrap.dedent("""
        <script>
        (function () {
          const th = document.querySelector('table[data-table="tools"] th[data-key="calls"]');
          const order = () => Array.from(document.querySelectorAll('table[data-table="tools"] tbody tr'))
              .map(tr => tr.querySelector('td[data-col="calls"]').getAttribute("data-v")).join(",");
          const out = [];
          th.click(); out.push(th.getAttribute("aria-sort") + ":" + order());
          th.click(); out.push(th.getAttribute("aria-sort") + ":" + order());
          const done = document.createElement("div");
          done.id = "sort-check";
          done.textContent = out.join("|");
          document.body.appendChild(done);
        })();
        </script>
    """)
    page = open(report["path"], encoding="utf-8").read().replace("</body>", clicker + "</body>")
    path = tmp_path / "sorted.html"
    path.write_text(page, encoding="utf-8")
    dom = render(str(path))
    first, second = dom.find(id="sort-check").text().split("|")
    states = {}
    for state in (first, second):
        name, values = state.split(":")
        states[name] = [int(v) for v in values.split(",")]
    assert set(states) == {"ascending", "descending"}
    assert states["ascending"] == sorted(states["ascending"]) and len(states["ascending"]) > 2
    assert states["descending"] == sorted(states["ascending"], reverse=True)


def test_trace_flag_reports_one_trace(store, tmp_path):
    trace_id = store["hostile_trace"]
    path = str(tmp_path / "trace.html")
    ringtail("report", store["dir"], "--html", "-o", path, "--trace", trace_id)
    dom = render(path)
    assert dom.find("body").attrs.get("data-rendered") == "ok"
    lines = query_lines(store["dir"], "--where", f"trace_id={trace_id}")
    assert card(dom, "events")[0] == str(len(lines))
    drawn = [t for t in dom.find_all("div", data_trace_id=trace_id) if "trace" in t.classes()]
    assert drawn and drawn[0].attrs["data-status"] == "ERROR"


def test_a_report_of_nothing_renders(store, tmp_path):
    path = str(tmp_path / "empty.html")
    ringtail("report", store["dir"], "--html", "-o", path, "--since", "2100-01-01T00:00:00Z")
    dom = render(path)
    assert dom.find("body").attrs.get("data-rendered") == "ok"
    assert card(dom, "events")[0] == "0"
    assert table(dom, "tools") == [] and table(dom, "errors") == []


def test_screenshot(report, tmp_path):
    png = tmp_path / "report.png"
    chromium("--window-size=1400,3000", "--screenshot=" + str(png), "file://" + report["path"])
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 50_000


def test_usage_and_write_errors(store, tmp_path):
    d = store["dir"]
    for args in (["--html"], ["--html", "--cost", "-o", "x.html"], ["--html", "-o", "x.html", "--by", "model"],
                 ["--html", "-o", "x.html", "--trace", "not-a-trace"], ["--cost", "-o", "x.html"], []):
        result = ringtail("report", d, *args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip(), args
    missing = tmp_path / "no-such-dir" / "r.html"
    result = ringtail("report", d, "--html", "-o", str(missing), check=False)
    assert result.returncode == 1 and "cannot write" in result.stderr
    # Whole or not at all: a report over an existing file replaces it only when complete.
    target = tmp_path / "r.html"
    target.write_text("old")
    ringtail("report", d, "--html", "-o", str(target))
    assert target.read_text(encoding="utf-8").startswith("<!")
    assert sorted(os.listdir(tmp_path)) == ["r.html"], "a temporary file was left behind"
    stdout = ringtail("report", d, "--html", "-o", "-").stdout
    assert stdout.startswith("<!") and 'id="ringtail-data"' in stdout
