"""The app for gunicorn: `gunicorn --preload --workers N 'actiontool.wsgi:app'` (see docs/DEPLOY.md).

With --preload gunicorn imports this once, in its master process, and forks the workers from it: the
district dataset and its boundaries are loaded here, before the fork, so the workers share those pages
copy-on-write instead of each loading its own copy on its first request; so is the crawler list. The
database pool is emptied before the fork so that no two workers share a connection the master opened
(schema check at start).
"""

from __future__ import annotations

import gc

from actiontool import create_app, registry
from actiontool.web import funnel

app = create_app()
registry.dataset(app).load_boundaries()
# The crawler list every page view checks (web/funnel.py): loaded and compiled once here, shared by the
# workers, rather than once in each worker on its first page view.
funnel.is_crawler("actiontool-preload")
with app.app_context():
    from actiontool import db

    db.engine().dispose()
# Objects alive now are the loaded data: keep the collector from touching (and so copying) their pages.
gc.freeze()
