"""Place an address or place name in Chinese or English, offline.

Lists give addresses ("四川省绵阳市涪城区…", "Mianyang, Sichuan"), not
coordinates. This module finds the administrative unit they name — province,
prefecture-level city or district — and places the row at that unit's point,
saying honestly how precise that is. It never guesses: a district name that
exists in two places with nothing else to tell them apart is *ambiguous*, and
the candidates are listed; text naming no unit is *unplaced*, with the reason.

Data: the ``cpca`` package (MIT licence, version pinned in requirements.txt)
parses Chinese addresses and ships ``adcodes.csv``: every province, city and
district of mainland China with its code and a representative point (the
seat of its government), as of the package's data date (2020 divisions;
later renamings are not known to it). English names are matched through
their pinyin (``pypinyin``). Each point is checked against the province
polygon of the offline basemap (:mod:`geodata.render.basemap`) before it is used.

Example
-------
>>> p = place_address("四川省绵阳市涪城区")
>>> p.status, p.precision, p.province
('placed', 'district', 'Sichuan')
>>> place_address("朝阳区").status
'ambiguous'
>>> place_address("Mianyang, Sichuan").unit
'四川省 绵阳市'
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd
import shapely
from pypinyin import Style, pinyin

from geodata.model.schema import PROVINCES

#: How far (degrees) a unit's point may lie outside its province polygon and
#: still count as inside: the basemap is generalised, coastal seats sit on it.
PROVINCE_CHECK_TOLERANCE = 0.1
PLACEMENT_STATUSES: dict[str, str] = {
    "placed": "Placed at the point of the administrative unit named",
    "ambiguous": "The name fits more than one unit; not placed",
    "unplaced": "No administrative unit recognised; not placed",
}
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州",
             "自治县", "地区", "新区", "省", "市", "区", "县", "盟", "旗")
#: English words that say what kind of place, not which.
_EN_STOPWORDS = {
    "city", "province", "district", "county", "municipality", "autonomous", "region",
    "prefecture", "new", "area", "zone", "street", "road", "rd", "no", "of", "the", "prc",
    "china", "peoples", "people", "republic", "special", "administrative", "sar", "hi",
    "tech", "park", "building", "floor", "room", "economic", "development", "high",
    "and", "industrial", "town", "village",
}


#: English names that are not the pinyin of the Chinese (postal or historical
#: spellings still in use), lower case -> the unit's Chinese name.
EXONYMS: dict[str, str] = {
    "harbin": "哈尔滨市", "hohhot": "呼和浩特市", "urumqi": "乌鲁木齐市", "lhasa": "拉萨市",
    "kashgar": "喀什地区", "canton": "广州市", "peking": "北京市", "amoy": "厦门市",
    "tientsin": "天津市", "chungking": "重庆市", "nanking": "南京市", "tsingtao": "青岛市",
}

#: Beijing, Tianjin, Shanghai, Chongqing: their districts are household names.
_MUNICIPALITY_CODES = {"11", "12", "31", "50"}


@dataclass(frozen=True)
class AdminUnit:
    """One province, city or district from cpca's table."""

    adcode: str
    name: str
    level: str
    lon: float
    lat: float

    @property
    def province_code(self) -> str:
        return self.adcode[:2]


@dataclass(frozen=True)
class Placement:
    """Where an address was placed, or why it was not."""

    text: str
    status: str
    reason: str
    lat: float | None = None
    lon: float | None = None
    precision: str | None = None
    province: str | None = None
    unit: str | None = None
    adcode: str | None = None
    candidates: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _units() -> dict[str, AdminUnit]:
    path = resources.files("cpca").joinpath("resources/adcodes.csv")
    with path.open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"adcode": str})
    out = {}
    for row in table.itertuples(index=False):
        code = row.adcode[:6]
        if row.name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        level = ("province" if code.endswith("0000")
                 else "city" if code.endswith("00") else "district")
        out[code] = AdminUnit(code, row.name, level, float(row.longitude), float(row.latitude))
    return out


@lru_cache(maxsize=1)
def _province_names() -> dict[str, str]:
    """Two-digit code -> canonical English province name (schema.PROVINCES)."""
    out = {}
    for unit in _units().values():
        if unit.level == "province":
            en = next((en for en, zh in PROVINCES.items() if unit.name.startswith(zh)), None)
            if en is not None:
                out[unit.province_code] = en
    return out


@lru_cache(maxsize=1)
def _by_name() -> dict[str, list[AdminUnit]]:
    index: dict[str, list[AdminUnit]] = defaultdict(list)
    for unit in _units().values():
        index[unit.name].append(unit)
    return index


def _bare(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=1)
def _by_pinyin() -> dict[str, list[AdminUnit]]:
    index: dict[str, list[AdminUnit]] = defaultdict(list)
    for unit in _units().values():
        for key in _pinyin_keys(_bare(unit.name)):
            if len(key) >= 4:
                index[key].append(unit)
    for english, chinese in EXONYMS.items():
        index[english].extend(_by_name().get(chinese, ()))
    return index


def _pinyin_keys(name: str, most: int = 16) -> set[str]:
    """Every toneless pinyin spelling of ``name``: 朝阳 is both zhaoyang and chaoyang."""
    keys = [""]
    for readings in pinyin(name, style=Style.NORMAL, heteronym=True):
        keys = [k + r for k in keys for r in dict.fromkeys(readings)][:most]
    return set(keys)


@lru_cache(maxsize=1)
def _province_shapes() -> dict[str, shapely.Geometry]:
    from geodata.render.basemap import load_basemap

    frame = load_basemap()
    frame = frame[frame["role"] == "province"]
    return {row.name_en: row.geometry for row in frame.itertuples()}


def _label(unit: AdminUnit) -> str:
    units = _units()
    chain = [units.get(unit.province_code + "0000")]
    if unit.level == "district":
        chain.append(units.get(unit.adcode[:4] + "00"))
    chain.append(unit)
    seen: list[str] = []
    for u in chain:
        if u is not None and u.name not in seen:
            seen.append(u.name)
    return " ".join(seen)


def _placed(text: str, unit: AdminUnit, how: str) -> Placement:
    province = _province_names().get(unit.province_code)
    if province is None:
        return Placement(text, "unplaced", f"{_label(unit)} is outside the atlas's provinces "
                         "(the basemap's de facto view); not placed")
    shape = _province_shapes().get(province) if province else None
    if shape is not None and not shape.buffer(PROVINCE_CHECK_TOLERANCE).contains(
        shapely.Point(unit.lon, unit.lat)
    ):
        return Placement(text, "unplaced", f"the point of {_label(unit)} falls outside "
                         f"{province} on the basemap; not placed")
    return Placement(text, "placed", how, unit.lat, unit.lon, unit.level, province,
                     _label(unit), unit.adcode)


def _ambiguous(text: str, name: str, units: list[AdminUnit]) -> Placement:
    labels = tuple(sorted(_label(u) for u in units))
    return Placement(text, "ambiguous", f"'{name}' names {len(units)} places "
                     f"({'; '.join(labels[:5])}); add the province or city", candidates=labels)


def place_address(text: str) -> Placement:
    """Place one address or place name (see the module docstring)."""
    return place_addresses([text])[0]


def place_addresses(texts: Sequence[str]) -> list[Placement]:
    """Place many addresses at once: each distinct text once, Chinese ones in one cpca batch.

    cpca's parser costs about 20 ms a call however short the input, and lists
    repeat their addresses, so a 10,000-row list is placed in seconds this way.
    """
    raws = [unicodedata.normalize("NFKC", str(t or "")).strip() for t in texts]
    distinct = list(dict.fromkeys(raws))
    chinese = [t for t in distinct if re.search(r"[\u3400-\u9fff]", t)]
    done: dict[str, Placement] = {}
    if chinese:
        import cpca

        from geodata.screening.normalise import fold_text

        simplified = [fold_text(t) for t in chinese]
        parsed = cpca.transform(simplified)
        for text, folded, row in zip(chinese, simplified, parsed.to_dict("records"),
                                     strict=True):
            done[text] = _place_chinese(text, folded, row)
    for text in distinct:
        if text not in done:
            done[text] = (_place_english(text) if text
                          else Placement(text, "unplaced", "no address given"))
    return [done[t] for t in raws]


def _place_chinese(text: str, simplified: str, row: dict) -> Placement:
    code = row.get("adcode")
    if code is None or (isinstance(code, float) and code != code):
        return Placement(text, "unplaced", "no province, city or district name recognised")
    code = str(code)[:6]
    units = _units()
    unit = units.get(code) or units.get(code[:4] + "00") or units.get(code[:2] + "0000")
    if unit is None:
        return Placement(text, "unplaced", f"administrative code {code} is not in the table")
    named_higher = any(
        isinstance(v, str) and _bare(v) in simplified and v not in ("市辖区",)
        for v in (row.get("省"), row.get("市"))
    )
    if unit.level == "district" and not named_higher:
        same = [u for u in _by_name()[unit.name] if u.level == "district"]
        if len(same) > 1:
            return _ambiguous(text, unit.name, same)
    return _placed(text, unit, f"matched {_label(unit)} in the address")


def _place_english(text: str) -> Placement:
    words = [w for w in re.findall(r"[a-z]+", text.casefold().replace("'", "").replace("’", ""))]
    lowered = " ".join(words)
    province = next(
        (en for en in sorted(PROVINCES, key=len, reverse=True)
         if re.search(rf"\b{re.escape(en.casefold().replace(chr(39), ''))}\b", lowered)),
        None,
    )
    tokens = [w for w in words if w not in _EN_STOPWORDS]
    grams = {"".join(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)}
    found = {u.adcode: u for g in grams for u in _by_pinyin().get(g, ())}
    codes = {c for c, en in _province_names().items() if en == province}
    if province:
        found = {c: u for c, u in found.items() if u.province_code in codes}
        found = {c: u for c, u in found.items() if u.level != "province"}
    if not found:
        if province:
            unit = _units()[next(iter(codes)) + "0000"]
            return _placed(text, unit, f"only the province ({province}) was recognised")
        return Placement(text, "unplaced", "no province, city or district name recognised")
    units = list(found.values())
    cities = [u for u in units if u.level == "city"]
    if len(units) == 1:
        return _placed(text, units[0], f"matched {_label(units[0])} by its pinyin")
    # One city among districts of the same spelling wins ("Xi'an": the city, not
    # the two 西安区 of Jilin and Heilongjiang) — unless a district is in a
    # municipality, which is as well known as a city ("Chaoyang": Beijing's district).
    districts = [u for u in units if u.level == "district"]
    in_municipality = any(u.province_code in _MUNICIPALITY_CODES for u in districts)
    if len(cities) == 1 and len(districts) == len(units) - 1 and not in_municipality:
        others = sorted(_label(u) for u in units if u is not cities[0])
        return _placed(text, cities[0], f"matched the city {_label(cities[0])} by its pinyin "
                       f"(also the name of {'; '.join(others[:3])})")
    return _ambiguous(text, text, units)
