"""The app's campaigns: loaded from their files once at start, then read by views through `get_campaign`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from jinja2.sandbox import SandboxedEnvironment

from actiontool.campaigns import Campaign, UnknownCampaign, load_campaigns
from actiontool.letters import make_environment
from actiontool.resources import data_dir, templates_dir

_EXTENSION = "actiontool.campaigns"


def campaigns_dir(app: Flask) -> Path:
    """Return the folder the app reads campaign files from (CAMPAIGNS_DIR, else data/campaigns)."""
    configured = app.config.get("CAMPAIGNS_DIR")
    return Path(configured) if configured else data_dir() / "campaigns"


def init_app(app: Flask) -> None:
    """Load and check every campaign file; a file that fails to validate or render stops the start."""
    messages = templates_dir() / "messages"
    app.extensions[_EXTENSION] = load_campaigns(campaigns_dir(app), messages)
    app.extensions[_EXTENSION + ".letters"] = make_environment(messages)


def letter_environment(app: Flask | None = None) -> SandboxedEnvironment:
    """Return the sandboxed environment that renders campaign letters."""
    return (app or current_app).extensions[_EXTENSION + ".letters"]


def all_campaigns(app: Flask | None = None) -> dict[str, Campaign]:
    """Return every loaded campaign (draft, live and closed), keyed by slug."""
    return (app or current_app).extensions[_EXTENSION]


def live_campaigns(app: Flask | None = None) -> list[Campaign]:
    """Return the live campaigns, in slug order."""
    return [c for c in all_campaigns(app).values() if c.status == "live"]


def get_campaign(slug: str, app: Flask | None = None) -> Campaign:
    """Return the campaign with this slug, or raise UnknownCampaign."""
    try:
        return all_campaigns(app)[slug]
    except KeyError:
        raise UnknownCampaign(slug) from None
