"""The command line end to end: dump on the simulator, clear one-line errors, config commands."""

import csv
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from hypertui.cli import main


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("HYPERTRACKER_API_TOKEN", raising=False)
    monkeypatch.delenv("HYPERTRACKER_BASE_URL", raising=False)
    monkeypatch.setenv("HYPERTUI_CONFIG", str(tmp_path / "config.toml"))


def run(capsys, *argv):
    code = main(["--scale", "small", *argv]) if argv[0] != "dump" else main([argv[0], "--scale", "small", *argv[1:]])
    out = capsys.readouterr()
    return code, out.out, out.err


class ScriptedApi:
    """A real HTTP server on 127.0.0.1 whose answers a test scripts: `routes[path](query) -> body`.

    After `max_requests` every answer is an error, so a client that never stops paging ends
    (and its test fails) instead of hanging.
    """

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.url = f"http://127.0.0.1:{server.server_port}/api/external"
        self.routes: dict[str, Callable[[dict[str, str]], object]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.max_requests = 40


@pytest.fixture
def scripted_api() -> Iterator[ScriptedApi]:
    api: ScriptedApi

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            path, query = url.path.removeprefix("/api/external"), {k: v[-1] for k, v in parse_qs(url.query).items()}
            api.requests.append((path, query))
            scripted = len(api.requests) <= api.max_requests and path in api.routes
            body = json.dumps(api.routes[path](query) if scripted else {"message": "nothing scripted"}).encode()
            self.send_response(200 if scripted else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api = ScriptedApi(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()
    thread.join(5)


def position(i: int) -> dict:
    return {"id": f"{i:x}", "address": "0x" + "a" * 40, "coin": "BTC", "side": "long", "size": 1.0,
            "positionValue": 95000.0, "openTime": "2026-03-04T08:10:00.000Z"}


def positions_page(ids, next_cursor) -> dict:
    return {"positions": [position(i) for i in ids], "nextCursor": next_cursor}


def dump_from(capsys, api: ScriptedApi, *argv):
    return run(capsys, "dump", "--base-url", api.url, "--token", "t", *argv)


def test_dump_all_stops_with_one_error_line_when_cursors_go_round(capsys, scripted_api):
    pages = {None: ([0, 1], "A"), "A": ([2, 3], "B"), "B": ([4, 5], "A")}  # A -> B -> A
    scripted_api.routes["/positions"] = lambda q: positions_page(*pages[q.get("nextCursor")])
    code, out, err = dump_from(capsys, scripted_api, "positions", "--all", "--start", "2026-01-01")
    assert code == 1 and "cursor loop" in err and err.count("\n") == 1 and "Traceback" not in err
    assert [p["id"] for p in json.loads(out)] == ["0", "1", "2", "3", "4", "5"]  # what was read, as valid JSON
    assert len(scripted_api.requests) == 3


def test_dump_all_stops_when_new_cursors_bring_the_same_page_again(capsys, scripted_api):
    def answer(query):  # rows 0-1, 2-3, 0-1, ... each under a cursor never seen before
        n = int(query.get("nextCursor", "0"))
        return positions_page([2 * (n % 2), 2 * (n % 2) + 1], str(n + 1))

    scripted_api.routes["/positions"] = answer
    code, out, err = dump_from(capsys, scripted_api, "--format", "csv", "positions", "--all", "--start", "2026-01-01")
    assert code == 1 and "cursor loop" in err
    assert [row["id"] for row in csv.DictReader(io.StringIO(out))] == ["0", "1", "2", "3"]
    assert len(scripted_api.requests) == 3


def test_dump_bias_history_stops_when_new_cursors_bring_the_same_snapshots_again(capsys, scripted_api):
    segment = {"id": 9, "name": "Smart Money", "category": "pnl", "criteria": {"minPnl": 100000}}

    def answer(query):  # the same two snapshots under every cursor
        n = int(query.get("nextCursor", "0"))
        return {"segment": segment, "nextCursor": str(n + 1), "historySnapshotStructure": ["timestamp", "bias"],
                "history": [["2026-03-04T08:00:00.000Z", 0.5], ["2026-03-04T07:45:00.000Z", 0.25]]}

    scripted_api.routes["/segments/9/bias-history"] = answer
    code, out, err = dump_from(capsys, scripted_api, "bias-history", "9", "--start", "2026-03-01")
    assert code == 1 and "cursor loop" in err and [s["bias"] for s in json.loads(out)] == [0.5, 0.25]


def test_dump_writes_whole_numbers_as_sent_and_a_heatmap_row_without_cohorts(capsys, scripted_api):
    totals = {"totalValue": 250, "totalLongValue": 100, "totalShortValue": 150, "count": 3}
    scripted_api.routes["/positions/heatmap"] = lambda q: {"heatmap": [{"coin": "BTC", **totals}]}
    code, out, err = dump_from(capsys, scripted_api, "heatmap")
    assert code == 0, err
    assert json.loads(out) == {"heatmap": [{"coin": "BTC", **totals}]} and '"totalValue": 250,' in out
    code, out, err = dump_from(capsys, scripted_api, "heatmap", "--format", "csv")
    assert code == 0 and out == "coin,coinTotalValue,coinTotalLongValue,coinTotalShortValue,coinCount\nBTC,250,100,150,3\n"


def test_dump_csv_carries_every_field_of_the_summary_and_the_heatmap(capsys):
    summary = json.loads(run(capsys, "dump", "summary", "9")[1])
    code, out, _ = run(capsys, "dump", "--format", "csv", "summary", "9")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and "\r" not in out
    assert [row["topOpenPerps.coin"] for row in rows] == [a["coin"] for a in summary["topOpenPerps"]] and len(rows) > 1
    assert {row["countTraders24HoursAgo"] for row in rows} == {str(summary["countTraders24HoursAgo"])}
    assert rows[0]["openPerpsSummary.bySide.long.count"] == str(summary["openPerpsSummary"]["bySide"]["long"]["count"])
    btc = next(row for row in json.loads(run(capsys, "dump", "heatmap")[1])["heatmap"] if row["coin"] == "BTC")
    code, out, _ = run(capsys, "dump", "heatmap", "--format", "csv", "--crlf")
    rows = [row for row in csv.DictReader(io.StringIO(out)) if row["coin"] == "BTC"]
    assert out.endswith("\r\n") and len(rows) == len(btc["segments"])
    assert {(row["coinTotalValue"], row["coinCount"]) for row in rows} == {(str(btc["totalValue"]), str(btc["count"]))}


@pytest.mark.parametrize(("option", "message"), [("--limit=501", "at most 500"), ("--offset=-5", "at least 0")])
def test_liquidation_risk_paging_out_of_range_is_a_usage_error(capsys, option, message):
    with pytest.raises(SystemExit) as info:
        run(capsys, "dump", "liquidation-risk", "9", option)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_dump_segments_json_keeps_api_field_names(capsys):
    code, out, err = run(capsys, "dump", "segments")
    assert code == 0, err
    segments = json.loads(out)
    assert len(segments) == 16 and {"id", "name", "emoji", "category", "criteria"} <= segments[0].keys()


def test_dump_heatmap_csv_and_positions_limit(capsys):
    code, out, _ = run(capsys, "dump", "--format", "csv", "heatmap")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows and {"coin", "segmentId", "totalValue", "bias"} <= rows[0].keys()
    code, out, _ = run(capsys, "dump", "positions", "--coin", rows[0]["coin"], "--open", "--start", "2025-04-04", "--limit", "7")
    positions = json.loads(out)
    assert code == 0 and len(positions) == 7
    assert all(p["coin"] == rows[0]["coin"] and p["closeTime"] is None and "positionValue" in p for p in positions)


@pytest.mark.parametrize(
    "kind",
    [["summary", "9"], ["bias-history", "9"], ["breakdown", "BTC"], ["segment-metrics", "ETH"],
     ["position-metrics", "BTC", "9"], ["liquidation-risk", "9", "--limit", "3"], ["bias-24h"], ["status"]],
)
def test_every_dump_kind_runs(capsys, kind):
    code, out, err = run(capsys, "dump", *kind)
    assert code == 0, err
    assert json.loads(out)


def test_api_error_is_one_line_on_stderr(capsys):
    code, out, err = run(capsys, "dump", "breakdown", "NOPE")
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "NOPE not found" in err and "Traceback" not in err


def test_options_may_follow_the_kind_and_bad_ranges_are_refused(capsys):
    code, out, _ = run(capsys, "dump", "heatmap", "--format", "csv")
    assert code == 0 and out.startswith("coin,segmentId,")
    with pytest.raises(SystemExit) as info:
        run(capsys, "dump", "positions", "--limit", "0")
    assert info.value.code == 2 and "must be at least 1" in capsys.readouterr().err
    code, _, err = run(capsys, "dump", "positions", "--start", "2026-12-01", "--end", "2026-11-01")
    assert code == 2 and "must be before --end" in err


def test_refuses_plain_http_to_a_remote_host(capsys):
    code, _, err = run(capsys, "dump", "--base-url", "http://example.com/api", "--token", "t", "segments")
    assert code == 2 and "refusing plain http" in err


def test_config_path_and_init(capsys, tmp_path):
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "config.toml")
    assert main(["config", "init"]) == 0 and (tmp_path / "config.toml").exists()
    assert main(["config", "init"]) == 2


def test_console_entry_point_runs_in_a_fresh_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERTRACKER_")}
    env["HYPERTUI_CONFIG"] = str(tmp_path / "none.toml")
    out = subprocess.run(
        [sys.executable, "-m", "hypertui", "dump", "--scale", "small", "status"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert {"lastUpdate", "nextUpdate"} <= json.loads(out.stdout).keys()


def test_config_init_documents_theme_and_every_key_then_check_reports(capsys, tmp_path, monkeypatch):
    from hypertui.ui import prefs
    from hypertui.ui.app import HyperTuiApp

    monkeypatch.setattr(prefs, "user_themes_dir", lambda: tmp_path / "themes")
    assert main(["config", "init"]) == 0
    text = (tmp_path / "config.toml").read_text()
    assert '# theme = "hypertui-dark"' in text and "\n[keys]\n" in text
    for binding in HyperTuiApp.BINDINGS:
        assert f'# "{binding.id}" = "{binding.key}"' in text and binding.id.startswith("app.")
    assert '# "positions.back" = "escape,backspace"' in text
    capsys.readouterr()
    assert main(["config", "check"]) == 0  # the template, all commented out, is fine
    out = capsys.readouterr().out
    assert "theme: hypertui-dark" in out and "hypertui-colorblind" in out and "problem" not in out
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "bad.toml").write_text('name = "bad"\n')
    with (tmp_path / "config.toml").open("a") as fh:
        fh.write('refesh = "f5"\npause = "f6"\n')
    assert main(["--theme", "nope", "config", "check"]) == 1
    out = capsys.readouterr().out
    assert "problem: keys: no binding has the id 'refesh' (did you mean 'app.refresh'?)" in out
    assert '\n[keys] "pause" is now "app.pause"; the old id still works\n' in out
    assert "problem: keys: no binding has the id 'pause'" not in out
    assert "problem: theme 'nope' not found" in out and "bad.toml: missing key 'primary'" in out


def test_dump_positions_open_means_open_now_whatever_their_opening_time(capsys, scripted_api):
    """`--open` asked for positions opened in the last 24 h and still open: a 24 h default window
    made explicit is what the API's required `start` gives, but "open" means open now."""
    asked = []
    scripted_api.routes["/positions"] = lambda q: (asked.append(q), positions_page([1], None))[1]
    assert dump_from(capsys, scripted_api, "positions", "--open")[0] == 0
    assert asked[-1]["open"] == "true" and asked[-1]["start"].startswith("2025-04-04")
    assert dump_from(capsys, scripted_api, "positions")[0] == 0
    assert not asked[-1]["start"].startswith("2025-04-04")  # the last 24 h: every position, open or closed


def test_dump_positions_that_match_nothing_say_why_on_stderr(capsys, scripted_api):
    scripted_api.routes["/positions"] = lambda q: positions_page([], None)
    code, out, err = dump_from(capsys, scripted_api, "positions", "--coin", "btc", "--address", "0x" + "AB" * 20)
    assert code == 0 and json.loads(out) == []  # stdout stays the data
    assert "coin names are case-sensitive (BTC" in err and "opened in the last 24 h" in err
    assert "0x" + "ab" * 20 in err  # the address as the API wants it: lowercase


def test_dump_positions_refuses_what_is_not_an_address(capsys):
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "dump", "positions", "--address", "0x1234")
    assert exit_.value.code == 2 and "'0x1234' is not a wallet address" in capsys.readouterr().err


GOOD_RULES = """
[[alerts]]
kind = "bias"
cohort = "Smart Money"
above = 0.6

[[alerts]]
kind = "liquidation_risk"
cohort = 3
coin = "ETH"
above = 25
"""


def test_config_check_validates_alert_rules_as_the_app_does_one_line_each(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(GOOD_RULES)
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert "alert rules: 2 valid, 0 invalid" in out and "problem" not in out

    config.write_text(GOOD_RULES + """
[[alerts]]
kind = "bias"
cohort = "Whale"

[[alerts]]
kind = "long_share"
cohort = "Whale"
coin = "BTC"
above = 0.5
"line\\nbreak" = 2

[[alerts]]
kind = "sn\\nake"
cohort = "Whale"
above = 1
""")
    assert main(["config", "check"]) == 1
    out = capsys.readouterr().out
    assert "alert rules: 2 valid, 3 invalid" in out
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert problems == [
        "problem: config: [[alerts]] #3 (kind bias): set exactly one of above = N, below = N, or sign_change = true",
        "problem: config: [[alerts]] #4 (kind long_share): line break: unknown field",
        "problem: config: [[alerts]] #5 (kind sn ake): kind: 'sn\\nake' is not one of bias, long_share, liquidation_risk, traders",
    ]
    assert len(out.splitlines()) == len([line for line in out.splitlines() if line]) == 6 + 3  # nothing spills onto a line of its own


def test_dump_tokens_prints_what_every_run_on_the_store_spent_by_endpoint(capsys, scripted_api, tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERTUI_STORE", str(tmp_path / "store.sqlite3"))
    status = {"lastUpdate": "2026-11-20T11:45:00.000Z", "nextUpdate": "2026-11-20T12:00:00.000Z"}
    legend = [{"id": 9, "name": "Smart Money", "category": "pnl", "criteria": {"minPnl": 100000, "maxPnl": 1000000}}]
    scripted_api.routes |= {"/hypertracker/state/status": lambda q: status, "/segments": lambda q: legend}
    first, second = dump_from(capsys, scripted_api, "segments"), dump_from(capsys, scripted_api, "segments")
    assert first == second and first[0] == 0
    assert [path for path, _ in scripted_api.requests] == ["/hypertracker/state/status", "/segments", "/hypertracker/state/status"]
    code, out, _ = dump_from(capsys, scripted_api, "tokens")
    assert code == 0 and len(scripted_api.requests) == 3  # counting asks the API nothing
    assert json.loads(out) == {"api": scripted_api.url, "total": 3, "byEndpoint": {"/hypertracker/state/status": 2, "/segments": 1}}
    code, out, _ = dump_from(capsys, scripted_api, "--format", "csv", "tokens")
    api = scripted_api.url
    assert out.splitlines() == ["api,endpoint,tokens", f"{api},/hypertracker/state/status,2", f"{api},/segments,1"]

    dump_from(capsys, scripted_api, "--no-store", "segments")  # in memory: asked again, and not counted in the file
    assert [path for path, _ in scripted_api.requests[3:]] == ["/hypertracker/state/status", "/segments"]
    assert json.loads(dump_from(capsys, scripted_api, "tokens")[1])["total"] == 3


def test_store_prints_what_is_held_per_api_and_prune_drops_what_is_too_old(capsys, tmp_path, monkeypatch):
    from datetime import timedelta

    from hypertui.api.store import SnapshotStore
    from hypertui.clock import utc_now

    path = tmp_path / "store.sqlite3"
    monkeypatch.setenv("HYPERTUI_STORE", str(path))
    assert main(["store"]) == 0 and "no store yet" in capsys.readouterr().out and not path.exists()
    store = SnapshotStore(path, source="https://api.example/api")
    updates = [(utc_now() - timedelta(days=d)).replace(second=0, microsecond=0) for d in (3, 1)]
    for at in updates:
        for endpoint in ("/segments/9/summary", "/positions/heatmap"):
            store.keep(endpoint, "", at.isoformat(), at, b"x" * 1000)  # zlib makes it 17 bytes
    store.close()
    assert main(["store"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}: ") and lines[0].endswith("on disk, answers kept 30 days")
    first, last = (f"{at:%Y-%m-%d %H:%M}" for at in updates)
    assert lines[1:] == [f"https://api.example/api: 2 updates, {first} – {last} UTC, 4 answers, 68 B (34 B per update)"]
    assert main(["store", "prune", "--keep-days", "2"]) == 0
    assert capsys.readouterr().out == "pruned 2 answers and 0 token counts older than 2 days\n"
    assert main(["store"]) == 0 and f"1 updates, {last} – {last} UTC, 2 answers" in capsys.readouterr().out


def test_the_start_leaves_out_httpx_s_own_command_line():
    """httpx imports its command line (click, pygments) whenever they are installed: ~20 ms of
    every start. The dashboard's imports and its network client come without it."""
    code = (
        "import sys, hypertui.cli, hypertui.launch, hypertui.ui.app, httpx; httpx.AsyncClient();"
        "print(sorted(m for m in ('click', 'pygments.lexers', 'httpx._main') if sys.modules.get(m) is not None))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
