"""The one declaration of what a CMF Atlas record is.

Loader, validator, filters, CLI and dashboard all read their field names,
vocabularies and labels from here, so a change to the data model is made in
one place. Records are validated with pydantic so every problem names the
field, what was found and what was expected.

Example
-------
>>> rec = Record.model_validate({
...     "id": "fund-example", "kind": "fund", "category": "guidance_fund",
...     "name_en": "Example Fund", "name_zh": "示例基金",
...     "province": "Guangdong", "city": "Foshan", "lat": 23.02, "lon": 113.12,
...     "location_precision": "city", "year": 2017,
...     "fund_size_rmb_bn": 200, "domains": ["general"],
...     "description": "An example fund used in documentation only.",
...     "sources": [{"publisher": "Example", "title": "Example"}]})
>>> rec.fund_size_rmb_bn
200.0
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from geodata.io.quoting import quote_input

#: The three map layers. Order is the drawing and legend order.
KINDS: dict[str, str] = {
    "cluster": "Clusters",
    "fund": "Funds",
    "zone": "Demonstration zones",
    "organisation": "Organisations",
}
Kind = Literal["cluster", "fund", "zone", "organisation"]
#: The id prefix each layer's records carry (``org-`` for organisations).
ID_PREFIXES: dict[str, str] = {
    "cluster": "cluster-", "fund": "fund-", "zone": "zone-", "organisation": "org-",
}

#: What sort of thing a record is, per layer.
CATEGORIES: dict[str, dict[str, str]] = {
    "cluster": {
        "industrial_cluster": "Industrial cluster or base",
        "industrial_park": "Industrial park",
        "innovation_center": "Innovation centre",
        "research_institute": "Research institute",
        "joint_lab": "Joint laboratory",
        "alliance": "Industry alliance or chamber",
        "expo": "Expo or forum",
        "pilot_program": "Pilot programme or corridor",
    },
    "fund": {
        "guidance_fund": "Government guidance fund",
        "industry_fund": "Industry investment fund",
        "conversion_fund": "Technology-conversion fund",
    },
    "zone": {
        "demonstration_zone": "Innovation demonstration zone",
    },
    "organisation": {
        "defence_conglomerate": "Defence conglomerate (group headquarters)",
        "group_subsidiary": "Academy, institute or company of a group",
        "university": "University",
        "military_institution": "Military institution (PLA academy, university or body)",
        "security_body": "Security body",
        "research_institute": "Civil research institute",
        "company": "Company",
        "government_body": "Government body",
    },
}
#: Organisation categories, the sidebar's and CLI's ``--category`` vocabulary.
ORG_CATEGORIES: dict[str, str] = CATEGORIES["organisation"]
#: What each organisation category holds (also in datasets/README.md).
ORG_CATEGORY_MEANINGS: dict[str, str] = {
    "defence_conglomerate": "Headquarters of a state defence-industry group: CASC, CASIC, "
    "CETC, AVIC, NORINCO, CSSC, CNNC, CSGC, CAEP and the like.",
    "group_subsidiary": "An academy, research institute or company of such a group.",
    "university": "A civilian university (including the Seven Sons of National Defence).",
    "military_institution": "A PLA academy or university, the AMS, NUDT or another military body.",
    "security_body": "A university or institute of the public- or state-security system.",
    "research_institute": "A civil research institute (CAS institutes and similar).",
    "company": "Any other company.",
    "government_body": "A ministry, commission or other government organ.",
}

#: Confidence in a record's identity, place and date (also in datasets/README.md).
CONFIDENCE_LEVELS: dict[str, str] = {
    "high": "A primary or official source, or two independent sources, agree on "
    "identity, place and date.",
    "medium": "One reliable secondary source.",
    "low": "Indirect (cited via another source), or the place or date is inferred.",
}
Confidence = Literal["high", "medium", "low"]

#: Kinds of dated event a record or link may carry; ``year_basis`` names one.
DATE_TYPES: dict[str, str] = {
    "founded": "Founded or established",
    "announced": "Announced",
    "signed": "Agreement signed",
    "unveiled": "Unveiled (plaque or ceremony)",
    "held": "Held (an event)",
    "approved": "Approved (a designation or zone)",
    "first_reported": "First reported in our sources",
}
DateType = Literal[
    "founded", "announced", "signed", "unveiled", "held", "approved", "first_reported"
]

#: Which level of the state (or an enterprise) sponsors a record.
SPONSOR_LEVELS: dict[str, str] = {
    "central": "Central government or central SOE",
    "provincial": "Province",
    "municipal": "City",
    "district": "District or county",
    "enterprise": "Enterprise (non-state or group-level)",
    "unknown": "Unknown",
}
SponsorLevel = Literal["central", "provincial", "municipal", "district", "enterprise", "unknown"]

#: What kind of source a citation is.
SOURCE_TYPES: dict[str, str] = {
    "seed": "One of the five seed analyses",
    "reference_list": "A reference list or tracker (ASPI, US government lists)",
    "news": "News report",
    "government": "Government document or site",
    "company": "Company document or site",
    "academic": "Academic publication",
    "think_tank": "Think-tank publication",
    "other": "Other",
}
SourceType = Literal[
    "seed", "reference_list", "news", "government", "company", "academic", "think_tank", "other"
]

#: Typed, directed links between two records (from -> to), datasets/links.yaml.
LINK_TYPES: dict[str, str] = {
    "parent_of": "Parent of (group -> subsidiary; academy -> institute)",
    "partner_in": "Partner in (organisation -> joint lab, alliance or centre)",
    "invests_in": "Invests in (fund or organisation -> target)",
    "sub_fund_of": "Sub-fund of (sub-fund -> parent fund)",
    "located_in": "Located in (park or project -> zone or park)",
    "organised_by": "Organised by (expo or forum -> organiser)",
    "successor_of": "Successor of (new -> old)",
}
#: How a link reads from its other end (for the detail panel: "Part of", "Has partner").
LINK_INVERSE_LABELS: dict[str, str] = {
    "parent_of": "Subsidiary of",
    "partner_in": "Has partner",
    "invests_in": "Invested in by",
    "sub_fund_of": "Has sub-fund",
    "located_in": "Contains",
    "organised_by": "Organiser of",
    "successor_of": "Predecessor of",
}
LINK_FORWARD_LABELS: dict[str, str] = {
    "parent_of": "Parent of",
    "partner_in": "Partner in",
    "invests_in": "Invests in",
    "sub_fund_of": "Sub-fund of",
    "located_in": "Located in",
    "organised_by": "Organised by",
    "successor_of": "Successor of",
}
LinkType = Literal[
    "parent_of", "partner_in", "invests_in", "sub_fund_of", "located_in", "organised_by",
    "successor_of",
]

#: The US government lists an organisation can be matched to (datasets/designations.yaml).
DESIGNATION_LISTS: dict[str, str] = {
    "us_dod_1260h": "US DoD Section 1260H list (Chinese military companies)",
    "us_dod_1286": "US DoD Section 1286 list (foreign institutions of concern)",
}
DesignationList = Literal["us_dod_1260h", "us_dod_1286"]
DESIGNATION_RELATIONS: dict[str, str] = {
    "listed": "Listed by name",
    "subsidiary_of_listed": "Subsidiary of a listed parent (not itself listed)",
}
MATCH_BASES: dict[str, str] = {
    "exact_name": "The list entry's name equals our name (after trimming)",
    "alias": "The list entry's name or alias equals one of our aliases",
    "normalised_name": "Equal after normalisation (case, punctuation, company suffixes)",
    "manual": "Matched by a reviewer reading both entries",
}
REVIEW_OUTCOMES: dict[str, str] = {
    "accepted": "Accepted: the same entity",
    "rejected": "Rejected: a different entity (reason in review_note)",
}

#: Controlled vocabulary of technology domains (documented in datasets/README.md).
DOMAINS: dict[str, str] = {
    "ai": "Artificial intelligence",
    "aerospace": "Aviation and space",
    "cyber": "Cybersecurity",
    "electronics": "Electronics and semiconductors",
    "information": "Information technology, big data and cloud",
    "command_control": "Command and control",
    "robotics": "Robotics and unmanned systems",
    "maritime": "Maritime and undersea",
    "materials": "Advanced materials and additive manufacturing",
    "manufacturing": "Intelligent and high-end manufacturing",
    "energy": "Energy, including new energy",
    "nuclear": "Nuclear",
    "biotech": "Biotechnology and medicine",
    "quantum": "Quantum technology",
    "general": "General or multi-domain",
}

#: Status vocabulary. Zones must carry one of the zone statuses.
ZONE_STATUSES: dict[str, str] = {
    "approved": "Approved national zone",
    "applied_not_approved": "Applied, not approved",
    "local_pilot": "Local pilot zone",
}
OTHER_STATUSES: dict[str, str] = {
    "proposed": "Proposed",
    "announced": "Announced",
    "established": "Established",
}
STATUSES: dict[str, str] = {**ZONE_STATUSES, **OTHER_STATUSES}
#: What each status means in this data (also in datasets/README.md).
STATUS_MEANINGS: dict[str, str] = {
    "approved": "Zones only. Named by our sources as approved by the central authorities "
    "as a national MCF innovation demonstration zone.",
    "applied_not_approved": "Zones only. Reported to have applied for national "
    "demonstration-zone status and not to have been approved.",
    "local_pilot": "Zones only. A zone designated by a province or city on its own "
    "authority, outside the national list.",
    "proposed": "Non-zones. Planned or proposed in a source; no sign yet that it exists.",
    "announced": "Non-zones. Publicly announced or about to open; operation not confirmed.",
    "established": "Non-zones. Reported as set up, launched or held.",
}

#: How exactly the coordinates place the record.
LOCATION_PRECISIONS: dict[str, str] = {
    "site": "Site (the facility itself)",
    "district": "District or county",
    "city": "City centre",
    "province": "Provincial capital or centroid",
    "national_hq": "National body, placed at its headquarters",
}
#: What each location precision means on the map (also in datasets/README.md).
LOCATION_PRECISION_MEANINGS: dict[str, str] = {
    "site": "The point is the facility or venue itself.",
    "district": "The point is in the right district, county or new area, but not at the "
    "facility: the site is unknown or the entity covers an area.",
    "city": "The point is the city centre: only the city is known.",
    "province": "The point is the provincial capital or centroid: only the province is known.",
    "national_hq": "A national body or fund with no local site, placed at the Beijing "
    "headquarters of the body that sponsors or runs it.",
}

#: Provincial-level divisions, English name -> Chinese name.
PROVINCES: dict[str, str] = {
    "Beijing": "北京", "Tianjin": "天津", "Hebei": "河北", "Shanxi": "山西",
    "Inner Mongolia": "内蒙古", "Liaoning": "辽宁", "Jilin": "吉林",
    "Heilongjiang": "黑龙江", "Shanghai": "上海", "Jiangsu": "江苏",
    "Zhejiang": "浙江", "Anhui": "安徽", "Fujian": "福建", "Jiangxi": "江西",
    "Shandong": "山东", "Henan": "河南", "Hubei": "湖北", "Hunan": "湖南",
    "Guangdong": "广东", "Guangxi": "广西", "Hainan": "海南", "Chongqing": "重庆",
    "Sichuan": "四川", "Guizhou": "贵州", "Yunnan": "云南", "Tibet": "西藏",
    "Shaanxi": "陕西", "Gansu": "甘肃", "Qinghai": "青海", "Ningxia": "宁夏",
    "Xinjiang": "新疆", "Hong Kong": "香港", "Macau": "澳门",
}

#: The official long forms of each province's name, English and Chinese, as
#: government documents write them; the importer reads each as the short name.
PROVINCE_OFFICIAL_NAMES: dict[str, tuple[str, ...]] = {
    "Beijing": ("Beijing Municipality", "北京市"),
    "Tianjin": ("Tianjin Municipality", "天津市"),
    "Hebei": ("Hebei Province", "河北省"),
    "Shanxi": ("Shanxi Province", "山西省"),
    "Inner Mongolia": (
        "Inner Mongolia Autonomous Region", "Nei Mongol Autonomous Region", "内蒙古自治区",
    ),
    "Liaoning": ("Liaoning Province", "辽宁省"),
    "Jilin": ("Jilin Province", "吉林省"),
    "Heilongjiang": ("Heilongjiang Province", "黑龙江省"),
    "Shanghai": ("Shanghai Municipality", "上海市"),
    "Jiangsu": ("Jiangsu Province", "江苏省"),
    "Zhejiang": ("Zhejiang Province", "浙江省"),
    "Anhui": ("Anhui Province", "安徽省"),
    "Fujian": ("Fujian Province", "福建省"),
    "Jiangxi": ("Jiangxi Province", "江西省"),
    "Shandong": ("Shandong Province", "山东省"),
    "Henan": ("Henan Province", "河南省"),
    "Hubei": ("Hubei Province", "湖北省"),
    "Hunan": ("Hunan Province", "湖南省"),
    "Guangdong": ("Guangdong Province", "广东省"),
    "Guangxi": ("Guangxi Zhuang Autonomous Region", "Guangxi Autonomous Region", "广西壮族自治区"),
    "Hainan": ("Hainan Province", "海南省"),
    "Chongqing": ("Chongqing Municipality", "重庆市"),
    "Sichuan": ("Sichuan Province", "四川省"),
    "Guizhou": ("Guizhou Province", "贵州省"),
    "Yunnan": ("Yunnan Province", "云南省"),
    "Tibet": (
        "Tibet Autonomous Region", "Xizang Autonomous Region", "Xizang", "西藏自治区",
    ),
    "Shaanxi": ("Shaanxi Province", "陕西省"),
    "Gansu": ("Gansu Province", "甘肃省"),
    "Qinghai": ("Qinghai Province", "青海省"),
    "Ningxia": ("Ningxia Hui Autonomous Region", "Ningxia Autonomous Region", "宁夏回族自治区"),
    "Xinjiang": (
        "Xinjiang Uygur Autonomous Region", "Xinjiang Uyghur Autonomous Region",
        "Xinjiang Autonomous Region", "新疆维吾尔自治区",
    ),
    "Hong Kong": (
        "Hong Kong SAR", "Hong Kong Special Administrative Region", "HKSAR", "香港特别行政区",
    ),
    "Macau": (
        "Macao", "Macau SAR", "Macao SAR", "Macao Special Administrative Region",
        "Macau Special Administrative Region", "澳门特别行政区",
    ),
}

#: Cities named in the data, English name -> Chinese name, so a search for either
#: finds the same records (geodata.query.filters.search_matches). A test checks that every
#: city in the curated datasets is listed; add a city here when a record brings one.
CITIES_ZH: dict[str, str] = {
    "Beijing": "北京", "Chengdu": "成都", "Foshan": "佛山", "Guangzhou": "广州",
    "Mianyang": "绵阳", "Nanjing": "南京", "Qingdao": "青岛", "Shanghai": "上海",
    "Shenzhen": "深圳", "Tianjin": "天津", "Xi'an": "西安", "Wuhan": "武汉",
    "Changsha": "长沙", "Chongqing": "重庆", "Hangzhou": "杭州", "Harbin": "哈尔滨",
    "Shenyang": "沈阳", "Dalian": "大连", "Zhuhai": "珠海", "Hefei": "合肥",
    "Guiyang": "贵阳", "Kunming": "昆明", "Lanzhou": "兰州", "Zhengzhou": "郑州",
    "Jinan": "济南", "Xiamen": "厦门", "Fuzhou": "福州", "Ningbo": "宁波",
    "Suzhou": "苏州", "Wuxi": "无锡", "Changchun": "长春", "Taiyuan": "太原",
    "Shijiazhuang": "石家庄", "Nanchang": "南昌", "Nanning": "南宁", "Haikou": "海口",
    "Sanya": "三亚", "Urumqi": "乌鲁木齐", "Hohhot": "呼和浩特", "Yinchuan": "银川",
    "Xining": "西宁", "Lhasa": "拉萨", "Zhuzhou": "株洲", "Xiangtan": "湘潭",
    "Baotou": "包头", "Yantai": "烟台", "Weihai": "威海", "Huludao": "葫芦岛",
    # Cities the content of 2026-12 brought (Chinese names from cpca's table).
    "Anshun": "安顺", "Baoding": "保定", "Baoji": "宝鸡", "Bengbu": "蚌埠",
    "Binzhou": "滨州", "Changzhou": "常州", "Deyang": "德阳", "Dongying": "东营",
    "Ezhou": "鄂州", "Ganzhou": "赣州", "Guangyuan": "广元", "Handan": "邯郸",
    "Huzhou": "湖州", "Jingdezhen": "景德镇", "Jingzhou": "荆州", "Jining": "济宁",
    "Jiujiang": "九江", "Langfang": "廊坊", "Leshan": "乐山", "Linyi": "临沂",
    "Luoyang": "洛阳", "Ningde": "宁德", "Rizhao": "日照", "Sanmenxia": "三门峡",
    "Weifang": "潍坊", "Wuhu": "芜湖", "Xiangyang": "襄阳", "Xianning": "咸宁",
    "Xiaogan": "孝感", "Xingtai": "邢台", "Yiyang": "益阳", "Yueyang": "岳阳",
    "Zhangjiakou": "张家口", "Zhaoqing": "肇庆", "Zhenjiang": "镇江", "Zibo": "淄博",
    "Zunyi": "遵义",
    # Cities the regions push (issue 12, session 3) brought.
    "Dongguan": "东莞", "Guilin": "桂林", "Taizhou": "台州", "Tangshan": "唐山",
    "Nanping": "南平", "Tongchuan": "铜川", "Wenzhou": "温州", "Wuzhou": "梧州",
    "Xianyang": "咸阳", "Zhongwei": "中卫",
}

#: Rough extent of China's territory; a point outside it is surely a typo.
CHINA_BOUNDS = {"lat_min": 17.0, "lat_max": 54.0, "lon_min": 73.0, "lon_max": 136.0}

#: Validation-context key that turns the China-bounds check off. Only a user's
#: own imported data passes it (``Record.model_validate(raw, context={...: True})``);
#: the importer reports such points as warnings instead, so the user decides.
ALLOW_OUTSIDE_CHINA = "allow_outside_china"

#: The range of every number a record holds, declared once (the loader, the
#: importer and the filters read them from here). A value outside is a typo or
#: a hostile file, never data: ``1.7e308`` RMB bn made the page show "RMB inf bn"
#: and a slider to 1.7e308. NaN and infinity are refused everywhere.
#:
#: Years: low enough for the founding year of the oldest universities an
#: organisation record may carry (Tianjin University, 1895); 2100 leaves room for
#: announced plans. The map's year slider spans the years of clusters, funds and
#: zones only (geodata.query.filters.filter_bounds), so old founding years do not squeeze it.
YEAR_MIN, YEAR_MAX = 1850, 2100
#: Kinds whose records may have no year. An organisation's founding year is
#: optional, and a fund may be known only from an undated report of its size
#: (unknown is stored as unknown). Clusters and zones always have a year: an
#: event, a designation or a first report. The validator and the database's
#: CHECK (geodata.db.migrate.generated_checks) both read this.
UNDATED_KINDS: frozenset[str] = frozenset({"organisation", "fund"})
#: Latitude and longitude in decimal degrees (WGS 84). A user's own records may
#: lie anywhere on Earth; curated ones must also lie in :data:`CHINA_BOUNDS`.
LAT_MIN, LAT_MAX = -90.0, 90.0
LON_MIN, LON_MAX = -180.0, 180.0
#: Fund size in RMB billion: more than 0, at most 100,000 (RMB 100 trillion),
#: about China's whole GDP for a year (RMB 126 tn in 2023). The largest
#: guidance funds are reported at a few thousand billion, so any bigger number is
#: surely a unit mistake (yuan for billions) rather than a fund.
FUND_SIZE_MAX_RMB_BN = 100_000.0

#: "Today" for validation: an ``accessed`` date after it is an error. Read once per
#: process; tests may pass another date through :data:`TODAY_CONTEXT`.
TODAY_CONTEXT = "today"

_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _partial_iso(v: object) -> object:
    """A YYYY, YYYY-MM or YYYY-MM-DD text that is a real date; YAML dates become text."""
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not _PARTIAL_DATE.match(v):
        raise ValueError(f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {v!r}")
    parts = [int(x) for x in v.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        raise ValueError(f"not a calendar date: {v!r}") from None
    return v


def date_precision(date: str) -> str:
    """The precision a partial ISO date states by its form.

    >>> date_precision("2017-07"), date_precision("2018"), date_precision("2018-01-23")
    ('month', 'year', 'day')
    """
    return {1: "year", 2: "month", 3: "day"}[len(date.split("-"))]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Source(BaseModel):
    """Where a fact comes from: a publisher, a date, a title, a URL if known."""

    model_config = ConfigDict(extra="forbid")

    publisher: Text = Field(description="Publisher or outlet, e.g. 'Xinhua'.")
    title: Text = Field(description="Title of the article or document.")
    date: str | None = Field(
        default=None, description="Publication date: YYYY, YYYY-MM or YYYY-MM-DD."
    )
    url: str | None = Field(default=None, description="http(s) URL, if known.")
    via: str | None = Field(
        default=None,
        description="Where we found this reference, if we did not read it first-hand.",
    )
    accessed: str | None = Field(
        default=None,
        description="When we read it, YYYY-MM-DD; never in the future. Required on curated "
        "records (checked by `python -m geodata validate`).",
    )
    locator: str | None = Field(
        default=None,
        description="Where in the source: 'para 7', 'note 32', 'fund table row 3'.",
    )
    type: SourceType | None = Field(default=None, description="What kind of source it is.")

    @field_validator("accessed", mode="before")
    @classmethod
    def _accessed_is_a_past_day(cls, v: object, info: ValidationInfo) -> object:
        if isinstance(v, dt.date):
            v = v.isoformat()
        if v is None:
            return v
        if not isinstance(v, str) or not _FULL_DATE.match(v):
            raise ValueError(f"expected a day YYYY-MM-DD, got {v!r}")
        try:
            day = dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"not a calendar date: {v!r}") from None
        today = (info.context or {}).get(TODAY_CONTEXT) or dt.date.today()
        if day > today:
            raise ValueError(f"accessed {v} is in the future (today is {today.isoformat()})")
        return v

    @field_validator("date", mode="before")
    @classmethod
    def _date_is_partial_iso(cls, v: object) -> object:
        # YAML reads a bare 2018-11-14 as a date; store it as ISO text.
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, int):
            v = str(v)
        if isinstance(v, str) and not _PARTIAL_DATE.match(v):
            raise ValueError(f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {quote_input(v)}")
        return v

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s<>\"']+$", v):
            raise ValueError(f"expected an http(s) URL without spaces, got {quote_input(v)}")
        return v


class DatedEvent(BaseModel):
    """One dated event of a record or link; the date's form is its precision.

    >>> DatedEvent(type="founded", date="2017-07").date
    '2017-07'
    """

    model_config = ConfigDict(extra="forbid")

    type: DateType
    date: str = Field(description="YYYY, YYYY-MM or YYYY-MM-DD: the form is the precision.")
    note: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_is_partial_iso(cls, v: object) -> object:
        return _partial_iso(v)


_ORG_ONLY_LISTS = (
    "supervising_agencies", "research_topics", "laboratories", "org_tags",
    "subsidiaries_as_published",
)
_ORG_ONLY_TEXT = ("unplaced_reason", "address")


class Record(BaseModel):
    """One point on the map: a cluster, a fund or a demonstration zone."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")] = Field(
        description="Stable, lowercase, hyphenated id; never reused."
    )
    kind: Kind
    category: str
    name_en: Text
    name_zh: Text
    aliases: list[Text] = Field(
        default_factory=list,
        description="Other names in any script: short, full (when the printed name is "
        "truncated), former names, abbreviations.",
    )
    name_en_ours: bool = Field(
        default=False, description="True when the English name is our rendering, not published."
    )
    province: str | None = Field(
        default=None, description="Required, except for an unplaced organisation."
    )
    city: str | None = None
    lat: float | None = Field(default=None, ge=LAT_MIN, le=LAT_MAX, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=LON_MIN, le=LON_MAX, allow_inf_nan=False)
    location_precision: (
        Literal["site", "district", "city", "province", "national_hq"] | None
    ) = None
    unplaced_reason: str | None = Field(
        default=None,
        description="Organisations only: why the record has no coordinates (listed, not drawn).",
    )
    location_basis: str | None = Field(
        default=None,
        description="How the coordinates were obtained: 'address in source', 'venue named in "
        "source', or 'cpca 0.5.5 adcodes.csv centroid of 绵阳市 (adcode 510700000000)'.",
    )
    year: int | None = Field(
        default=None, ge=YEAR_MIN, le=YEAR_MAX,
        description="The map's year filter: year established or first reported. "
        "Required except for organisations.",
    )
    year_basis: DateType | None = Field(
        default=None, description="Which `dates` type `year` comes from."
    )
    dates: list[DatedEvent] = Field(default_factory=list)
    date_as_published: str | None = Field(
        default=None, description="Date exactly as the source prints it, e.g. '07/01/17'."
    )
    fund_size_rmb_bn: float | None = Field(
        default=None, allow_inf_nan=False,
        description="Fund size in RMB billion; null when unknown.",
    )
    fund_size_as_published: str | None = Field(
        default=None, description="Size exactly as the source prints it."
    )
    region_as_published: str | None = Field(
        default=None, description="Region exactly as the source prints it."
    )
    domains: list[str] = Field(min_length=1)
    status: str | None = None
    sponsor_level: SponsorLevel | None = None
    confidence: Confidence | None = Field(
        default=None, description="high, medium or low; required on curated records."
    )
    confidence_reason: str | None = None
    address: str | None = Field(default=None, description="Organisations only: postal address.")
    supervising_agencies: list[Text] = Field(default_factory=list)
    research_topics: list[Text] = Field(default_factory=list)
    laboratories: list[Text] = Field(default_factory=list)
    org_tags: list[Text] = Field(
        default_factory=list, description="ASPI categories, e.g. 'Seven sons of national defence'."
    )
    subsidiaries_as_published: list[Text] = Field(default_factory=list)
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20)]
    sources: list[Source] = Field(min_length=1)
    notes: str | None = None

    @field_validator("domains")
    @classmethod
    def _domains_in_vocabulary(cls, v: list[str]) -> list[str]:
        unknown = [d for d in v if d not in DOMAINS]
        if unknown:
            raise ValueError(
                f"unknown domain(s) {quote_input(unknown)}; expected any of {sorted(DOMAINS)}"
            )
        if len(set(v)) != len(v):
            raise ValueError(f"domains repeat: {quote_input(v)}")
        return v

    @field_validator("province")
    @classmethod
    def _province_known(cls, v: str | None) -> str | None:
        if v is not None and v not in PROVINCES:
            raise ValueError(f"unknown province {v!r}; expected one of {list(PROVINCES)}")
        return v

    @field_validator("fund_size_rmb_bn")
    @classmethod
    def _fund_size_in_range(cls, v: float | None) -> float | None:
        if v is not None and not 0 < v <= FUND_SIZE_MAX_RMB_BN:
            raise ValueError(
                f"fund size out of range; expected greater than 0 and at most "
                f"{FUND_SIZE_MAX_RMB_BN:,.0f} RMB bn (RMB 100 trillion, about China's GDP "
                f"for a year), got {v:g}"
            )
        return v

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if (v is not None and v != v) or v in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return v

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Record:
        self._check_kind_fields()
        self._check_dates()
        if self.lat is None:
            return self
        b = CHINA_BOUNDS
        check_bounds = not (info.context or {}).get(ALLOW_OUTSIDE_CHINA)
        if check_bounds and not (b["lat_min"] <= self.lat <= b["lat_max"]):
            raise ValueError(
                f"lat {self.lat} is outside China ({b['lat_min']}..{b['lat_max']})"
            )
        if check_bounds and not (b["lon_min"] <= self.lon <= b["lon_max"]):
            raise ValueError(
                f"lon {self.lon} is outside China ({b['lon_min']}..{b['lon_max']})"
            )
        return self

    def _check_kind_fields(self) -> None:
        is_org = self.kind == "organisation"
        placed = (self.lat is not None, self.lon is not None)
        if placed[0] != placed[1]:
            raise ValueError("lat and lon go together: give both or neither")
        if self.lat is None:
            if not is_org:
                raise ValueError(f"a {self.kind} needs lat and lon; only organisations may be "
                                 "unplaced")
            if not self.unplaced_reason:
                raise ValueError("an organisation without lat/lon needs unplaced_reason")
        else:
            if self.unplaced_reason:
                raise ValueError("unplaced_reason is only for records without lat/lon")
            if self.province is None:
                raise ValueError("province is required for a placed record")
            if self.location_precision is None:
                raise ValueError("location_precision is required for a placed record")
        if not is_org:
            # A fund may be undated (UNDATED_KINDS); clusters and zones may not.
            if self.year is None and self.kind not in UNDATED_KINDS:
                raise ValueError(f"year is required for a {self.kind}")
            extra = [f for f in (*_ORG_ONLY_LISTS, *_ORG_ONLY_TEXT) if getattr(self, f)]
            if extra:
                raise ValueError(f"{', '.join(extra)}: only for organisations")
        if self.confidence_reason and not self.confidence:
            raise ValueError("confidence_reason given without confidence")
        if self.category not in CATEGORIES[self.kind]:
            raise ValueError(
                f"category {self.category!r} is not a {self.kind} category; "
                f"expected one of {sorted(CATEGORIES[self.kind])}"
            )
        if self.kind != "fund" and self.fund_size_rmb_bn is not None:
            raise ValueError("fund_size_rmb_bn is only for records of kind 'fund'")
        if self.kind == "zone":
            if self.status not in ZONE_STATUSES:
                raise ValueError(
                    f"a zone needs status one of {sorted(ZONE_STATUSES)}, got {self.status!r}"
                )
        elif self.status is not None and self.status not in OTHER_STATUSES:
            raise ValueError(
                f"status {self.status!r} is not valid for a {self.kind}; "
                f"expected one of {sorted(OTHER_STATUSES)} or none"
            )

    def _check_dates(self) -> None:
        if self.year_basis is None:
            return
        if self.year is None:
            raise ValueError("year_basis given without year")
        matching = [d.date for d in self.dates if d.type == self.year_basis]
        if not matching:
            raise ValueError(f"year_basis {self.year_basis!r} names no entry of dates")
        if not any(d.startswith(str(self.year)) for d in matching):
            raise ValueError(
                f"year {self.year} is not the year of any {self.year_basis!r} date {matching}"
            )

    @property
    def placed(self) -> bool:
        """Whether the record has coordinates (is drawn on the map)."""
        return self.lat is not None


_RECORD_ID = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class Link(BaseModel):
    """A typed, directed link between two records (``from`` -> ``to``), with its sources.

    >>> Link.model_validate({"from": "org-a", "to": "cluster-b", "type": "partner_in",
    ...     "sources": [{"publisher": "P", "title": "T"}]}).from_id
    'org-a'
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_id: _RECORD_ID = Field(alias="from", description="Record id the link starts at.")
    to_id: _RECORD_ID = Field(alias="to", description="Record id the link points to.")
    type: LinkType
    dates: list[DatedEvent] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    notes: str | None = None

    @model_validator(mode="after")
    def _not_a_loop(self) -> Link:
        if self.from_id == self.to_id:
            raise ValueError(f"a link from {self.from_id!r} to itself")
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes a link unique: (from, to, type)."""
        return (self.from_id, self.to_id, self.type)


class Designation(BaseModel):
    """One reviewed match of an organisation record to an entry of a US list.

    Rejected candidates are kept (``review: rejected``) with the reason, so
    the same wrong match is not proposed and accepted later.
    """

    model_config = ConfigDict(extra="forbid")

    record: _RECORD_ID
    list: DesignationList
    entry_name: Text = Field(description="The list entry's name, exactly as listed.")
    relation: Literal["listed", "subsidiary_of_listed"]
    listed_parent: _RECORD_ID | None = Field(
        default=None, description="For subsidiary_of_listed: the listed parent's record id."
    )
    date_added: str | None = None
    date_removed: str | None = None
    basis: Literal["exact_name", "alias", "normalised_name", "manual"]
    review: Literal["accepted", "rejected"]
    review_note: Text

    @field_validator("date_added", "date_removed", mode="before")
    @classmethod
    def _partial(cls, v: object) -> object:
        return None if v is None else _partial_iso(v)

    @model_validator(mode="after")
    def _parent_only_for_subsidiaries(self) -> Designation:
        if self.relation == "subsidiary_of_listed" and not self.listed_parent:
            raise ValueError("relation subsidiary_of_listed needs listed_parent")
        if self.relation == "listed" and self.listed_parent:
            raise ValueError("listed_parent is only for relation subsidiary_of_listed")
        return self

    @property
    def in_force(self) -> bool:
        """Accepted and not removed: the record is on the list now (or under a listed parent)."""
        return self.review == "accepted" and self.date_removed is None


#: Columns of the tabular form, in display order. Used by the table, CSV and GeoJSON.
RECORD_COLUMNS: list[str] = [
    "id", "kind", "category", "name_en", "name_zh", "aliases", "name_en_ours",
    "province", "city", "lat", "lon", "location_precision", "location_basis",
    "unplaced_reason",
    "year", "year_basis", "dates", "date_as_published",
    "fund_size_rmb_bn", "fund_size_as_published", "region_as_published",
    "domains", "status", "sponsor_level", "confidence", "confidence_reason",
    "address", "supervising_agencies", "research_topics", "laboratories", "org_tags",
    "subsidiaries_as_published", "description", "sources", "notes",
]
#: Record fields that hold lists of text (tuples in the frame, ';'-joined in CSV).
LIST_COLUMNS: tuple[str, ...] = (
    "aliases", "domains", "supervising_agencies", "research_topics", "laboratories",
    "org_tags", "subsidiaries_as_published",
)
#: Columns derived from links.yaml and designations.yaml (``geodata.model.relations``).
RELATION_COLUMNS: list[str] = ["parent_id", "links", "designations", "designated"]

#: Human labels for columns, shared by the dashboard table and figure captions.
COLUMN_LABELS: dict[str, str] = {
    "id": "ID", "kind": "Layer", "category": "Kind", "name_en": "Name",
    "name_zh": "名称", "province": "Province", "city": "City",
    "lat": "Latitude", "lon": "Longitude", "location_precision": "Location precision",
    "year": "Year", "date_as_published": "Date (as published)",
    "fund_size_rmb_bn": "Fund size (RMB bn)",
    "fund_size_as_published": "Fund size (as published)",
    "region_as_published": "Region (as published)", "domains": "Domains",
    "status": "Status", "description": "Description", "sources": "Sources",
    "notes": "Notes", "aliases": "Also known as", "name_en_ours": "English name is ours",
    "unplaced_reason": "Why not on the map",
    "location_basis": "Location basis", "year_basis": "Year is the date",
    "dates": "Dates", "sponsor_level": "Sponsor level", "confidence": "Confidence",
    "confidence_reason": "Confidence reason", "address": "Address",
    "supervising_agencies": "Supervising agencies", "research_topics": "Research topics",
    "laboratories": "Laboratories", "org_tags": "Tags", "subsidiaries_as_published":
    "Subsidiaries (as published)", "parent_id": "Parent", "links": "Links",
    "designations": "US designations", "designated": "On a US list",
}
