"""A tiny, hand-built lookup dataset for the flow tests: every seat type, an ambiguous ZIP, a vacancy."""

from __future__ import annotations

from typing import Any

from actiontool.districts import normalize_zip
from actiontool.districts.model import DataInfo, District, Lookup, Member, NotFound

DATA = DataInfo(as_of="2026-06-15", congress=119, congress_ends="2027-01-03")


def member(bioguide: str, title: str, first: str, last: str, state: str, district: int | None,
           party: str = "Democrat", phone: str | None = "202-555-0101",
           contact_form: str | None = "https://example.org/contact") -> Member:
    """Return a made-up member."""
    return Member(bioguide=bioguide, name=f"{first} {last}", first_name=first, last_name=last,
                  title=title, party=party, state=state, district=district,  # type: ignore[arg-type]
                  phone=phone, url="https://example.org", contact_form=contact_form, office_address=None)


REP_WI2 = member("P000001", "Representative", "Mara", "Pocket", "WI", 2)
REP_WI3 = member("V000001", "Representative", "Dale", "Vance", "WI", 3, party="Republican", contact_form=None)
SEN_WI_A = member("B000001", "Senator", "Tara", "Baldwin", "WI", None, phone="202-555-0201")
SEN_WI_B = member("J000001", "Senator", "Ron", "Jonson", "WI", None, party="Republican", phone="202-555-0202")
DEL_DC = member("N000001", "Delegate", "Ella", "Norton", "DC", 0)
RC_PR = member("H000001", "Resident Commissioner", "Pablo", "Hernandez", "PR", 0)
REP_AK = member("B000002", "Representative", "Nick", "Begich", "AK", 0, party="Republican")
SEN_AK = member("M000001", "Senator", "Lisa", "Murkow", "AK", None, party="Republican")
SEN_VA = member("K000001", "Senator", "Tim", "Kane", "VA", None)
SEN_VA2 = member("W000001", "Senator", "Mark", "Warn", "VA", None)

WI2 = District("WI", 2, REP_WI2)
WI3 = District("WI", 3, REP_WI3)
WI_SENATE = (SEN_WI_A, SEN_WI_B)


def _lookup(zip_code: str, status: str, city: str, state: str, districts: tuple[District, ...],
            senators: tuple[Member, ...], basis: str = "zcta") -> Lookup:
    return Lookup(query={"zip": zip_code}, status=status, city=city, state=state,  # type: ignore[arg-type]
                  districts=districts, senators=senators, data=DATA, basis=basis,  # type: ignore[arg-type]
                  states=tuple(dict.fromkeys(d.state for d in districts)) or (state,))


ANSWERS: dict[str, Lookup] = {
    "53703": _lookup("53703", "exact", "Madison", "WI", (WI2,), WI_SENATE),
    "53711": _lookup("53711", "ambiguous", "Madison", "WI", (WI2, WI3), WI_SENATE),
    "53590": _lookup("53590", "exact", "Sun Prairie", "WI", (WI3,), WI_SENATE),
    "20001": _lookup("20001", "exact", "Washington", "DC", (District("DC", 0, DEL_DC),), ()),
    "00901": _lookup("00901", "exact", "San Juan", "PR", (District("PR", 0, RC_PR),), ()),
    "99501": _lookup("99501", "exact", "Anchorage", "AK", (District("AK", 0, REP_AK),), (SEN_AK,)),
    "20500": _lookup("20500", "approximate", "Washington", "DC", (District("DC", 0, DEL_DC),), (),
                     basis="coordinates"),
    "22201": _lookup("22201", "exact", "Arlington", "VA", (District("VA", 8, None),), (SEN_VA, SEN_VA2)),
}

POINTS: dict[tuple[float, float], tuple[District, ...]] = {(43.05, -89.45): (WI3,)}


class FakeDataset:
    """Answers like the real dataset for the ZIPs above; any other well-formed ZIP is not found."""

    def lookup(self, zip_text: str) -> Lookup:
        zip_code = normalize_zip(zip_text)
        try:
            return ANSWERS[zip_code]
        except KeyError:
            raise NotFound(zip_code) from None

    def lookup_point(self, lat: Any, lon: Any) -> Lookup:
        districts = POINTS.get((float(lat), float(lon)))
        if districts is None:
            raise NotFound(f"{lat},{lon}")
        return Lookup(query={"lat": lat, "lon": lon}, status="exact", city=None, state="WI",
                      districts=districts, senators=WI_SENATE, data=DATA, basis="point")

    def member(self, bioguide: str) -> Member | None:
        for answer in ANSWERS.values():
            for m in answer.members():
                if m.bioguide == bioguide:
                    return m
        return None


def install(monkeypatch: Any) -> FakeDataset:
    """Make the public pages look ZIPs up in the fake dataset; return it."""
    from actiontool.web import public

    fake = FakeDataset()
    monkeypatch.setattr(public, "dataset", lambda: fake)
    return fake
