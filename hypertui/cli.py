"""Command line: argument parsing and dispatch only.

    hypertui [options]                 the live dashboard (simulator when no token is set)
    hypertui sim [--host --port ...]   the market simulator as a local HTTP server
    hypertui serve [--host --port]     the dashboard in a web browser (textual-serve)
    hypertui dump KIND [...]           one endpoint's data on stdout, for scripts
    hypertui record [--refresh ...]    record every API update of what the dashboard shows (no UI)
    hypertui store [prune]             what the store (the recording) holds / drop what is too old
    hypertui config path|init|check    where the config file lives / write a commented one / check it
    hypertui screenshots [DIR]         SVGs of the main screens, rendered by the app itself
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from hypertui import __version__

# httpx imports its own command line (click, pygments' lexers, rich's progress and syntax) when
# they are installed, as uvicorn's click always is here: ~20 ms of every start, for a `main`
# hypertui never calls. None in sys.modules makes that import fail, and httpx goes on without it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

EXIT_API_ERROR = 1
EXIT_USAGE = 2


def _iso_date(text: str) -> str:
    """Accept an ISO date/datetime and pass it on in the API's format."""
    from hypertui.api.models import iso

    return iso(_moment(text))


def _moment(text: str) -> datetime:
    """An ISO date or time, UTC unless it says otherwise (a naive time is taken as UTC by `iso` too)."""
    from hypertui.api.models import as_utc

    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date (e.g. 2026-02-25 or 2026-02-25T08:00:00Z)") from None


def _address(text: str) -> str:
    """A wallet address as the API wants it: lowercase (it matches nothing otherwise)."""
    from hypertui.monitor.positions import parse_address

    address = parse_address(text)
    if address is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a wallet address (0x and 40 hex digits)")
    return address


def _segment_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a cohort id (1-16)") from None
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"cohort id must be 1-16, got {value}")
    return value


def _usage(check, *args):
    """A config check run on a flag, its ConfigError as argparse's usage error: the file's limits apply."""
    from hypertui.config import ConfigError

    try:
        return check(*args)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seed(text: str) -> int:
    from hypertui.config import check_seed

    return _usage(check_seed, text, "seed")


def _update_interval(text: str) -> float:
    from hypertui.config import UPDATE_INTERVAL_RANGE, check_seconds

    return _usage(check_seconds, text, "update interval", UPDATE_INTERVAL_RANGE, None)


def _refresh(text: str) -> float:
    from hypertui.config import REFRESH_RANGE, check_seconds

    return _usage(check_seconds, text, "refresh", REFRESH_RANGE, None)


def _keep_days(text: str) -> float:
    from hypertui.config import KEEP_DAYS_RANGE, check_number

    return _usage(check_number, text, "keep days", KEEP_DAYS_RANGE, None, "days")


def _connection_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options shared by the dashboard and `dump`; subparsers must not reset the main ones."""
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("data source")
    group.add_argument("--token", default=default, help="API token (prefer HYPERTRACKER_API_TOKEN: process lists show arguments)")
    group.add_argument("--base-url", default=default, help="API base URL (default: the real service when a token is set)")
    group.add_argument("--seed", type=_seed, default=default, help="simulator seed (default 7)")
    group.add_argument("--scale", choices=("small", "default", "large"), default=default, help="simulator market size")
    group.add_argument(
        "--update-interval",
        type=_update_interval,
        default=default,
        metavar="SECONDS",
        help="simulated state update period (default 15)",
    )
    group.add_argument(
        "--no-store", action="store_true", default=default, help="keep answers and tokens in memory, not in the store file"
    )
    group.add_argument(
        "--shared-cache",
        default=default,
        metavar="URL",
        help="a desk's Redis (redis:// or rediss://): each answer fetched once per update for all "
        "(a URL with a password: prefer HYPERTUI_SHARED_CACHE, process lists show arguments)",
    )


def _dump_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    _connection_options(parser, suppress=suppress)
    parser.add_argument("--format", choices=("json", "csv"), default=argparse.SUPPRESS, help="output format (default json)")
    parser.add_argument("--crlf", action="store_true", default=argparse.SUPPRESS, help="end CSV lines in CRLF (default LF)")
    parser.add_argument(
        "--at", type=_moment, default=argparse.SUPPRESS, metavar="TIME",
        help="from the recording, as the API answered at TIME (UTC; the newest update held at or before it): no request",
    )


def _whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (no upper bound if None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hypertui",
        description="Live terminal monitor for HyperTracker cohort analytics of Hyperliquid perpetuals. "
        "With no token configured it runs on a built-in market simulator.",
        epilog="Environment: HYPERTRACKER_API_TOKEN, HYPERTRACKER_BASE_URL, HYPERTUI_CONFIG (config file path), "
        "HYPERTUI_SHARED_CACHE. "
        "Alert rules are [[alerts]] tables in the config file (`hypertui config init` writes examples); "
        "press ! in the dashboard for what fired.",
    )
    parser.add_argument("--version", action="version", version=f"hypertui {__version__}")
    _connection_options(parser, suppress=False)
    parser.add_argument("--refresh", type=_refresh, default=None, metavar="SECONDS", help="refresh interval")
    parser.add_argument(
        "--theme", default=None, metavar="NAME", help="colour theme (default hypertui-dark; `hypertui config check` lists them)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = sub.add_parser(
        "sim", help="run the market simulator as a local HTTP server", description="Serve the simulated API over HTTP"
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8787, help="port (default 8787)")
    sim.add_argument("--seed", type=_seed, default=7, help="market seed (default 7)")
    sim.add_argument("--scale", choices=("small", "default", "large"), default="default", help="market size")
    sim.add_argument(
        "--update-interval", type=_update_interval, default=15.0, metavar="SECONDS", help="seconds between state updates"
    )
    sim.add_argument("--token", default=None, help="accept only this bearer token (default: any non-empty token)")
    sim.add_argument(
        "--chaos",
        default=None,
        metavar="PRESET|SPEC",
        help="inject faults: a preset (off, mild, storm, hostile, edge) or kind=rate pairs, e.g. "
        "'mild,500=0.1,seed=3' (kinds: latency hostile 500 502 503 429 quota reset truncate drift expired "
        "drip bomb loop extreme naive nostatus)",
    )

    serve = sub.add_parser(
        "serve",
        help="serve the dashboard to a web browser",
        description="Serve the dashboard over HTTP: each browser tab gets its own hypertui, with the same "
        "data source and settings as `hypertui` would have here (the token goes through the environment).",
        epilog="The dashboard is served under a random path, printed at start and new every run: the path is "
        "the password, and every tab reaches the API with your token. Only loopback by default: plain http carries "
        "that path across the network, so to view it from elsewhere prefer an SSH tunnel: ssh -L 8000:127.0.0.1:8000 HOST.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--public-url", default=None, metavar="URL", help="URL browsers reach this server at (default http://HOST:PORT)"
    )
    serve.add_argument(
        "--no-auth", action="store_true", help="serve at / with no secret path: anyone who can reach the port gets the dashboard"
    )
    _connection_options(serve, suppress=True)
    serve.add_argument("--refresh", type=_refresh, default=argparse.SUPPRESS, metavar="SECONDS", help="refresh interval")

    shots = sub.add_parser(
        "screenshots",
        help="render SVG screenshots of the main screens",
        description="Render every main screen from the simulator (fixed seed and clock) to SVG files.",
    )
    shots.add_argument("directory", nargs="?", default="screenshots", help="output directory (default ./screenshots)")

    dump = sub.add_parser(
        "dump",
        help="print one endpoint's data (JSON or CSV) to stdout",
        description="Print one endpoint's validated data. Options may come before or after KIND.",
        epilog="Cohort ids: size 16 Shrimp, 1 Fish, 2 Dolphin, 3 Apex Predator, 4 Small Whale, 5 Whale, "
        "6 Tidal Whale, 7 Leviathan; pnl 8 Money Printer, 9 Smart Money, 10 Grinder, 11 Humble Earner, "
        "12 Exit Liquidity, 13 Semi-Rekt, 14 Full Rekt, 15 Giga-Rekt (`hypertui dump segments` lists them).",
    )
    _dump_options(dump, suppress=True)
    dump.set_defaults(format="json", crlf=False, at=None)
    from hypertui.api.position_age import POSITION_AGES

    kinds = dump.add_subparsers(dest="kind", metavar="KIND", required=True)
    # Each KIND takes the same options again, so `dump heatmap --format csv` works too.
    common = argparse.ArgumentParser(add_help=False)
    _dump_options(common, suppress=True)

    k = kinds.add_parser("segments", parents=[common], help="the cohort legend")
    k = kinds.add_parser("summary", parents=[common], help="a cohort's summary")
    k.add_argument("segment", type=_segment_id, help="cohort id 1-16")
    k.add_argument("--position-age", choices=POSITION_AGES, default="all")
    k = kinds.add_parser(
        "positions",
        parents=[common],
        help="positions (opened in the last 24 h, or --open: every open one; --all pages through everything)",
    )
    k.add_argument("--coin", help="coin, case-sensitive (BTC, kPEPE, xyz:GOLD)")
    k.add_argument("--segment", type=_segment_id, help="cohort id 1-16 (see below)")
    k.add_argument("--address", action="append", type=_address, help="wallet address 0x... (repeatable)")
    state = k.add_mutually_exclusive_group()
    state.add_argument(
        "--open",
        dest="open",
        action="store_const",
        const=True,
        default=None,
        help="positions open now, whenever opened (unless --start)",
    )
    state.add_argument("--closed", dest="open", action="store_const", const=False, help="closed positions only")
    k.add_argument("--start", type=_iso_date, help="opened at or after (default: 24 h ago; with --open, 2025-04-04)")
    k.add_argument("--end", type=_iso_date, help="opened before (default: now)")
    amount = k.add_mutually_exclusive_group()
    amount.add_argument("--limit", type=_whole_number(1), default=100, help="at most N positions (default 100)")
    amount.add_argument("--all", action="store_true", help="every matching position, page by page")
    k = kinds.add_parser("bias-history", parents=[common], help="a cohort's perp bias over time")
    k.add_argument("segment", type=_segment_id)
    k.add_argument("--start", type=_iso_date)
    k.add_argument("--end", type=_iso_date)
    k.add_argument("--recency", choices=POSITION_AGES, default="all")
    k = kinds.add_parser("breakdown", parents=[common], help="a coin's positions by cohort")
    k.add_argument("coin")
    k.add_argument("--position-age", choices=POSITION_AGES, default="all")
    k = kinds.add_parser("segment-metrics", parents=[common], help="a coin's per-cohort metrics over ~7 days")
    k.add_argument("coin")
    k.add_argument("--position-age", choices=POSITION_AGES, default="all")
    k = kinds.add_parser("position-metrics", parents=[common], help="coin x cohort time series (7 days by default)")
    k.add_argument("coin")
    k.add_argument("segment", type=_segment_id)
    k.add_argument("--start", type=_iso_date)
    k.add_argument("--end", type=_iso_date)
    k = kinds.add_parser("heatmap", parents=[common], help="every coin's per-cohort totals")
    k.add_argument("--opened-within", choices=POSITION_AGES, default="all")
    k = kinds.add_parser("liquidation-risk", parents=[common], help="a cohort's assets by liquidation risk")
    k.add_argument("segment", type=_segment_id)
    k.add_argument("--offset", type=_whole_number(0), default=0)
    k.add_argument("--limit", type=_whole_number(1, 500), default=100, help="1-500, the API's maximum (default 100)")
    kinds.add_parser("bias-24h", parents=[common], help="every cohort's bias (positions opened in the last 24 h), over ~72 h")
    kinds.add_parser("status", parents=[common], help="when the data last changed and will next")
    k = kinds.add_parser(
        "history",
        parents=[common],
        help="a recorded series in long form (from the store's recording, no request)",
        description="One row per update and coin and cohort (heatmap), cohort and coin (risk) or cohort (summary), "
        "from what `hypertui record` or the dashboard kept in the store.",
    )
    k.add_argument("series", choices=("heatmap", "risk", "summary"))
    k.add_argument("--since", type=_moment, help="updates at or after (UTC; default: the first recorded)")
    k.add_argument("--until", type=_moment, help="updates at or before (UTC; default: the last recorded)")
    kinds.add_parser(
        "tokens", parents=[common], help="tokens spent today (UTC) by endpoint, by every hypertui sharing the store"
    )

    record = sub.add_parser(
        "record",
        help="record every API update of what the dashboard shows, headless (for a server)",
        description="At each API update, fetch what the dashboard shows (legend, status, heatmap, the 24 h bias "
        "export, every cohort's summary and first page of liquidation risk, as many as the daily_tokens budget "
        "allows) into the store, one line per update on stderr. What the store holds costs nothing: a restart "
        "resumes, and a dashboard on the same store reads the recording instead of spending tokens. "
        "SIGTERM or Ctrl+C stops it.",
    )
    _connection_options(record, suppress=True)
    record.add_argument(
        "--refresh", type=_refresh, default=argparse.SUPPRESS, metavar="SECONDS",
        help="check this often instead of a little after each update (status nextUpdate)",
    )

    store = sub.add_parser(
        "store",
        help="what the store holds (the recording) and pruning it",
        description="Print what the store file holds, per API: updates recorded, their dates, answers and size. "
        "`prune` drops answers and token counts older than keep_days (the config's, 30 by default); "
        "hypertui also does so at start, once a day.",
    )
    store.add_argument("action", nargs="?", choices=("prune",), help="prune: drop what is older than the days kept")
    store.add_argument("--keep-days", type=_keep_days, default=None, metavar="DAYS", help="with prune: keep this many days")

    config = sub.add_parser("config", help="the config file", description="Show or create the config file.")
    config.add_argument(
        "action",
        choices=("path", "init", "check"),
        help="path: print where it lives; init: write a commented one; "
        "check: list themes and problems with theme, keys and [[alerts]] rules",
    )
    return parser


def _load_settings(args: argparse.Namespace):
    from hypertui.config import load_settings

    return load_settings(
        token=getattr(args, "token", None),
        base_url=getattr(args, "base_url", None),
        refresh=getattr(args, "refresh", None),
        seed=getattr(args, "seed", None),
        scale=getattr(args, "scale", None),
        update_interval=getattr(args, "update_interval", None),
        theme=getattr(args, "theme", None),
        no_store=getattr(args, "no_store", None),
        shared_cache=getattr(args, "shared_cache", None),
    )


def _fail(message: str, code: int) -> int:
    print(f"hypertui: {message}", file=sys.stderr)
    return code


async def _dump(args: argparse.Namespace, settings) -> None:
    from hypertui.dump import Output, run_dump, run_history
    from hypertui.source import open_client, open_store, recording_client

    out = Output(args.format, crlf=args.crlf)
    if args.kind == "history":
        from hypertui.api.recording import Recording

        store = open_store(settings)
        try:
            await run_history(Recording(store), args, out)
        finally:
            store.close()
        return
    client = recording_client(settings, args.at) if args.at else open_client(settings)[0]
    async with client:
        await run_dump(client, args, out)


def _record(settings, every: float | None) -> int:
    """The config's `refresh` is the dashboard's: the recorder follows the data unless told here."""
    from hypertui.record import record
    from hypertui.source import open_client

    client, _ = open_client(settings)
    if client.store.path is None:
        reason = "the embedded simulator starts anew each run" if settings.uses_simulator else "the store is off"
        print(f"hypertui: warning: recording in memory ({reason}): nothing is kept after this run", file=sys.stderr)
    return asyncio.run(record(client, every))


def _serve_simulator(args: argparse.Namespace) -> int:
    from hypertui.sim.chaos import ChaosSpec
    from hypertui.sim.server import main_serve

    try:
        chaos = ChaosSpec.parse(args.chaos) if args.chaos else None
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    url = f"http://{args.host}:{args.port}/api/external"
    served = f"hypertui sim: serving the simulated HyperTracker API at {url} (seed {args.seed}, scale {args.scale})"
    print(served, file=sys.stderr)
    if chaos is not None:
        print(f"hypertui sim: chaos {chaos.describe()}", file=sys.stderr)
    print(f"hypertui sim: try  HYPERTRACKER_API_TOKEN=any hypertui --base-url {url}   (Ctrl+C stops)", file=sys.stderr)
    try:
        main_serve(
            host=args.host, port=args.port, seed=args.seed, scale=args.scale,
            update_interval=args.update_interval, token=args.token, chaos=chaos,
        )
    except OSError as exc:
        return _fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", EXIT_USAGE)
    return 0


def _serve_dashboard(args: argparse.Namespace, settings) -> int:
    from hypertui.serve import exposure_warning, new_secret, serve

    warning = exposure_warning(args.host, settings, secret=not args.no_auth)
    if warning:
        print(f"hypertui serve: warning: {warning}", file=sys.stderr)
    try:
        serve(settings, host=args.host, port=args.port, public_url=args.public_url, secret=None if args.no_auth else new_secret())
    except OSError as exc:
        return _fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", EXIT_USAGE)
    return 0


def _keys_reference() -> str:
    from hypertui.ui.app import HyperTuiApp
    from hypertui.ui.keymap import reference

    return reference(HyperTuiApp)


def _check_config(args: argparse.Namespace) -> int:
    from hypertui.ui.app import HyperTuiApp
    from hypertui.ui.prefs import check

    settings = _load_settings(args)
    facts, problems = check(settings, HyperTuiApp)
    # The app's own check of [[alerts]] (hypertui.monitor.alert_rules.parse_rules), one line per rule
    # with its number. Whether a cohort name is in the legend needs the API: the app says at start.
    facts.append(f"alert rules: {len(settings.alerts)} valid, {len(settings.alert_problems)} invalid")
    problems += settings.alert_problems
    print("\n".join(facts))
    for problem in problems:
        print(f"problem: {problem}")
    return EXIT_API_ERROR if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hypertui.api.errors import ApiError
    from hypertui.config import ConfigError, config_path, write_config_template

    try:
        if args.command == "config":
            path = config_path()
            if args.action == "path":
                print(path)
            elif args.action == "check":
                return _check_config(args)
            elif write_config_template(path, _keys_reference()):
                print(f"wrote {path}")
            else:
                return _fail(f"{path} already exists; not overwritten", EXIT_USAGE)
            return 0
        if args.command == "sim":
            return _serve_simulator(args)
        if args.command == "screenshots":
            from hypertui.ui.screenshots import render_screenshots

            for path in render_screenshots(args.directory):
                print(path)
            return 0
        settings = _load_settings(args)
        for warning in settings.warnings:
            print(f"hypertui: warning: {warning}", file=sys.stderr)
        if args.command == "dump":
            start, end = getattr(args, "start", None), getattr(args, "end", None)
            if start and end and start >= end:
                return _fail(f"--start ({start}) must be before --end ({end})", EXIT_USAGE)
            since, until = getattr(args, "since", None), getattr(args, "until", None)
            if since and until and since > until:
                return _fail(f"--since ({since:%Y-%m-%d %H:%M}) is after --until ({until:%Y-%m-%d %H:%M})", EXIT_USAGE)
            from hypertui.dump import RECORDED_KINDS

            if args.at and args.kind not in RECORDED_KINDS:
                return _fail(f"--at: {args.kind} is not recorded (only {', '.join(RECORDED_KINDS)})", EXIT_USAGE)
            asyncio.run(_dump(args, settings))
            return 0
        if args.command == "serve":
            return _serve_dashboard(args, settings)
        if args.command == "record":
            return _record(settings, getattr(args, "refresh", None))
        if args.command == "store":
            from hypertui.store_command import StoreUnusable, run_store

            try:
                print("\n".join(run_store(settings, args.action, args.keep_days)))
            except StoreUnusable as exc:
                return _fail(str(exc), EXIT_API_ERROR)
            return 0
        from hypertui.config import setup_logging

        # Start-up builds objects that live all session; the collector walked them over and over
        # (~0.1 s before data was on screen). The app turns it back on once data is drawn.
        gc.disable()
        from hypertui.launch import run_dashboard

        setup_logging()
        return run_dashboard(settings)
    except ConfigError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ApiError as exc:
        return _fail(str(exc), EXIT_API_ERROR)
    except BrokenPipeError:
        # Output piped into `head`: not an error. Point stdout at /dev/null so the final flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
