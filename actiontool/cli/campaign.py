"""`actiontool campaign list|check`: see the campaigns the app will load, and check a campaign file."""

from __future__ import annotations

from pathlib import Path

import click

from actiontool import config as settings
from actiontool.campaigns import Campaign, CampaignError, Problem, load_campaign
from actiontool.delivery.campaign_info import check_campaign
from actiontool.delivery.settings import from_config as delivery_settings
from actiontool.letters import sample_members
from actiontool.registry import campaigns_folder
from actiontool.resources import templates_dir


def _campaigns_dir() -> Path:
    """Return the folder the app reads campaigns from (ACTIONTOOL_CAMPAIGNS_DIR, else data/campaigns)."""
    return campaigns_folder(settings.from_environment())


def _summary(campaign: Campaign) -> str:
    channels = ", ".join(f"{c}: {campaign.channel_for(c)}" for c in ("house", "senate")
                         if campaign.targets_chamber(c))
    return (f"{campaign.slug}\t{campaign.status}\ttargets {campaign.targets}\t"
            f"languages {', '.join(campaign.languages)}\tgoal {campaign.goal}\t{channels}")


@click.group("campaign")
def campaign_group() -> None:
    """List and check campaign files."""


@campaign_group.command("list")
def list_campaigns() -> None:
    """List every campaign file with its status; exit 1 if any is invalid."""
    folder = _campaigns_dir()
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    if not paths:
        click.echo(f"no campaign files in {folder}", err=True)
    failed = False
    for path in paths:
        try:
            click.echo(_summary(load_campaign(path, templates_dir() / "messages")))
        except CampaignError as exc:
            failed = True
            click.echo(f"{path.stem}\tINVALID (run: actiontool campaign check {path})", err=False)
            for line in exc.lines():
                click.echo(f"  {line}", err=True)
    raise SystemExit(1 if failed else 0)


@campaign_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Validate FILE and render its letters for a sample member of every seat type; exit 0 or 1."""
    try:
        campaign = load_campaign(file, templates_dir() / "messages")
    except CampaignError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(1) from None
    # The campaign file is fine on its own; its delivery options are checked against this server's settings.
    errors, warnings = check_campaign(campaign, delivery_settings(settings.from_environment()))
    for line in CampaignError(str(file), [Problem(0, error) for error in errors]).lines():
        click.echo(line, err=True)  # the lines the app's start prints for this file
    for line in warnings:
        click.echo(f"{file}: warning: {line}", err=True)
    if errors:
        raise SystemExit(1)
    seats = ", ".join(dict.fromkeys(m.title for m in sample_members() if campaign.targets_chamber(m.chamber)))
    click.echo(f"{file}: OK: {_summary(campaign)}")
    click.echo(f"letters render in {', '.join(campaign.languages)} for: {seats}")


def register(group: click.Group) -> None:
    """Attach the command group to the actiontool group."""
    group.add_command(campaign_group)
