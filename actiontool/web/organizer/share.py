"""Getting a campaign started: its public link, the embed code for partner sites, a QR code for flyers."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, request, url_for
from markupsafe import Markup, escape

from actiontool.web.organizer.common import bp, campaign_or_404, campaign_title
from actiontool.web.security import public_origin

# As the README's embed example: wide enough for the counter and its button.
EMBED_WIDTH, EMBED_HEIGHT = 320, 170


def site_origin() -> str:
    """Return the site's public origin: BASE_URL (or a checked host), else the address the organizer used."""
    return public_origin() or request.host_url.rstrip("/")


def campaign_link(slug: str) -> str:
    """Return the campaign page's full address, to share or print."""
    return site_origin() + url_for("public.campaign", slug=slug)


def embed_code(slug: str, title: str) -> str:
    """Return the iframe a partner site pastes to show the counter and the button."""
    src = site_origin() + url_for("embed.embed_counter", slug=slug)
    code = Markup('<iframe src="{src}" title="{title}" width="{w}" height="{h}" style="border:0"></iframe>')
    return str(code.format(src=src, title=title, w=EMBED_WIDTH, h=EMBED_HEIGHT))


def qr_svg(link: str, title: str) -> bytes:
    """Return a QR code of `link` as an SVG document (error correction M survives a smudged flyer)."""
    import segno  # here, not at the top: 10 MB and a third of a second every web worker would pay at start

    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=8, border=4, title=title)
    return out.getvalue()


def share_context(slug: str, campaign: Any) -> dict[str, Any]:
    """Return what the dashboard's getting-started block shows."""
    title = campaign_title(campaign, slug)
    return {"link": campaign_link(slug), "embed": embed_code(slug, title),
            "qr_url": url_for("organizer.campaign_qr", slug=slug)}


@bp.get("/c/<slug>/qr.svg")
def campaign_qr(slug: str) -> Response:
    """Return the QR code of the campaign's link as SVG (as a download with ?download=1)."""
    campaign = campaign_or_404(slug)
    link = campaign_link(slug)
    response = Response(qr_svg(link, str(escape(campaign_title(campaign, slug)))), mimetype="image/svg+xml")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{slug}-qr.svg"'
    return response
