"""Who stands behind the site: the organization's name, web site, contact and privacy policy (settings),
shown in every page's header and footer and on /privacy. With nothing set the pages say "this site"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, render_template

from actiontool.config import ConfigError

bp = Blueprint("site", __name__)


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


@dataclass(frozen=True, slots=True)
class Site:
    """The site's identity as configured; every field may be missing."""

    name: str | None = None
    url: str | None = None
    contact: str | None = None  # an e-mail address or a URL
    privacy_url: str | None = None
    privacy_text: tuple[str, ...] = ()  # the organization's own policy, as paragraphs
    retention_days: int = 30

    @property
    def contact_href(self) -> str | None:
        """Return the contact as a link target: the URL, or a mailto: for an address."""
        if not self.contact:
            return None
        return self.contact if _is_url(self.contact) else f"mailto:{self.contact}"


def _text(config: Any, name: str) -> str | None:
    value = config.get(name)
    return str(value).strip() or None if value is not None else None


def from_config(config: Any) -> Site:
    """Return the site's identity from the settings, or raise ConfigError for a URL that is not one."""
    url = _text(config, "ORGANIZATION_URL")
    if url is not None and not _is_url(url):
        raise ConfigError(f"ACTIONTOOL_ORGANIZATION_URL={url!r} must start with https:// or http://")
    contact = _text(config, "CONTACT")
    if contact is not None and not _is_url(contact) and "@" not in contact:
        raise ConfigError(f"ACTIONTOOL_CONTACT={contact!r} must be an e-mail address or an https:// URL")
    policy = _text(config, "PRIVACY_POLICY")
    privacy_url = policy if policy is not None and _is_url(policy) else None
    paragraphs: tuple[str, ...] = ()
    if policy is not None and privacy_url is None:
        text = policy.replace("\r\n", "\n").replace("\\n", "\n")  # one-line env files write "\n"
        paragraphs = tuple(p.strip() for p in text.split("\n\n") if p.strip())
    return Site(name=_text(config, "ORGANIZATION"), url=url, contact=contact, privacy_url=privacy_url,
                privacy_text=paragraphs, retention_days=int(config.get("RETENTION_DAYS") or 30))


def current_site() -> Site:
    """Return the site's identity (read per request: tests change the config)."""
    return from_config(current_app.config)


@bp.get("/privacy")
def privacy() -> str:
    """Say what this tool stores, for how long, and who receives the letter (or the organization's text)."""
    # The geocoder is the one outside service a constituent's detail goes to: say so where the page
    # promises that nothing is shared.
    return render_template("pages/privacy.html", geocoder_on=current_app.config.get("GEOCODER") == "census")


@bp.get("/favicon.ico")
def favicon() -> Any:
    """Answer the browsers that ask for /favicon.ico whatever the page says, with the icon."""
    return current_app.send_static_file("favicon.svg")


def init_app(app: Flask) -> None:
    """Check the settings at start, register /privacy and give every template `site`."""
    from_config(app.config)  # a wrong URL stops the start, not a page view
    app.register_blueprint(bp)

    @app.context_processor
    def site_context() -> dict[str, object]:
        return {"site": current_site()}
