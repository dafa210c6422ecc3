from hypertui.ui.screenshots import STATES, render_screenshots


def test_render_screenshots_writes_one_svg_per_state(tmp_path):

    paths = render_screenshots(tmp_path / "shots", scale="small")
    assert [p.stem for p in paths] == list(STATES)
    for p in paths:
        text = p.read_text()
        assert text.startswith("<svg") and "SIMULATOR" in text.replace("&#160;", " ")
    assert "STALE" in (tmp_path / "shots" / "dashboard-stale.svg").read_text().replace("&#160;", " ")
