"""`actiontool cwc validate --campaign SLUG`: send a sample document to CWC's /v2/validate."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("cwc")
def cwc() -> None:
    """The House's Communicating with Congress channel."""


@cwc.command("validate")
@click.option("--campaign", "slug", required=True, help="The campaign whose topics and bill to use.")
@click.option("--office", default="HCA13", show_default=True, help="The MemberOffice code to address.")
@with_appcontext
def validate(slug: str, office: str) -> None:
    """Build a sample message for the campaign and ask CWC whether it is valid (nothing is delivered)."""
    import re

    from flask import current_app

    from actiontool.campaigns import UnknownCampaign
    from actiontool.delivery.campaign_info import campaign_info
    from actiontool.delivery.cwc import build_document, post_document
    from actiontool.delivery.errors import DeliveryFailure, DeliveryOptionsError
    from actiontool.delivery.job import DeliveryJob, Sender
    from actiontool.delivery.settings import from_config
    from actiontool.models import new_message_id, utcnow
    from actiontool.registry import get_campaign

    settings = from_config(current_app.config).cwc
    if not settings.configured:
        raise click.UsageError("CWC is not configured: " + "; ".join(settings.problems()))
    match = re.fullmatch(r"H([A-Z]{2})(\d{2})", office)
    if not match:
        raise click.BadParameter("expected H + state + two digits, e.g. HCA13", param_hint="--office")
    try:
        info = campaign_info(get_campaign(slug))
    except UnknownCampaign:
        raise click.BadParameter(f"no campaign {slug!r}", param_hint="--campaign") from None
    except DeliveryOptionsError as exc:
        raise click.UsageError(str(exc)) from None
    state, district = match.group(1), int(match.group(2))
    job = DeliveryJob(
        message_id=new_message_id(), attempt=1, channel="cwc", chamber="house", bioguide="X000000",
        member_name="Sample Member", member_title="Representative", state=state, district=district,
        subject=f"Validation sample: {info.title}"[:300],
        suggested_text="Dear Representative,\n\nThis is a validation sample; it is not delivered.",
        constituent_text="These are the constituent's own words (sample).", edited=False, lang="en",
        sender=Sender(prefix="Ms.", first_name="Sam", last_name="Sample", email="sam.sample@example.org",
                      address1="1 Sample Street", city="Sample City", state=state, zip="00000",
                      phone="202-555-0100"),
        campaign=info,
    )
    try:
        document = build_document(job, settings, utcnow().date())
        answer = post_document(document, str(settings.base_url), str(settings.api_key), settings.timeout,
                               path="/v2/validate", secrets=tuple(settings.secrets()))
    except DeliveryFailure as failure:
        click.echo(f"not valid: {failure.reason}", err=True)
        raise SystemExit(1) from None
    click.echo(f"valid: CWC accepted the sample for {office} (campaign {slug})")
    if answer.strip():
        click.echo(answer.strip()[:500])


def register(group: click.Group) -> None:
    """Attach the commands to the actiontool group."""
    group.add_command(cwc)
