"""The dashboard and the screens it opens."""


def import_drill_downs() -> None:
    """The screens the dashboard opens. The app imports them after its first data is drawn (the
    first frame does not wait for them, nor a first drill-down's keypress); the keymap check
    needs their keys before that."""
    from hypertui.ui.screens import alerts, bias, coin, help, history, positions  # noqa: F401 - loaded, not used here
