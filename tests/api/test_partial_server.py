"""The client against a server that has only what the public docs list (tests/conftest.py docs_only):
what it lacks is fallen back from and marked, never passed off as what was asked for."""

import pytest

from hypertui.api.errors import NotFoundError
from hypertui.source import simulator_client

START = "2026-11-19T12:00:00.000Z"  # a day before the frozen clock


async def _coin(client) -> str:
    return (await client.heatmap()).heatmap[0].coin


@pytest.mark.parametrize("method", ["position_breakdown", "segment_metrics"])
async def test_a_missing_age_variant_falls_back_to_the_export_marked_unfiltered(docs_only_client, method):
    async with docs_only_client() as client:
        coin = await _coin(client)
        everything = await getattr(client, method)(coin)
        asked = client.requests_made
        answer = await getattr(client, method)(coin, "24h")
        assert answer.unfiltered and answer.data == everything.data and not everything.unfiltered
        assert client.requests_made - asked == 3  # the variant (404), then the export: redirect and file
        asked = client.requests_made
        assert (await getattr(client, method)(coin, "24h")).unfiltered
        assert client.requests_made - asked == 2  # the variant is not asked for again
        with pytest.raises(NotFoundError):  # an unknown coin is still an error, not an empty fallback
            await getattr(client, method)("NOSUCHCOIN", "7d")


async def test_the_simulator_has_the_age_variants(clock):
    async with simulator_client(scale="small", clock=clock) as client:
        coin = await _coin(client)
        answer = await client.segment_metrics(coin, "24h")
        assert not answer.unfiltered and answer.data != (await client.segment_metrics(coin)).data


async def test_an_ignored_opened_within_is_found_once_and_said(docs_only_client):
    async with docs_only_client() as client:
        everything = await client.heatmap()
        asked = client.requests_made
        answer = await client.heatmap("24h")
        assert answer.unfiltered and answer.heatmap == everything.heatmap
        assert client.requests_made - asked == 2  # the filtered answer and the unfiltered one to compare
        asked = client.requests_made
        assert (await client.heatmap("7d")).unfiltered
        assert client.requests_made - asked == 1  # known now: the unfiltered one alone


async def test_an_applied_opened_within_costs_one_request_more_once(clock):
    async with simulator_client(scale="small", clock=clock) as client:
        everything = await client.heatmap()
        answer = await client.heatmap("24h")
        assert not answer.unfiltered and answer.heatmap != everything.heatmap
        asked = client.requests_made
        assert not (await client.heatmap("7d")).unfiltered
        assert client.requests_made - asked == 1


async def test_an_ignored_position_recency_is_found_and_said_on_every_page(docs_only_client):
    async with docs_only_client() as client:
        coin = await _coin(client)
        everything = [p async for p in client.iter_position_metrics(coin, 1, start=START, page_size=10)]
        pages = [p async for p in client.iter_position_metrics(coin, 1, start=START, page_size=10, recency="24h")]
        assert len(pages) == len(everything) > 1 and all(p.unfiltered for p in pages)
        assert [m for p in pages for m in p.metrics] == [m for p in everything for m in p.metrics]


async def test_an_applied_position_recency_is_not_marked(clock):
    async with simulator_client(scale="small", clock=clock) as client:
        coin = await _coin(client)
        pages = [p async for p in client.iter_position_metrics(coin, 1, start=START, page_size=10, recency="24h")]
        assert pages and not any(p.unfiltered for p in pages)


async def test_empty_answers_leave_an_undocumented_filter_undecided(docs_only_client):
    async with docs_only_client() as client:
        page = await client.position_metrics("NOSUCHCOIN", 1, start=START, recency="24h")
        assert page.metrics == [] and not page.unfiltered  # empty both ways: nothing to tell by
        assert (await client.position_metrics(await _coin(client), 1, start=START, recency="24h")).unfiltered
