from hypertui.ui.screenshots import STATES, render_screenshots


def test_render_screenshots_writes_one_svg_per_state(tmp_path):
    paths = render_screenshots(tmp_path / "shots", scale="small")
    assert [p.stem for p in paths] == list(STATES)
    text = {p.stem: p.read_text().replace("&#160;", " ") for p in paths}
    assert all(t.startswith("<svg") for t in text.values())
    assert all("SIMULATOR" in t for name, t in text.items() if name.startswith("dashboard"))
    assert "STALE" in text["dashboard-stale"]
    assert "history" in text["history-160x45"] and "Perp bias" in text["history-160x45"]
    assert "positions" in text["positions-160x45"] and "loaded" in text["positions-160x45"]
