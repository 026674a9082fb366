"""actiontool: a self-hosted legislative action tool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then ACTIONTOOL_* environment variables, then `config` (for tests)."""
    # Flask is imported here, not at the top: the pure core (`actiontool.districts`, ...) lives in this
    # package, and importing it must not load the web framework (`actiontool lookup` starts without it).
    from actiontool import config as settings
    from actiontool.resources import templates_dir
    from actiontool.web import ActionToolFlask

    app = ActionToolFlask(__name__, template_folder=str(templates_dir()), instance_relative_config=True)
    app.config.from_mapping(settings.from_environment())
    if config is not None:
        app.config.from_mapping(config)

    from actiontool import db, registry, web

    db.init_app(app)
    registry.init_app(app)  # loads and render-checks every campaign file: a broken one stops the start
    web.init_app(app)
    return app
