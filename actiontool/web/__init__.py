"""The web layer: blueprints that parse a request, call a service, and render. Nothing else."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every blueprint and the error handlers."""
    from actiontool.web import api, campaigns, errors, i18n, limits, openapi, public, security

    security.init_app(app)  # first: it checks the secret key before anything uses it
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    i18n.init_app(app)
    campaigns.init_app(app)  # loads and render-checks every campaign file: a broken one stops the start
    app.register_blueprint(public.bp)
    errors.init_app(app)
    limits.init_app(app)  # last: it attaches rate limits to the views registered above
