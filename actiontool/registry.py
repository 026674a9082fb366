"""App-wide objects loaded once per app: the campaigns (with their file digests), the district dataset and
the letter environment. Web views, the delivery worker and CLI commands all read them from here.

They live in the Flask app's `extensions`, so two apps in one process (tests, the worker) keep their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from jinja2.sandbox import SandboxedEnvironment

from actiontool.campaigns import Campaign, CampaignError, Problem, UnknownCampaign, load_campaigns
from actiontool.config import ConfigError
from actiontool.districts import Dataset, bundled, load
from actiontool.letters import make_environment
from actiontool.resources import data_dir, templates_dir
from actiontool.timezones import DEFAULT_TIME_ZONE, is_time_zone

_CAMPAIGNS = "actiontool.campaigns"
_DIGESTS = "actiontool.campaigns.digests"
_LETTERS = "actiontool.campaigns.letters"
_DATASET = "actiontool.dataset"


def campaigns_folder(config: Mapping[str, Any]) -> Path:
    """Return the folder campaign files are read from (CAMPAIGNS_DIR, else data/campaigns)."""
    configured = config.get("CAMPAIGNS_DIR")
    return Path(configured) if configured else data_dir() / "campaigns"


def campaigns_dir(app: Flask) -> Path:
    """Return the folder the app reads campaign files from."""
    return campaigns_folder(app.config)


def init_app(app: Flask) -> None:
    """Load and check every campaign file (a file that fails to validate or render stops the start).

    Also reloads: calling it again replaces the app's campaigns, digests and letter environment.
    """
    site_zone = app.config.get("TIME_ZONE") or DEFAULT_TIME_ZONE
    if not is_time_zone(site_zone):
        raise ConfigError(f"ACTIONTOOL_TIME_ZONE={site_zone!r} is not a time zone name such as "
                          "America/Chicago")
    messages = templates_dir() / "messages"
    campaigns = load_campaigns(campaigns_dir(app), messages)
    check_delivery(app, campaigns)
    app.extensions[_CAMPAIGNS] = campaigns
    app.extensions[_DIGESTS] = file_digests(campaigns)
    app.extensions[_LETTERS] = make_environment(messages)


def check_delivery(app: Flask, campaigns: Mapping[str, Campaign]) -> None:
    """Raise CampaignError when `actiontool campaign check` would reject a campaign's delivery options.

    Without this a campaign with a broken `to` address started, and its letters sat queued ("campaign
    cannot be used for delivery") until they failed. The lines are the check's own `file: message` lines.
    """
    from actiontool.delivery.campaign_info import check_campaign
    from actiontool.delivery.settings import from_config

    settings = from_config(app.config)
    for slug in sorted(campaigns):  # the first broken file stops the start, as load_campaigns does
        errors, _warnings = check_campaign(campaigns[slug], settings)
        if errors:
            raise CampaignError(campaigns[slug].path, [Problem(0, error) for error in errors])


def file_digests(campaigns: Mapping[str, Campaign]) -> dict[str, str]:
    """Return the SHA-256 of each campaign's file by slug (campaigns without a readable file are left out)."""
    digests = {}
    for slug, campaign in campaigns.items():
        path = Path(campaign.path) if campaign.path else None
        if path is not None and path.is_file():
            digests[slug] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _app(app: Flask | None) -> Flask:
    return app or current_app._get_current_object()  # type: ignore[attr-defined]


def letter_environment(app: Flask | None = None) -> SandboxedEnvironment:
    """Return the sandboxed environment that renders campaign letters."""
    return _app(app).extensions[_LETTERS]


def all_campaigns(app: Flask | None = None) -> dict[str, Campaign]:
    """Return every loaded campaign (draft, live and closed), keyed by slug."""
    return _app(app).extensions[_CAMPAIGNS]


def campaign_digests(app: Flask | None = None) -> dict[str, str]:
    """Return the campaign file digests taken when the campaigns loaded, by slug."""
    return _app(app).extensions[_DIGESTS]


def live_campaigns(app: Flask | None = None) -> list[Campaign]:
    """Return the live campaigns, in slug order."""
    return [c for c in all_campaigns(app).values() if c.status == "live"]


def get_campaign(slug: str, app: Flask | None = None) -> Campaign:
    """Return the campaign with this slug, or raise UnknownCampaign."""
    try:
        return all_campaigns(app)[slug]
    except KeyError:
        raise UnknownCampaign(slug) from None


def time_zone_of(slug: str, app: Flask | None = None) -> str:
    """Return the time zone a campaign's days and hours are counted in: its own, else the site's."""
    target = _app(app)
    campaign = all_campaigns(target).get(slug)
    own = getattr(campaign, "time_zone", None)
    return str(own or target.config.get("TIME_ZONE") or DEFAULT_TIME_ZONE)


def dataset(app: Flask | None = None) -> Dataset:
    """Return the app's dataset: config DATA_DIR when set, else the bundled data; loaded on first use."""
    target = _app(app)
    loaded = target.extensions.get(_DATASET)
    if loaded is None:
        folder = target.config.get("DATA_DIR")
        loaded = load(Path(folder)) if folder else bundled()
        target.extensions[_DATASET] = loaded
    return loaded
