"""Organizer sign-in and sign-out, and the rule that every other organizer page needs a signed-in one."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length, Regexp

from actiontool import db
from actiontool.services import organizers
from actiontool.web.organizer.common import PostForm, bp, client_ip
from actiontool.web.organizer.words import organizer_error

PUBLIC_ENDPOINTS = frozenset({"organizer.login"})
# The organizer's session version when this session began (see models.Organizer.session_version).
SESSION_VERSION_KEY = "organizer_session_version"


class OrganizerUser(UserMixin):
    """The signed-in organizer as Flask-Login sees them."""

    def __init__(self, organizer_id: int, email: str) -> None:
        self.id = organizer_id
        self.email = email


class LoginForm(FlaskForm):
    """E-mail and password."""

    # Shape and length checked before any database work: 320 characters of anything were accepted.
    email = EmailField(lazy_gettext("E-mail"),
                       validators=[InputRequired(), Length(max=organizers.MAX_EMAIL_LENGTH),
                                   Regexp(organizers.EMAIL_SHAPE)])
    password = PasswordField(lazy_gettext("Password"), validators=[InputRequired(), Length(max=1000)])


def init_login(app: Flask) -> None:
    """Set up Flask-Login: sessions carry the organizer's id, checked against active accounts each request."""
    manager = LoginManager()
    manager.login_view = "organizer.login"
    manager.login_message = lazy_gettext("Please sign in to see the dashboard.")
    manager.session_protection = "strong"
    # Flask-Login's own identifier reads X-Forwarded-For from the client whatever TRUSTED_PROXIES says.
    manager._session_identifier_generator = session_identifier
    manager.init_app(app)

    @manager.user_loader
    def load_user(user_id: str) -> OrganizerUser | None:
        if not user_id.isdigit():
            return None
        organizer = organizers.active_organizer(db.get_session(), int(user_id))
        if organizer is None or session.get(SESSION_VERSION_KEY) != organizer.session_version:
            return None  # disabled, or this session (or a copy of it) was signed out
        return OrganizerUser(organizer.id, organizer.email)


def session_identifier() -> str:
    """Return what "strong" session protection ties a session to: the client's address and browser.

    The address is request.remote_addr, which is the proxy-reported one only when TRUSTED_PROXIES
    is set (web/security.py applies ProxyFix then); a client's own X-Forwarded-For is never read.
    """
    base = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha512(base.encode("utf-8")).hexdigest()


@bp.before_request
def require_sign_in() -> Any:
    """Send anyone not signed in to the sign-in form (API-style 401 for non-GET requests)."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.method != "GET":
        abort(401)
    return redirect(url_for("organizer.login", next=request.full_path if request.args else request.path))


def _safe_next(target: str | None) -> str:
    """Return a same-site path under /organizer to go to after sign-in, never another site."""
    if target and target.startswith("/organizer") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("organizer.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Show the sign-in form; sign in on POST (throttled per account and per address)."""
    form = LoginForm()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                organizer = organizers.authenticate(db.get_session(), form.email.data or "",
                                                    form.password.data or "", ip=client_ip())
            except organizers.Throttled as exc:
                error, status = organizer_error(exc), 429
            except organizers.SignInFailed as exc:
                error, status = organizer_error(exc), 401
            else:
                login_user(OrganizerUser(organizer.id, organizer.email))
                session[SESSION_VERSION_KEY] = organizer.session_version
                return redirect(_safe_next(request.args.get("next")))
        else:
            error, status = gettext("Enter your e-mail and password."), 400
    return render_template("organizer/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    """Sign out, here and in every copy of this session (the organizer's session version goes up)."""
    if PostForm().validate_on_submit():
        organizers.sign_out(db.get_session(), current_user.email, ip=client_ip())
        logout_user()
        session.pop(SESSION_VERSION_KEY, None)
    return redirect(url_for("organizer.login"))
