"""How people type names and identifiers, folded to one form for matching.

Identifiers: full-width to half-width (NFKC), no spaces, upper-case ``X``; a legacy 15-digit
ID number is mapped to its 18-digit form. Names: NFKC, no spaces or middle dots, traditional
to simplified Chinese (OpenCC ``t2s``), lower-case Latin letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

from enforcement.core.identifiers import resident_id_check_char

_SPACES = re.compile(r"[\s·・•.]+")


def fold(value: str) -> str:
    """Full-width to half-width, no spaces, upper case."""
    return unicodedata.normalize("NFKC", value).replace(" ", "").strip().upper()


def upgrade_legacy_id(value: str) -> str:
    """A 15-digit ID (pre-1999) as 18 digits: century 19 inserted, check character added."""
    if re.fullmatch(r"\d{15}", value):
        first17 = value[:6] + "19" + value[6:]
        return first17 + resident_id_check_char(first17)
    return value


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=65536)
def normalize_name(value: str) -> str:
    """The matching form of a name: 張 偉 and ＺＨＡＮＧ　Ｗｅｉ fold like 张伟 and zhangwei."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", value))
    return _t2s().convert(text).lower()
