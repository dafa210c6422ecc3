"""The first screen's requests (monitor.first_requests plans them, api.prefetch sends them): sent at
once, the cohort's after the legend, each answer taken once."""

from __future__ import annotations

import asyncio
import gc
from functools import partial
from typing import Any

import pytest

from hypertui.api.errors import AuthError, NetworkError
from hypertui.api.models import ordered_by_range
from hypertui.api.prefetch import Prefetch
from hypertui.api.requests import Request, send
from hypertui.monitor import plan
from hypertui.monitor.first_requests import FirstScreen
from hypertui.monitor.plan import PANELS, SUMMARY
from hypertui.source import simulator_client


class Recorder:
    """The simulator's client, recording each call; the legend waits for `legend_due`."""

    def __init__(self, clock: Any, legend: Exception | list | None = None) -> None:
        self._inner = simulator_client(seed=7, scale="small", clock=clock)
        self.calls: list[tuple[str, tuple]] = []
        self.legend_due = asyncio.Event()
        self._legend = legend

    async def segments(self) -> Any:
        self.calls.append(("segments", ()))
        await self.legend_due.wait()
        if isinstance(self._legend, Exception):
            raise self._legend
        return await self._inner.segments() if self._legend is None else self._legend

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args + tuple(kwargs.values())))
            return await method(*args, **kwargs)

        return call


async def test_the_heatmap_leaves_with_the_legend_and_the_first_cohorts_panels_follow_it(clock):
    client = Recorder(clock)
    first = Prefetch(client, FirstScreen(PANELS))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert client.calls == [("segments", ()), ("heatmap", ("all",))]  # the heatmap needs no cohort
    client.legend_due.set()
    legend = await first.legend
    shrimp = ordered_by_range(legend, "size")[0].id  # the cohort the dashboard opens on
    await asyncio.sleep(0)
    assert sorted(client.calls[2:]) == [("liquidation_risk", (shrimp, 0, plan.RISK_PAGE)), ("summary", (shrimp, "all"))]
    summary = first.take(Request("summary", (shrimp, "all")))
    assert summary is not None and (await summary).segment.id == shrimp
    assert first.take(Request("summary", (shrimp, "all"))) is None  # once: the next cycle asks again
    assert (await first.take(Request("heatmap", ("all",)))).heatmap  # type: ignore[union-attr]
    first.drop_rest()
    await client._inner.aclose()


async def test_a_narrow_screen_asks_for_the_summary_and_the_heatmap_the_list_reads(clock):
    client = Recorder(clock)
    client.legend_due.set()
    first = Prefetch(client, FirstScreen(frozenset({SUMMARY})))  # type: ignore[arg-type]
    await first.legend
    await asyncio.sleep(0)
    assert [name for name, _ in client.calls] == ["segments", "heatmap", "summary"]
    first.drop_rest()
    await client._inner.aclose()


@pytest.mark.parametrize("legend", [AuthError("/segments", "token rejected (401)"), []], ids=["failed", "empty"])
async def test_without_a_first_cohort_nothing_follows_the_legend_and_the_rest_is_dropped(clock, legend):
    client = Recorder(clock, legend)
    client.legend_due.set()
    first = Prefetch(client, FirstScreen(PANELS))  # type: ignore[arg-type]
    await asyncio.gather(first.legend, return_exceptions=True)
    await asyncio.sleep(0)
    assert [name for name, _ in client.calls] == ["segments", "heatmap"]
    heatmap = first._sent[Request("heatmap", ("all",))]
    first.drop_rest()
    await asyncio.sleep(0)
    assert heatmap.done() and first.take(Request("heatmap", ("all",))) is None
    await client._inner.aclose()



async def test_answers_dropped_untaken_are_not_reported_as_lost_errors(clock):
    """The app closing before its first cycle drops them: no 'exception was never retrieved'."""
    reported = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context["message"]))
    client = Recorder(clock)
    client.heatmap = partial(_fail, NetworkError("/positions/heatmap", "cannot connect"))  # type: ignore[method-assign]
    first = Prefetch(client, FirstScreen(PANELS))  # type: ignore[arg-type]
    await asyncio.wait([first._sent[Request("heatmap", ("all",))]])
    first.drop_rest()
    del first
    gc.collect()
    assert reported == []
    await client._inner.aclose()


async def _fail(error: Exception, *args: Any) -> Any:
    raise error


async def test_send_calls_the_client_method_each_kind_names(clock):
    client = Recorder(clock)
    for request in [
        Request("state_status"),
        Request("summary", (3, "7d")),
        Request("liquidation_risk", (3, 100, 50)),
        Request("heatmap", ("24h",)),
    ]:
        await send(client, request)  # type: ignore[arg-type]
    assert client.calls == [
        ("state_status", ()),
        ("summary", (3, "7d")),
        ("liquidation_risk", (3, 100, 50)),  # offset and limit by name, as the client wants them
        ("heatmap", ("24h",)),
    ]
    await client._inner.aclose()


def test_a_request_of_no_known_kind_is_refused_when_made_not_when_sent():
    with pytest.raises(ValueError, match="no such request kind: 'segment_summary'"):
        Request("segment_summary", (3, "all"))  # type: ignore[arg-type]
