"""The least a Textual + httpx + pydantic app does to show data: the cold-start reference.

    python benchmarks/minimal_app.py http://127.0.0.1:8787/api/external

One request (the heatmap), one pydantic model, one DataTable, a footer; "Cohorts" on its
first frame and "updated HH:MM:SS" once the rows are in, what `run.py` waits for in hypertui.
What it costs above the bare import floor is the framework's own price for a first frame
and a first answer drawn, before any of hypertui's work. Not part of the test suite.
"""

import sys
import time

import httpx
from pydantic import BaseModel
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static


class Cell(BaseModel):
    coin: str
    totalValue: float  # noqa: N815 - the API's name
    count: int


class Heat(BaseModel):
    heatmap: list[Cell]


class Minimal(App):
    CSS = "DataTable { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Static("Cohorts")
        yield DataTable()
        yield Static(id="status")
        yield Footer()

    def on_ready(self) -> None:
        self.run_worker(self.load())

    async def load(self) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.get(
                f"{sys.argv[1]}/positions/heatmap", params={"openedWithin": "all"}, headers={"Authorization": "Bearer benchmark"}
            )
        table = self.query_one(DataTable)
        table.add_columns("coin", "value", "count")
        for cell in Heat.model_validate_json(response.content).heatmap:
            table.add_row(cell.coin, f"{cell.totalValue:,.0f}", str(cell.count))
        self.query_one("#status", Static).update(f"updated {time.strftime('%H:%M:%S', time.gmtime())} UTC")


if __name__ == "__main__":
    Minimal().run()
