"""The web layer: blueprints that parse a request, call a service, and render. Nothing else."""

from __future__ import annotations

from flask import Flask

from actiontool.web.application import ActionToolFlask

__all__ = ["ActionToolFlask", "init_app"]


def init_app(app: Flask) -> None:
    """Register every blueprint and the error handlers."""
    from actiontool.web import (
        api,
        bots,
        embed,
        errors,
        i18n,
        limits,
        openapi,
        organizer,
        packets,
        public,
        security,
        site,
        words,
    )

    security.init_app(app)  # first: it checks the secret key before anything uses it
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    i18n.init_app(app)
    app.register_blueprint(public.bp)
    site.init_app(app)  # the organization behind the pages: header, footer, /privacy, the favicon
    bots.init_app(app)  # bot_guard() for the compose form: honeypot and fill time
    words.init_app(app)  # districts and places named in words
    organizer.init_app(app)  # the dashboard under /organizer, and Flask-Login
    app.register_blueprint(packets.bp)  # "Deliver to offices": office packets and reports, signed in
    app.register_blueprint(embed.bp)  # /embed/<slug>: the only pages partner sites may frame
    errors.init_app(app)
    limits.init_app(app)  # last: it attaches rate limits to the views registered above
