"""How two organisation names are compared: one normal form for every script.

Lists arrive in English or Chinese, in simplified or traditional characters,
with full-width punctuation, legal suffixes and abbreviations in brackets.
:func:`normalise_name` folds all of that away so that "中國電子科技集團有限公司"
and "中国电子科技集团公司" compare equal, while keeping every word that tells two
organisations apart ("China Electronics Corporation" keeps its distance from
"China Electronics Technology Group Corporation": only legal-form words go).

Example
-------
>>> normalise_name("中國電子科技集團有限公司")
'中国电子科技'
>>> normalise_name("China Electronics Technology Group Corporation (CETC)")
'china electronics technology'
>>> bracketed_abbreviations("China Electronics Technology Group Corporation (CETC)")
['CETC']
>>> normalise_name("ＡＶＩＣ Ｃｏ．， Ｌｔｄ．")
'avic'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

#: Legal-form words removed from the end of a name (after lower-casing and
#: punctuation folding), longest first. They say *how* a body is registered,
#: not *which* body it is, so lists disagree about them freely.
_EN_SUFFIXES: tuple[str, ...] = (
    "company limited", "limited liability company",
    "joint stock company", "corporation limited", "group corporation", "group company",
    "group co", "holdings", "holding", "group", "corporation", "corp", "company", "co",
    "incorporated", "inc", "limited", "ltd", "llc", "plc", "sa", "s l u", "gmbh", "ag",
)
_ZH_SUFFIXES: tuple[str, ...] = (
    "股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司",
    "集团公司", "总公司", "股份公司", "集团", "公司",
)
#: Words in front of a Chinese name that lists print or leave out at will:
#: PLA institutions appear with and without "中国人民解放军".
_ZH_PREFIXES: tuple[str, ...] = ("中国人民解放军", "解放军")
_BRACKETS = re.compile(r"[(\[（【〔［]([^()\[\]（）【】〔〕［］]*)[)\]）】〕］]")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
#: Abbreviations worth keeping from brackets: an acronym in capitals ("CETC",
#: "S-SEA", "M&S") or a short Chinese name ("航天科工") — not a place or a legal
#: form, which brackets also hold ("(Beijing)", "(Group)", "（集团）").
_ABBREVIATION = re.compile(r"^(?:[A-Z][A-Z0-9&\-]{1,11}|[\u3400-\u9fff]{2,8})$")
_NOT_ABBREVIATIONS = re.compile(r"(集团|公司|有限|股份|[省市区县])$")
#: Abbreviated words spelled out before comparing, so "Corp. of China" meets
#: "Corporation of China". Whole words only.
_EXPANSIONS: dict[str, str] = {
    "corp": "corporation", "co": "company", "intl": "international", "int'l": "international",
    "tech": "technology", "technol": "technology", "univ": "university", "inst": "institute",
    "acad": "academy", "sci": "science", "natl": "national", "mfg": "manufacturing",
    "eng": "engineering", "elec": "electronics", "res": "research", "dept": "department",
}


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold_text(text: str) -> str:
    """Full-width to half-width (NFKC), traditional to simplified, lower case.

    >>> fold_text("ＣＥＴＣ　臺灣")
    'cetc 台湾'
    """
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        text = _t2s().convert(text)
    return text.casefold()


def bracketed_abbreviations(name: str) -> list[str]:
    """Short forms printed in brackets after a name: "(CETC)", "（航天科工）".

    Lists write an organisation's acronym in brackets; screening treats it as an
    alias. Longer bracketed text (a former name, a note) is not an abbreviation.
    """
    text = unicodedata.normalize("NFKC", name)
    found = (m.strip() for m in _BRACKETS.findall(text))
    return [m for m in found if _ABBREVIATION.match(m) and not _NOT_ABBREVIATIONS.search(m)]


def _droppable(bracketed: str) -> bool:
    inner = bracketed.strip()
    if _ABBREVIATION.match(inner.upper() if inner.isascii() else inner):
        return True
    words = re.sub(r"[^\w\s]", " ", inner.casefold()).split()
    return not words or " ".join(words) in _EN_SUFFIXES or inner in _ZH_SUFFIXES


def _strip_suffixes(text: str, suffixes: tuple[str, ...]) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                cut = text[: -len(suffix)]
                # English suffixes are whole words; CJK ones are not.
                if suffix.isascii() and not cut.endswith(" "):
                    continue
                text = cut.rstrip()
                changed = True
                break
    return text


def normalise_name(name: str) -> str:
    """The comparable form of an organisation name (see the module docstring).

    Steps: NFKC (full-width forms), traditional → simplified (OpenCC), case
    folding, bracketed text removed, punctuation to spaces, legal-form suffixes
    removed (English words, Chinese 有限公司 and the like), spaces collapsed.
    A name made only of a suffix ("Group") is kept rather than emptied.
    """
    text = fold_text(name)
    # An abbreviation or legal form in brackets goes; other bracketed words stay,
    # since "(Beijing)" tells one subsidiary from another.
    text = _BRACKETS.sub(lambda m: " " if _droppable(m.group(1)) else f" {m.group(1)} ", text)
    text = re.sub(r"['’`]", "", text)  # Xi'an -> xian, not "xi an"
    text = text.replace("&", " and ")
    text = _PUNCT.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    text = " ".join(_EXPANSIONS.get(w, w) for w in text.split(" "))
    if _CJK.search(text):
        text = text.replace(" ", "")
        for prefix in _ZH_PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix) + 1:
                text = text[len(prefix):]
        text = _strip_suffixes(text, _ZH_SUFFIXES)
        if not _CJK.search(text[-1:] or "x"):
            text = _strip_suffixes(text, _EN_SUFFIXES)
    else:
        text = _strip_suffixes(text, _EN_SUFFIXES)
    if text.startswith("the "):
        text = text[4:]
    return text


def exact_key(name: str) -> str:
    """The key for an *exact* match: folded text with spaces collapsed, nothing removed.

    >>> exact_key(" China  Electronics Corporation ") == exact_key("china electronics corporation")
    True
    """
    return _SPACE.sub(" ", fold_text(name)).strip()
