"""Campaigns: data/campaigns/<slug>.yaml files -> validated, immutable Campaign values.

Pure: no Flask, no database. Every error names the file and the line it is on. A campaign's letter
templates are rendered against a sample member of every seat type at load, so a template that cannot
render fails here, never at a constituent's submit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Literal

import yaml

from actiontool import letters
from actiontool.districts.congress import congress_name_in
from actiontool.timezones import is_time_zone

Status = Literal["draft", "live", "closed"]
Targets = Literal["house", "senate", "both"]
STATUSES: tuple[str, ...] = ("draft", "live", "closed")
TARGETS: tuple[str, ...] = ("house", "senate", "both")
# The channels a file may name. The error for another name keeps its earlier wording, which lists the
# first three (tests/test_campaigns.py pins it); `packet` is described in the README.
# `packet`: the organization carries a member's letters to the office in bulk (services.packets).
PACKET = "packet"
CHANNELS: tuple[str, ...] = ("handoff", "smtp", "cwc", PACKET)
DEFAULT_CHANNEL = "handoff"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

# The Library of Congress policy areas: CWC accepts only these as LibraryOfCongressTopic.
LOC_POLICY_AREAS: frozenset[str] = frozenset({
    "Agriculture and Food",
    "Animals",
    "Armed Forces and National Security",
    "Arts, Culture, Religion",
    "Civil Rights and Liberties, Minority Issues",
    "Commerce",
    "Congress",
    "Crime and Law Enforcement",
    "Economics and Public Finance",
    "Education",
    "Emergency Management",
    "Energy",
    "Environmental Protection",
    "Families",
    "Finance and Financial Sector",
    "Foreign Trade and International Finance",
    "Government Operations and Politics",
    "Health",
    "Housing and Community Development",
    "Immigration",
    "International Affairs",
    "Labor and Employment",
    "Law",
    "Native Americans",
    "Public Lands and Natural Resources",
    "Science, Technology, Communications",
    "Social Sciences and History",
    "Social Welfare",
    "Sports and Recreation",
    "Taxation",
    "Transportation and Public Works",
    "Water Resources Development",
})
BILL_TYPES: frozenset[str] = frozenset({"hr", "s", "hjres", "sjres", "hconres", "sconres", "hres", "sres"})

_REQUIRED = ("slug", "title", "ask", "background", "targets", "subject", "letter", "editable", "goal",
             "status", "loc_topics", "languages")
_OPTIONAL = ("bill", "delivery", "sources", "counter", "sponsor", "time_zone")
COUNTER_SHOWS: tuple[str, ...] = ("written", "sent")  # the counts a public counter may show (services.counts)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a campaign file, at a line (1-based; 0 when the file has no line)."""

    line: int
    message: str


class CampaignError(ValueError):
    """A campaign file is invalid; `problems` lists every error with its line."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Return one "file:line: message" string per problem."""
        return [f"{self.source}:{p.line}: {p.message}" if p.line else f"{self.source}: {p.message}"
                for p in self.problems]


class UnknownCampaign(LookupError):
    """No campaign has this slug."""


@dataclass(frozen=True, slots=True)
class Bill:
    """A bill for official delivery: congress, type (hr, s, ...) and number."""

    congress: int
    type: str
    number: int

    @property
    def label(self) -> str:
        """Return e.g. "H.R. 1234 (119th Congress)"."""
        return self.label_in("en")

    def label_in(self, lang: str) -> str:
        """Return e.g. "H.R. 1234 (119th Congress)", or in Spanish "H.R. 1234 (119.º Congreso)"."""
        names = {"hr": "H.R.", "s": "S.", "hjres": "H.J.Res.", "sjres": "S.J.Res.", "hconres": "H.Con.Res.",
                 "sconres": "S.Con.Res.", "hres": "H.Res.", "sres": "S.Res."}
        return f"{names[self.type]} {self.number} ({congress_name_in(self.congress, lang)})"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a campaign's facts come from."""

    title: str
    url: str | None = None
    # A copy of the source's text, relative to the campaign file's folder: what the facts and letters are
    # checked against (tests/test_campaign_sources.py: every number they state must appear in it).
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Sponsor:
    """Who runs a campaign, named on its page."""

    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PublicCounter:
    """What the campaign's public counter shows: the written or the sent count, hidden below `minimum`."""

    show: str = "written"
    minimum: int = 0

    def visible(self, value: int) -> bool:
        """Return True when a count of `value` is high enough to be shown."""
        return value >= self.minimum


@dataclass(frozen=True, slots=True)
class CampaignText:
    """A campaign's words in one language."""

    lang: str
    title: str
    ask: str
    background: tuple[str, ...]
    subject: str


@dataclass(frozen=True)
class Campaign:
    """A validated campaign. Localised fields fall back to the first of `languages`."""

    slug: str
    status: Status
    targets: Targets
    editable: bool
    goal: int
    loc_topics: tuple[str, ...]
    languages: tuple[str, ...]
    letters: Mapping[str, str]  # language -> template name under templates/messages/
    texts: Mapping[str, CampaignText]  # language -> words
    bill: Bill | None = None
    sources: tuple[Source, ...] = ()
    delivery: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # raw per-chamber options
    counter: PublicCounter = PublicCounter()
    sponsor: Sponsor | None = None
    path: str = ""
    # The IANA zone its days and hours are counted in (actiontool.timezones); None: the site's TIME_ZONE.
    time_zone: str | None = None

    def source_texts(self) -> list[Path]:
        """Return the files holding the listed sources' text (relative to the campaign file's folder)."""
        folder = Path(self.path).parent
        return [folder / s.text for s in self.sources if s.text]

    @property
    def default_lang(self) -> str:
        """Return the campaign's first language."""
        return self.languages[0]

    @property
    def is_public(self) -> bool:
        """Return True when constituents may see the campaign (live or closed)."""
        return self.status in ("live", "closed")

    @property
    def is_open(self) -> bool:
        """Return True when constituents may write."""
        return self.status == "live"

    def text(self, lang: str) -> CampaignText:
        """Return the campaign's words in `lang`, or in its default language."""
        return self.texts.get(lang) or self.texts[self.default_lang]

    def letter_lang(self, lang: str) -> str:
        """Return the language the letter will be written in for a visitor who reads `lang`."""
        return lang if lang in self.letters else self.default_lang

    def letter_template(self, lang: str) -> str:
        """Return the letter template name for `lang` (falling back to the default language)."""
        return self.letters[self.letter_lang(lang)]

    @property
    def title(self) -> str:
        """Return the title in the default language."""
        return self.text(self.default_lang).title

    def targets_chamber(self, chamber: str) -> bool:
        """Return True when the campaign writes to members of `chamber` ("house" or "senate")."""
        return self.targets in (chamber, "both")

    def channel_for(self, chamber: str) -> str:
        """Return the delivery channel for `chamber`: handoff unless the file says otherwise."""
        return str(self.delivery.get(chamber, {}).get("channel", DEFAULT_CHANNEL))

    def delivery_options(self, chamber: str) -> Mapping[str, Any]:
        """Return the raw delivery options for `chamber` (the delivery layer validates them)."""
        return self.delivery.get(chamber, MappingProxyType({}))

    @property
    def requires_prefix(self) -> bool:
        """Return True when a channel needs the constituent's prefix (CWC takes it from a fixed list)."""
        return any(self.targets_chamber(c) and self.channel_for(c) == "cwc" for c in ("house", "senate"))

    def _uses(self, channels: tuple[str, ...]) -> bool:
        return any(self.targets_chamber(c) and self.channel_for(c) in channels for c in ("house", "senate"))

    @property
    def needs_street_address(self) -> bool:
        """Return True when a channel carries the street address: CWC requires it, packets print it.

        Hand-off letters carry only the name and city, and e-mailed ones are signed the same way, so
        campaigns that use only those channels never ask for it.
        """
        return self._uses(("cwc", "packet"))

    @property
    def needs_phone(self) -> bool:
        """Return True when a channel carries the phone number (CWC sends it to the office, if given)."""
        return self._uses(("cwc",))

    @property
    def email_reaches_office(self) -> bool:
        """Return True when a channel gives the office the constituent's e-mail (e-mail Reply-To, CWC)."""
        return self._uses(("smtp", "cwc"))

    def template_vars(self, lang: str) -> dict[str, Any]:
        """Return what a letter template may read about the campaign."""
        text = self.text(lang)
        return {"slug": self.slug, "title": text.title, "ask": text.ask, "subject": text.subject,
                "bill": self.bill.label_in(lang) if self.bill else None}


# -- reading YAML with line numbers -------------------------------------------------------------------

def _line_map(node: yaml.Node, path: tuple[Any, ...] = (), out: dict[tuple[Any, ...], int] | None = None,
              duplicates: list[Problem] | None = None) -> dict[tuple[Any, ...], int]:
    """Return {path: 1-based line} for every node of a composed YAML document.

    A key given twice in one mapping is added to `duplicates`: YAML would silently keep the last one.
    """
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen and duplicates is not None:
                dotted = ".".join(str(p) for p in path + (key,))
                duplicates.append(Problem(key_node.start_mark.line + 1, f"{dotted} is given twice"))
            seen.add(key)
            _line_map(value_node, path + (key,), out, duplicates)
            out[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, path + (index,), out, duplicates)
    return out


class _Checker:
    """Collect problems with the line of the path they concern."""

    def __init__(self, lines: Mapping[tuple[Any, ...], int]) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def line(self, path: tuple[Any, ...]) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 0)

    def error(self, path: tuple[Any, ...], message: str) -> None:
        self.problems.append(Problem(self.line(path), message))

    def string(self, value: Any, path: tuple[Any, ...], name: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.error(path, f"{name} must be a non-empty string")
            return None
        return value.strip()

    def localized(self, value: Any, path: tuple[Any, ...], name: str, languages: tuple[str, ...],
                  convert: Any) -> dict[str, Any]:
        """Return {lang: value} from a plain value (the default language) or a {lang: value} mapping."""
        if not isinstance(value, dict):
            converted = convert(value, path, name)
            return {languages[0]: converted} if converted is not None and languages else {}
        result: dict[str, Any] = {}
        for lang, item in value.items():
            if lang not in languages:
                self.error(path + (lang,), f"{name}: language {lang!r} is not in languages {list(languages)}")
                continue
            converted = convert(item, path + (lang,), f"{name}.{lang}")
            if converted is not None:
                result[lang] = converted
        if languages and languages[0] not in value:
            self.error(path, f"{name} needs a value for the default language {languages[0]!r}")
        return result

    def paragraphs(self, value: Any, path: tuple[Any, ...], name: str) -> tuple[str, ...] | None:
        if isinstance(value, str) and value.strip():
            return tuple(p.strip() for p in re.split(r"\n\s*\n", value.strip()) if p.strip())
        if isinstance(value, list) and value:
            items = [self.string(v, path + (i,), f"{name}[{i}]") for i, v in enumerate(value)]
            return tuple(i for i in items if i is not None)
        self.error(path, f"{name} must be text or a non-empty list of facts")
        return None


# A campaign file is a page or two of YAML; anything much larger is a mistake (a data file, a log), and
# reading it whole would hold the start or the check for no purpose.
MAX_CAMPAIGN_BYTES = 1_000_000
# Deeper than any campaign needs, far below Python's recursion limit (YAML's composer recurses per level).
MAX_NESTING = 50


def _too_deep(text: str) -> int:
    """Return the line where flow or block nesting passes MAX_NESTING, or 0; checked before parsing.

    Counts brackets outside quotes and indentation steps, which is enough to stop a hostile file before
    PyYAML's recursive composer reaches Python's recursion limit.
    """
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        indent = len(line) - len(line.lstrip(" -"))
        if indent // 2 > MAX_NESTING:
            return number
        quote = ""
        for char in line:
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "#":
                break
            elif char in "[{":
                depth += 1
                if depth > MAX_NESTING:
                    return number
            elif char in "]}":
                depth = max(0, depth - 1)
    return 0


def parse_campaign(text: str, source: str = "<campaign>", *, expected_slug: str | None = None) -> Campaign:
    """Parse and validate one campaign file's text, or raise CampaignError listing every problem."""
    if "\x00" in text:
        raise CampaignError(source, [Problem(0, "not a text file (it holds NUL bytes)")])
    deep = _too_deep(text)
    if deep:
        raise CampaignError(source, [Problem(deep, f"nested more than {MAX_NESTING} levels deep")])
    try:
        return _parse_campaign(text, source, expected_slug)
    except RecursionError:  # a shape _too_deep does not see (aliases, say): still an error, not a traceback
        raise CampaignError(source, [Problem(0, "nested too deeply to read")]) from None


def _parse_campaign(text: str, source: str, expected_slug: str | None) -> Campaign:
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise CampaignError(source, [Problem(line, f"not valid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise CampaignError(source, [Problem(0, f"not valid YAML: {exc}")]) from exc
    if node is None or not isinstance(data, dict):
        raise CampaignError(source, [Problem(1, "a campaign file must be a mapping of fields")])
    duplicates: list[Problem] = []
    check = _Checker(_line_map(node, duplicates=duplicates))
    check.problems.extend(duplicates)
    return _build(data, check, source, expected_slug)


def _build(data: dict[str, Any], check: _Checker, source: str, expected_slug: str | None) -> Campaign:
    """Check every field of a campaign file (collecting all problems), then return the Campaign."""
    _check_field_names(data, check)
    slug = _slug(data, check, expected_slug)
    languages = _languages(data, check)
    status = _one_of(data, check, "status", STATUSES)
    targets = _one_of(data, check, "targets", TARGETS)
    editable = _editable(data, check)
    goal = _goal(data, check)
    words = _words(data, check, languages)
    topics = _loc_topics(data, check)
    bill = _bill(data.get("bill"), check) if data.get("bill") is not None else None
    sources = _sources(data.get("sources"), check) if data.get("sources") is not None else ()
    delivery = _delivery(data.get("delivery"), check) if data.get("delivery") is not None else {}
    counter = _counter(data["counter"], check) if "counter" in data else PublicCounter()
    sponsor = _sponsor(data["sponsor"], check) if data.get("sponsor") is not None else None
    time_zone = _time_zone(data.get("time_zone"), check) if "time_zone" in data else None

    if check.problems:
        raise CampaignError(source, check.problems)
    return Campaign(
        slug=slug, status=status, targets=targets, editable=editable, goal=goal,  # type: ignore[arg-type]
        loc_topics=topics, languages=languages,
        letters=MappingProxyType({lang: words.letter_names[lang] for lang in languages
                                  if lang in words.letter_names}),
        texts=MappingProxyType(words.texts(languages)), bill=bill, sources=sources,
        delivery=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in delivery.items()}),
        counter=counter, sponsor=sponsor, path=source, time_zone=time_zone,
    )


def _check_field_names(data: dict[str, Any], check: _Checker) -> None:
    """Report unknown fields and missing required ones."""
    for key in data:
        if key not in _REQUIRED and key not in _OPTIONAL:
            check.error((key,), f"unknown field {key!r}")
    for key in _REQUIRED:
        if key not in data:
            check.error((), f"missing required field {key!r}")


def _slug(data: dict[str, Any], check: _Checker, expected_slug: str | None) -> str | None:
    """Return the slug; report one that is malformed or differs from the file name."""
    slug = check.string(data.get("slug"), ("slug",), "slug") if "slug" in data else None
    if slug is not None and not SLUG_RE.match(slug):
        check.error(("slug",), "slug must be lowercase letters, digits and hyphens (at most 64)")
    if slug is not None and expected_slug is not None and slug != expected_slug:
        check.error(("slug",), f"slug {slug!r} does not match the file name {expected_slug!r}")
    return slug


def _languages(data: dict[str, Any], check: _Checker) -> tuple[str, ...]:
    """Return the campaign's languages, the default first (English when none are given)."""
    if "languages" not in data:
        return ("en",)
    raw = data["languages"]
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        check.error(("languages",), "languages must be a non-empty list such as [en, es]")
        return ("en",)
    unknown = [x for x in raw if x not in letters.LANGUAGES]
    if unknown:
        check.error(("languages",), f"unsupported language(s) {unknown}; supported: "
                                    f"{list(letters.LANGUAGES)}")
    return tuple(dict.fromkeys(x for x in raw if x in letters.LANGUAGES)) or ("en",)


def _one_of(data: dict[str, Any], check: _Checker, key: str, allowed: tuple[str, ...]) -> Any:
    """Return the field's value when it is one of `allowed` (or absent); report and return None if not."""
    value = data.get(key)
    if key in data and value not in allowed:
        check.error((key,), f"{key} must be one of {', '.join(allowed)} (got {value!r})")
        return None
    return value


def _editable(data: dict[str, Any], check: _Checker) -> Any:
    """Return the `editable` flag as given; report one that is not true or false."""
    editable = data.get("editable")
    if "editable" in data and not isinstance(editable, bool):
        check.error(("editable",), "editable must be true or false")
    return editable


def _goal(data: dict[str, Any], check: _Checker) -> Any:
    """Return the `goal` as given; report one that is not a whole number of at least 1."""
    goal = data.get("goal")
    if "goal" in data and (not isinstance(goal, int) or isinstance(goal, bool) or goal < 1):
        check.error(("goal",), "goal must be a whole number of at least 1")
    return goal


@dataclass(frozen=True)
class _Words:
    """A campaign's localised fields, each {lang: value}."""

    titles: dict[str, str]
    asks: dict[str, str]
    subjects: dict[str, str]
    backgrounds: dict[str, tuple[str, ...]]
    letter_names: dict[str, str]

    def texts(self, languages: tuple[str, ...]) -> dict[str, CampaignText]:
        """Return each language's words, falling back to the default language's."""
        default = languages[0]
        return {
            lang: CampaignText(
                lang=lang,
                title=self.titles.get(lang, self.titles[default]),
                ask=self.asks.get(lang, self.asks[default]),
                background=self.backgrounds.get(lang, self.backgrounds[default]),
                subject=self.subjects.get(lang, self.subjects[default]),
            )
            for lang in languages
        }


def _words(data: dict[str, Any], check: _Checker, languages: tuple[str, ...]) -> _Words:
    """Return the localised fields; report over-long subjects and listed languages without a letter."""

    def localized(key: str, convert: Any) -> dict[str, Any]:
        return check.localized(data.get(key), (key,), key, languages, convert) if key in data else {}

    titles = localized("title", check.string)
    asks = localized("ask", check.string)
    subjects = localized("subject", check.string)
    for lang, subject in subjects.items():
        if len(subject) > 300:
            check.error(("subject", lang), "subject must be at most 300 characters")
    backgrounds = localized("background", check.paragraphs)
    letter_names = localized("letter", check.string)
    for lang in languages:
        if "letter" in data and lang not in letter_names and lang != languages[0]:
            check.error(("letter",), f"letter has no template for language {lang!r} listed in languages")
    return _Words(titles, asks, subjects, backgrounds, letter_names)


def _loc_topics(data: dict[str, Any], check: _Checker) -> tuple[str, ...]:
    """Return the Library of Congress policy areas; report a value that is not one."""
    if "loc_topics" not in data:
        return ()
    raw_topics = data["loc_topics"]
    if not isinstance(raw_topics, list) or not raw_topics:
        check.error(("loc_topics",), "loc_topics must be a non-empty list of Library of Congress "
                                     "policy areas")
        return ()
    for i, topic in enumerate(raw_topics):
        if topic not in LOC_POLICY_AREAS:
            check.error(("loc_topics", i), f"{topic!r} is not a Library of Congress policy area")
    return tuple(t for t in raw_topics if t in LOC_POLICY_AREAS)


def _bill(raw: Any, check: _Checker) -> Bill | None:
    if not isinstance(raw, dict):
        check.error(("bill",), "bill must be a mapping with congress, type and number")
        return None
    ok = True
    for key in raw:
        if key not in ("congress", "type", "number"):
            check.error(("bill", key), f"unknown bill field {key!r}")
            ok = False
    congress, kind, number = raw.get("congress"), raw.get("type"), raw.get("number")
    if not isinstance(congress, int) or isinstance(congress, bool) or not 93 <= congress <= 200:
        check.error(("bill", "congress"), "bill.congress must be a Congress number such as 119")
        ok = False
    if not isinstance(kind, str) or kind.lower().replace(".", "") not in BILL_TYPES:
        check.error(("bill", "type"), f"bill.type must be one of {', '.join(sorted(BILL_TYPES))}")
        ok = False
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        check.error(("bill", "number"), "bill.number must be a positive whole number")
        ok = False
    if not (ok and isinstance(congress, int) and isinstance(kind, str) and isinstance(number, int)):
        return None  # (the isinstance checks repeat the ones above for the type checker)
    return Bill(congress, kind.lower().replace(".", ""), number)


def _sources(raw: Any, check: _Checker) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        check.error(("sources",), "sources must be a list of {title, url}")
        return ()
    result = []
    for i, item in enumerate(raw):
        if isinstance(item, str) and item.strip():
            result.append(Source(item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("title"), str):
            url, text = item.get("url"), item.get("text")
            if url is not None and (not isinstance(url, str) or not url.startswith(("https://", "http://"))):
                check.error(("sources", i, "url"), "a source url must start with https:// or http://")
                continue
            if text is not None and not _is_relative_file(text):
                check.error(("sources", i, "text"), "a source text is a file name relative to the campaign "
                                                    "file's folder, such as sources/article.txt")
                continue
            for key in item:
                if key not in ("title", "url", "text"):
                    check.error(("sources", i, key), f"unknown source field {key!r} (title, url, text)")
            result.append(Source(item["title"].strip(), url, text))
        else:
            check.error(("sources", i), "a source is a title, or a mapping with title, url and text")
    return tuple(result)


def _is_relative_file(value: Any) -> bool:
    """Return True for a relative path that stays inside the campaign folder."""
    if not isinstance(value, str) or not value.strip() or "\\" in value:
        return False
    path = PurePosixPath(value)
    return not path.is_absolute() and ".." not in path.parts


def _sponsor(raw: Any, check: _Checker) -> Sponsor | None:
    """Return the campaign's sponsor: a name, or {name, url}."""
    if isinstance(raw, str) and raw.strip():
        return Sponsor(raw.strip())
    if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"].strip():
        url = raw.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith(("https://", "http://"))):
            check.error(("sponsor", "url"), "the sponsor's url must start with https:// or http://")
            return None
        for key in raw:
            if key not in ("name", "url"):
                check.error(("sponsor", key), f"unknown sponsor field {key!r} (name, url)")
        return Sponsor(raw["name"].strip(), url)
    check.error(("sponsor",), "sponsor is a name, or a mapping with name and url")
    return None


def _time_zone(raw: Any, check: _Checker) -> str | None:
    """Return the campaign's time zone when zoneinfo knows it; report it otherwise."""
    if not isinstance(raw, str) or not is_time_zone(raw):
        check.error(("time_zone",),
                    f"time_zone must be a time zone name such as America/Chicago (got {raw!r})")
        return None
    return raw


def _counter(raw: Any, check: _Checker) -> PublicCounter:
    if not isinstance(raw, dict):
        check.error(("counter",), "counter must be a mapping such as {show: written, minimum: 25}")
        return PublicCounter()
    for key in raw:
        if key not in ("show", "minimum"):
            check.error(("counter", key), f"unknown counter field {key!r} (show, minimum)")
    show = raw.get("show", "written")
    if show not in COUNTER_SHOWS:
        check.error(("counter", "show"),
                    f"counter.show must be one of {', '.join(COUNTER_SHOWS)} (got {show!r})")
        show = "written"
    minimum = raw.get("minimum", 0)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
        check.error(("counter", "minimum"), "counter.minimum must be a whole number of at least 0")
        minimum = 0
    return PublicCounter(show, minimum)


def _delivery(raw: Any, check: _Checker) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        check.error(("delivery",), "delivery must be a mapping: {house: {channel: ...}, senate: {...}}")
        return {}
    result: dict[str, dict[str, Any]] = {}
    for chamber, options in raw.items():
        if chamber not in ("house", "senate"):
            check.error(("delivery", chamber), f"delivery chamber must be house or senate (got {chamber!r})")
            continue
        if not isinstance(options, dict):
            check.error(("delivery", chamber), f"delivery.{chamber} must be a mapping with a channel")
            continue
        channel = options.get("channel", DEFAULT_CHANNEL)
        if channel not in CHANNELS:
            check.error(("delivery", chamber, "channel"),
                        f"delivery.{chamber}.channel must be one of {', '.join(CHANNELS)} "
                        f"(got {channel!r})")
            continue
        result[chamber] = dict(options)
    return result


# -- loading and checking -----------------------------------------------------------------------------

def check_renders(campaign: Campaign, messages_dir: Path | str) -> None:
    """Render every letter of `campaign` for a sample member of each seat type; raise CampaignError."""
    env = letters.make_environment(messages_dir)
    problems: list[Problem] = []
    for lang in campaign.languages:
        name = campaign.letter_template(lang)
        # One constituent writes either to voting members (senators, a representative) or to a non-voting
        # one (a Delegate, the Resident Commissioner), never both: the body may differ between the groups.
        bodies: dict[bool, set[str]] = {True: set(), False: set()}
        for member in letters.sample_members():
            if not campaign.targets_chamber(member.chamber):
                continue
            greeting = letters.salutation(member, lang)
            if member.last_name not in greeting:  # e.g. "Dear Senator Senator,": the seat for the name
                problems.append(Problem(0, f"the {lang} greeting of a {member.title} does not name them: "
                                           f"{greeting!r}"))
            try:
                bodies[member.title in letters.VOTING_TITLES].add(letters.render_body(
                    env, name, member=member, constituent=letters.SAMPLE_CONSTITUENT,
                    campaign=campaign.template_vars(lang)))
            except letters.LetterError as exc:
                problems.append(Problem(0, f"letter for {member.title} ({lang}) does not render: {exc}"))
                break  # one failure per language is enough to fix
        # An editable letter is one text the constituent edits for all their members; the salutation
        # already names each member, so the body must not.
        if campaign.editable and any(len(group) > 1 for group in bodies.values()):
            problems.append(Problem(0, f"letter {name} ({lang}) is editable but reads differently per "
                                       "member; make it the same for every member or set editable: false"))
    if problems:
        raise CampaignError(campaign.path, problems)


def load_campaign(path: Path | str, messages_dir: Path | str) -> Campaign:
    """Read, validate and render-check one campaign file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CAMPAIGN_BYTES + 1)
    except OSError as exc:
        raise CampaignError(str(path), [Problem(0, f"cannot read the file: {exc}")]) from exc
    if len(raw) > MAX_CAMPAIGN_BYTES:
        raise CampaignError(str(path), [Problem(0, f"the file is larger than {MAX_CAMPAIGN_BYTES:,} bytes; "
                                                   "a campaign file is a page or two of YAML")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CampaignError(str(path), [Problem(0, f"not a UTF-8 text file: {exc}")]) from None
    campaign = parse_campaign(text, str(path), expected_slug=path.stem)
    check_renders(campaign, messages_dir)
    return campaign


def load_campaigns(directory: Path | str, messages_dir: Path | str) -> dict[str, Campaign]:
    """Load every *.yaml campaign in `directory`, keyed by slug; raise CampaignError on the first bad one."""
    directory = Path(directory)
    found: dict[str, Campaign] = {}
    if not directory.is_dir():
        return found
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        campaign = load_campaign(path, messages_dir)
        found[campaign.slug] = campaign
    return found
