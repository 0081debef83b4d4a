"""Places labelled on the map and in figures.

These are the cities this map is known for, plus the hubs that frame the
preset views; labels help a room orient itself without a tile basemap.
"""

from __future__ import annotations

from typing import NamedTuple


class NamedPlace(NamedTuple):
    name_en: str
    name_zh: str
    lat: float
    lon: float
    #: Web map zoom from which the label shows; neighbours of a labelled city wait
    #: for a closer zoom so labels never pile up at the national view.
    min_zoom: float = 0.0


NAMED_PLACES: tuple[NamedPlace, ...] = (
    NamedPlace("Beijing", "北京", 39.904, 116.407),
    NamedPlace("Tianjin", "天津", 39.084, 117.201, 5.5),
    NamedPlace("Qingdao", "青岛", 36.067, 120.383),
    NamedPlace("Xi'an", "西安", 34.341, 108.940),
    NamedPlace("Mianyang", "绵阳", 31.468, 104.679),
    NamedPlace("Chengdu", "成都", 30.573, 104.066, 5.5),
    NamedPlace("Foshan", "佛山", 23.022, 113.122),
    NamedPlace("Guangzhou", "广州", 23.129, 113.264, 6.5),
    NamedPlace("Shenzhen", "深圳", 22.543, 114.058, 6),
    NamedPlace("Shanghai", "上海", 31.230, 121.474),
)

#: Extent that frames mainland China and Hainan: [[south, west], [north, east]].
CHINA_VIEW_BOUNDS: tuple[tuple[float, float], tuple[float, float]] = ((18.0, 73.5), (53.6, 134.8))


#: The drawn neighbourhood, [[south, west], [north, east]]: the basemap's outer window
#: (Natural Earth admin-0 at low detail) and the map's pan limit, so no view a user can
#: reach shows where the drawing stops. Wide enough that China fitted to a 2.6:1 map fits.
REGION_VIEW_BOUNDS: tuple[tuple[float, float], tuple[float, float]] = ((-15.0, 40.0), (66.0, 176.0))


class PresetView(NamedTuple):
    label: str
    bounds: tuple[tuple[float, float], tuple[float, float]]
    #: The button's text: short, so all presets fit in one row at 1366 px.
    short: str = ""


#: One-click views for a briefing, each framing the records of its places.
PRESET_VIEWS: dict[str, PresetView] = {
    "china": PresetView("All China", CHINA_VIEW_BOUNDS, "All China"),
    "prd": PresetView("Pearl River Delta", ((22.35, 112.55), (23.55, 114.45)), "Pearl River Delta"),
    "sichuan": PresetView("Sichuan: Chengdu and Mianyang", ((30.25, 103.55), (31.85, 105.15)),
                          "Sichuan"),
    "shaanxi": PresetView("Shaanxi: Xi'an", ((33.95, 108.35), (34.75, 109.45)), "Xi'an"),
    "jingjin": PresetView("Beijing and Tianjin", ((38.75, 115.75), (40.45, 118.05)),
                          "Beijing–Tianjin"),
    "shandong": PresetView(
        "Shandong coast: Qingdao, Guzhenkou", ((35.45, 119.35), (36.55, 120.95)), "Shandong coast"
    ),
}
