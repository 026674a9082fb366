"""Campaign letters: a sandboxed rendering of a campaign's suggested text for one member.

Pure: no Flask, no database. A letter is made of parts the code writes (the salutation that follows the
seat, the closing and the constituent's signature) around the organisation's suggested text (a template
under templates/messages/). The constituent's own words are a separate field and never mixed into the
suggested text, because official channels (CWC) must tell the two apart.

Stored on each Message:
- `suggested_text`: salutation, suggested body, closing and signature, as sent to that member;
- `constituent_text`: only the constituent's own words (or None);
- `edited`: whether the constituent changed the suggested body.
`full_text(suggested_text, constituent_text)` rebuilds the letter a person reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from actiontool.districts.model import Member

# Salutations by seat, language and the member's recorded gender ("F", "M"; None: unknown). Spanish
# greets by gender ("Estimada senadora"); only where the data does not record it, an inclusive form.
_SALUTATIONS: dict[str, dict[str | None, dict[str, str]]] = {
    "en": {None: {
        "Senator": "Dear Senator {name},",
        "Representative": "Dear Representative {name},",
        "Delegate": "Dear Delegate {name},",
        "Resident Commissioner": "Dear Resident Commissioner {name},",
    }},
    "es": {
        "F": {
            "Senator": "Estimada senadora {name}:",
            "Representative": "Estimada representante {name}:",
            "Delegate": "Estimada delegada {name}:",
            "Resident Commissioner": "Estimada comisionada residente {name}:",
        },
        "M": {
            "Senator": "Estimado senador {name}:",
            "Representative": "Estimado representante {name}:",
            "Delegate": "Estimado delegado {name}:",
            "Resident Commissioner": "Estimado comisionado residente {name}:",
        },
        None: {
            "Senator": "Estimado/a senador/a {name}:",
            "Representative": "Estimado/a representante {name}:",
            "Delegate": "Estimado/a delegado/a {name}:",
            "Resident Commissioner": "Estimado/a comisionado/a residente {name}:",
        },
    },
}
# Seats whose holder votes on the floor. Delegates and the Resident Commissioner do not, so a letter asks
# them to support and co-sponsor rather than to vote; they never share a letter with a voting member
# (their places have no senators), so one editable text still fits everyone a constituent writes to.
VOTING_TITLES: frozenset[str] = frozenset({"Senator", "Representative"})
_CLOSINGS: dict[str, str] = {"en": "Sincerely,", "es": "Atentamente,"}
# The languages of the tool (letters, pages and receipt e-mails), each named in itself. A new one needs
# salutations and a closing above and a catalogue in actiontool/translations/.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "es": "Español"}
LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_NAMES)
# The longest suggested body a template may render. A letter is read by a person; a template that
# renders more (`'a' * 10**7`) is a mistake or an attack on memory, refused at campaign check.
MAX_LETTER_CHARS = 20_000


class LetterError(ValueError):
    """A campaign letter template cannot be rendered (syntax, unknown variable, sandbox violation)."""


@dataclass(frozen=True, slots=True)
class Constituent:
    """What a letter may say about its sender."""

    first_name: str
    last_name: str
    city: str
    state: str
    prefix: str = ""

    @property
    def name(self) -> str:
        """Return "First Last"."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class Letter:
    """One member's letter: the code's parts around the organisation's suggested body."""

    lang: str
    subject: str
    salutation: str
    body: str  # the organisation's suggested text, or the constituent's edit of it
    closing: str
    signature: str
    edited: bool = False

    @property
    def suggested_text(self) -> str:
        """Return the letter without the constituent's own words: what Message.suggested_text stores."""
        return "\n\n".join([self.salutation, self.body, f"{self.closing}\n{self.signature}"])

    def text(self, constituent_text: str | None = None) -> str:
        """Return the whole letter as a person reads it, with the constituent's words after the salutation."""
        return full_text(self.suggested_text, constituent_text)


def full_text(suggested_text: str, constituent_text: str | None) -> str:
    """Return the letter a person reads: the constituent's words go right after the salutation line."""
    if not constituent_text or not constituent_text.strip():
        return suggested_text
    salutation, _, rest = suggested_text.partition("\n\n")
    return f"{salutation}\n\n{constituent_text.strip()}\n\n{rest}" if rest else (
        f"{salutation}\n\n{constituent_text.strip()}")


def salutation(member: Member, lang: str = "en") -> str:
    """Return "Dear Senator Baldwin," (or its Spanish form, by the member's gender) for the member's seat."""
    by_gender = _SALUTATIONS.get(lang, _SALUTATIONS["en"])
    forms = by_gender.get(member.gender) or by_gender[None]
    return forms[member.title].format(name=member.last_name)


def signature(constituent: Constituent) -> str:
    """Return the constituent's sign-off: name, then city and state."""
    place = ", ".join(part for part in (constituent.city, constituent.state) if part)
    return f"{constituent.name}\n{place}" if place else constituent.name


def normalize_text(text: str) -> str:
    """Return `text` with line endings unified and trailing space trimmed, for comparing edits."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


class _LetterSandbox(SandboxedEnvironment):
    """The sandbox with `*` and `**` checked, so that a template cannot build a huge value in one step."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Refuse a repeated text or list longer than a letter, or a power with a huge exponent."""
        from jinja2.exceptions import SecurityError

        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError(f"a power of {right} is too large for a letter")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) \
                        and len(seq) * times > MAX_LETTER_CHARS:
                    raise SecurityError(f"the text would be longer than {MAX_LETTER_CHARS} characters")
        return super().call_binop(context, operator, left, right)


def make_environment(messages_dir: Path | str) -> SandboxedEnvironment:
    """Return the sandboxed Jinja2 environment for campaign letters under `messages_dir`."""
    return _LetterSandbox(
        loader=FileSystemLoader(str(messages_dir)),
        undefined=StrictUndefined,
        autoescape=False,  # plain-text letters; the web pages escape them when they show them
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _member_vars(member: Member) -> dict[str, Any]:
    """Return the member as plain data: a template sees values, never Python objects."""
    return {
        "title": member.title,
        "name": member.name,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "party": member.party,
        "state": member.state,
        "district": member.district,
        "label": member.label,
        "chamber": member.chamber,
        "votes": member.title in VOTING_TITLES,  # False: a Delegate or the Resident Commissioner
    }


def _constituent_vars(constituent: Constituent) -> dict[str, Any]:
    return {
        "first_name": constituent.first_name,
        "last_name": constituent.last_name,
        "name": constituent.name,
        "city": constituent.city,
        "state": constituent.state,
    }


def render_body(env: SandboxedEnvironment, template_name: str, *, member: Member,
                constituent: Constituent, campaign: Mapping[str, Any]) -> str:
    """Render the organisation's suggested text for one member, or raise LetterError."""
    context = {
        "member": _member_vars(member),
        "constituent": _constituent_vars(constituent),
        "campaign": dict(campaign),
    }
    try:
        text = _render_capped(env.get_template(template_name).generate(context))
    except TemplateError as exc:  # includes SecurityError, UndefinedError, TemplateNotFound, syntax
        lineno = getattr(exc, "lineno", None)  # only syntax errors carry a line
        where = f" (line {lineno})" if lineno else ""
        raise LetterError(f"{template_name}{where}: {exc.__class__.__name__}: {exc}") from exc
    except (LookupError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        # Python's own errors raised inside the template (`1/0`, `'{0}'.format_map([])`): still the letter's.
        raise LetterError(f"{template_name}: {exc.__class__.__name__}: {exc}") from exc
    except _TooLong as exc:
        raise LetterError(f"{template_name}: the letter renders more than {MAX_LETTER_CHARS} characters; "
                          "shorten it") from exc
    return normalize_text(text)


class _TooLong(Exception):
    """A template's output passed MAX_LETTER_CHARS."""


def _render_capped(chunks: Any) -> str:
    """Join a template's output chunks, stopping as soon as they pass MAX_LETTER_CHARS."""
    parts: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_LETTER_CHARS:
            raise _TooLong
        parts.append(chunk)
    return "".join(parts)


def text_digest(text: str) -> str:
    """Return a short digest of a letter text as compared for edits (line endings, trailing space aside)."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()[:32]


def is_edited(submitted: str, shown: str) -> bool:
    """Return True when the constituent changed the suggested text the form showed them."""
    return normalize_text(submitted) != normalize_text(shown)


def build_letter(env: SandboxedEnvironment, template_name: str, *, lang: str, subject: str,
                 member: Member, constituent: Constituent, campaign: Mapping[str, Any],
                 edited_body: str | None = None) -> Letter:
    """Return one member's letter; `edited_body` (the constituent's edit) replaces the suggested text."""
    if edited_body is not None:
        body, edited = normalize_text(edited_body), True
    else:
        body = render_body(env, template_name, member=member, constituent=constituent, campaign=campaign)
        edited = False
    return Letter(
        lang=lang,
        subject=subject,
        salutation=salutation(member, lang),
        body=body,
        closing=_CLOSINGS.get(lang, _CLOSINGS["en"]),
        signature=signature(constituent),
        edited=edited,
    )


def sample_members() -> tuple[Member, ...]:
    """Return one made-up member of every seat type, for checking templates before anyone submits.

    Their surnames are none of the seat words, so a letter that shows the title where the name belongs
    ("Dear Senator Senator,") cannot pass for a right one.
    """

    def member(bioguide: str, title: str, first: str, last: str, state: str, district: int | None,
               gender: str | None = None) -> Member:
        return Member(
            bioguide=bioguide, name=f"{first} {last}", first_name=first, last_name=last,
            title=title,  # type: ignore[arg-type]
            party="Independent", state=state, district=district, phone="202-555-0100",
            url="https://example.org", contact_form=None, office_address=None, gender=gender,
        )

    return (
        member("S000001", "Senator", "Sam", "Ashby", "WI", None, "F"),
        member("R000001", "Representative", "Rae", "Brandt", "WI", 3, "M"),
        member("R000002", "Representative", "Ray", "Castillo", "AK", 0),
        member("D000001", "Delegate", "Dana", "Dunmore", "DC", 0, "F"),
        member("C000001", "Resident Commissioner", "Cruz", "Ellery", "PR", 0),
    )


SAMPLE_CONSTITUENT = Constituent(first_name="Sam", last_name="Sample", city="Madison", state="WI",
                                 prefix="Mx.")
