"""Read members' web contact form URLs from unitedstates/contact-congress, for the data build only.

Upstream keeps one YAML file per member, `members/<bioguide>.yaml`, describing how to fill in the office's
form; its `contact_form.steps` open with a `visit:` step whose value is the form page's URL. House offices
that take messages through CWC say `visit: stubforcwc` instead, which is not a URL and is not taken.

Each file is read only as far as its first `visit:` step (YAML events, not the whole document): the rest
describes form fields we do not use, and one upstream file (K000394) has a defect further down that would
otherwise hide a good URL.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

try:  # libyaml when present (faster); the pure-Python parser gives the same events
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how pyyaml was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_STEPS_PATH = ("contact_form", "steps")


class ContactFormsError(Exception):
    """The contact-congress input holds no member files, or cannot be opened."""


@dataclass
class FormUrls:
    """What the member files say: {bioguide: form URL}, and the files that gave none, by reason."""

    urls: dict[str, str] = field(default_factory=dict)
    cwc: list[str] = field(default_factory=list)  # `visit: stubforcwc`: the office takes CWC messages
    unreadable: list[str] = field(default_factory=list)  # not YAML up to the first visit step
    no_url: list[str] = field(default_factory=list)  # no visit step, or a value that is not an http(s) URL


@dataclass
class _Frame:
    """One open YAML collection while walking the events: a mapping (with its current key) or a sequence."""

    mapping: bool
    key: str | None = None


def files_in_folder(folder: Path) -> dict[str, bytes]:
    """Return {file name: bytes} of the `*.yaml` files in a folder (upstream's `members/`)."""
    files = {path.name: path.read_bytes() for path in sorted(Path(folder).glob("*.yaml")) if path.is_file()}
    if not files:
        raise ContactFormsError(f"no *.yaml member files in {Path(folder).name}/")
    return files


def files_in_archive(data: bytes) -> dict[str, bytes]:
    """Return {file name: bytes} of `members/*.yaml` in a .tar.gz of the repository (GitHub's archive)."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for entry in archive:
                path = PurePosixPath(entry.name)
                if entry.isfile() and path.suffix == ".yaml" and path.parent.name == "members":
                    handle = archive.extractfile(entry)  # read in memory: nothing is written to disk
                    if handle is not None:
                        files[path.name] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ContactFormsError(f"not a readable .tar.gz archive ({exc})") from None
    if not files:
        raise ContactFormsError("the archive holds no members/*.yaml files")
    return files


def folder_digest(files: Mapping[str, bytes]) -> str:
    """Return the SHA-256 of a set of files: of `sha256sum`'s lines for them, sorted by file name.

    The same files give the same digest whether they came from a folder or an archive; in a shell,
    `cd members && LC_ALL=C sha256sum *.yaml | sha256sum` gives it too.
    """
    lines = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def first_visit(document: bytes) -> str | None:
    """Return the text of the first `visit:` step under `contact_form.steps`, reading no further than it.

    Raise yaml.YAMLError when the document is not YAML before that point.
    """
    frames: list[_Frame] = []
    for event in yaml.parse(document, Loader=_Loader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            frames.append(_Frame(mapping=isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frames.pop()
            _value_done(frames)
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            top = frames[-1] if frames else None
            if top is not None and top.mapping and top.key is None:
                top.key = event.value if isinstance(event, yaml.ScalarEvent) else ""
                continue
            if isinstance(event, yaml.ScalarEvent) and _at_visit_step(frames):
                return str(event.value)
            _value_done(frames)
    return None


def _value_done(frames: list[_Frame]) -> None:
    """Note that the value of the innermost mapping's current key has ended."""
    if frames and frames[-1].mapping:
        frames[-1].key = None


def _at_visit_step(frames: list[_Frame]) -> bool:
    """Return True when the walk sits at `contact_form.steps[i].visit`."""
    if len(frames) != 4 or frames[2].mapping or not frames[3].mapping:
        return False
    return (frames[0].key, frames[1].key, frames[3].key) == (*_STEPS_PATH, "visit")


def http_url(value: str | None) -> str | None:
    """Return `value`, trimmed, when it is an absolute http(s) URL (not `stubforcwc`, not `hhttps://...`)."""
    text = (value or "").strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        return text
    return None


def form_urls(files: Mapping[str, bytes]) -> FormUrls:
    """Return each member's form URL from their file's first visit step, keyed by the file's Bioguide ID."""
    found = FormUrls()
    for name in sorted(files):
        bioguide = name.removesuffix(".yaml")
        try:
            visit = first_visit(files[name])
        except yaml.YAMLError:
            found.unreadable.append(bioguide)
            continue
        url = http_url(visit)
        if url is not None:
            found.urls[bioguide] = url
        elif (visit or "").strip() == "stubforcwc":
            found.cwc.append(bioguide)
        else:
            found.no_url.append(bioguide)
    return found
