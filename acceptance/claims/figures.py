"""The figures a published cell states: percentages with what they are a rate of, counts
and areas with their units and labels (`社区家庭总数3790户`), fractions (`280/1000`), the
sentences they stand in, and the verdict word (达标 / 未达标).

Read from completion texts (本社区完成情况) and requirements (标准要求) alike. Positions
are kept so a flag can quote the sentence a figure comes from.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

Bound = Literal["exact", "at_least", "at_most", "about"]

#: Full-width digits and signs, mapped one to one so positions stay valid.
_WIDE: Final = str.maketrans("０１２３４５６７８９％．／", "0123456789%./")
#: Where a sentence ends: its punctuation, or a line break before a numbered item (a
#: line break alone may only wrap a long cell).
_SENTENCE_END: Final = re.compile(
    r"[。！？；;]|\n(?=\s*(?:[0-9]{1,2}\s*[.．、]|[（(][0-9]{1,2}[）)]))")
#: What separates a figure's own words from the clause before it.
_CLAUSE_CUT: Final = re.compile(r"[，,、：:]")
_PERCENT: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*%")
CHINESE_DIGITS: Final = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                         "七": 7, "八": 8, "九": 9}
#: Measure words and units a count or an area is written with.
UNITS: Final = ("平方公里", "平方米", "小区", "个", "栋", "幢", "户", "处", "次", "项", "种",
                "类", "台", "部", "座", "人")
_QUANTITY: Final = re.compile(
    r"([0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十]{1,3})\s*(余|多)?\s*(" + "|".join(UNITS) + ")")
_FRACTION: Final = re.compile(
    r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)\s*/\s*([0-9]+(?:\.[0-9]+)?)(?![0-9.%])")
#: Letters before a Chinese numeral that make it part of a word (统一, 唯一, 第一, 之一 …).
_NUMERAL_WORD: Final = set("统唯第之万同单专进逐一几每某另")
#: Verbs between a figure's name and its number, longest first, with the bound they give.
VERBS: Final[tuple[tuple[str, Bound], ...]] = (
    ("均已达到", "exact"), ("均达到", "exact"), ("均已达", "exact"), ("均不低于", "at_least"),
    ("均达", "exact"), ("均为", "exact"), ("均在", "exact"), ("已达到", "exact"),
    ("不低于", "at_least"), ("不少于", "at_least"), ("未超过", "at_most"),
    ("未达到", "at_most"), ("不超过", "at_most"), ("高达", "exact"), ("已达", "exact"),
    ("达到", "exact"), ("超过", "at_least"), ("高于", "at_least"), ("大于", "at_least"),
    ("低于", "at_most"), ("小于", "at_most"), ("不足", "at_most"), ("不到", "at_most"),
    ("接近", "about"), ("大约", "about"), ("达", "exact"), ("为", "exact"), ("是", "exact"),
    ("约", "about"), ("近", "about"), ("≥", "at_least"), (">=", "at_least"),
    (">", "at_least"), ("＞", "at_least"), ("≤", "at_most"), ("<", "at_most"),
    ("=", "exact"), ("＝", "exact"), ("占", "exact"))
_AFTER: Final[tuple[tuple[str, Bound], ...]] = (
    ("及以上", "at_least"), ("以上", "at_least"), ("以下", "at_most"), ("以内", "at_most"),
    ("左右", "about"))
#: What a share is a share of: `80%小区实现…`. 社区 there is a condition (`占比超过30%的
#: 社区提供…`), not a share of the community's own items.
SHARE_NOUNS: Final = ("小区", "住宅", "楼栋", "楼宇", "建筑", "家庭", "住户", "居民", "电梯",
                      "社区")
_MARKER: Final = re.compile(r"^\s*[0-9]{1,2}\s*[.．、]\s*(?![0-9])")
#: The longest label kept (the words nearest the figure): labels are compared letter run
#: by letter run, and a clause without punctuation can be as long as a cell.
LABEL_LIMIT: Final = 40
_LABEL_LEAD: Final = ("其中", "并且", "且", "并")


@dataclass(frozen=True, slots=True)
class Percent:
    """`覆盖率达到90%`: value 90, subject 覆盖率; `100%小区实现…`: noun 小区."""

    value: Decimal
    bound: Bound
    subject: str
    noun: str | None
    predicate: str
    sentence: int
    start: int
    end: int

    @property
    def places(self) -> int:
        exponent = self.value.as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0

    @property
    def core(self) -> str | None:
        """The rate word the subject ends in (`完好率` of `摄像机完好率`)."""
        return rate_core(self.subject)

    @property
    def condition(self) -> bool:
        """`…占比超过30%的社区提供2种…`: a condition on the community, not a figure of it."""
        return self.noun == "社区"

    @property
    def shown(self) -> str:
        return show_percent(self.value, self.bound)


@dataclass(frozen=True, slots=True)
class Quantity:
    """`社区家庭总数3790户`: value 3790, unit 户, label 社区家庭总数; `11个小区`: after 小区."""

    value: Decimal
    unit: str
    label: str
    after: str
    bound: Bound
    sentence: int
    start: int
    end: int

    @property
    def integral(self) -> bool:
        return self.value == self.value.to_integral_value() and self.unit not in (
            "平方公里", "平方米")

    @property
    def shown(self) -> str:
        return f"{number(self.value)}{'余' if self.bound == 'about' else ''}{self.unit}"


@dataclass(frozen=True, slots=True)
class Fraction:
    """`280/1000` written as such."""

    numerator: Decimal
    denominator: Decimal
    sentence: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Statement:
    """Every figure of one cell, with its sentences."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    percents: tuple[Percent, ...]
    quantities: tuple[Quantity, ...]
    fractions: tuple[Fraction, ...]

    def sentence_of(self, index: int) -> str:
        start, end = self.sentences[index]
        return self.text[start:end].strip()

    def sentence_at(self, at: int) -> int:
        return max(bisect_right(self.sentences, (at, len(self.text) + 1)) - 1, 0)

    def quote(self, start: int, end: int) -> str:
        """The sentence(s) holding text[start:end], without the leading item number."""
        first, last = self.sentence_at(start), self.sentence_at(max(end - 1, start))
        text = self.text[self.sentences[first][0]:self.sentences[last][1]].strip()
        return re.sub(r"\s+", " ", _MARKER.sub("", text)).strip()


def number(value: Decimal | int | float) -> str:
    """3790, 0.4, 1.25: as written, no trailing zeros."""
    d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    text = format(d.normalize(), "f")
    return text


def show_percent(value: Decimal, bound: Bound) -> str:
    prefix = {"at_least": "", "at_most": "不超过", "about": "约", "exact": ""}[bound]
    suffix = "以上" if bound == "at_least" else ""
    return f"{prefix}{number(value)}%{suffix}"


def rate_core(subject: str) -> str | None:
    at = subject.rfind("率")
    return subject[max(at - 2, 0):at + 1] if at >= 0 else None


def normalise(text: str) -> str:
    return text.translate(_WIDE)


def verdict_of(text: str) -> str | None:
    """"pass" when the cell's first verdict word is 达标, "fail" for 未达标 / 不达标."""
    m = re.search(r"(未|不|没有)?达标(?!率)", text)
    if m is None:
        return None
    return "fail" if m.group(1) else "pass"


def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        out.append((start, m.end()))
        start = m.end()
    out.append((start, len(text)))
    return tuple(out)


def _index(starts: list[int], at: int) -> int:
    """The sentence holding position `at` (sentences are contiguous and in order)."""
    return max(bisect_right(starts, at) - 1, 0)


def _verb(before: str) -> tuple[str, Bound]:
    """(the words before the verb, the bound the verb gives)."""
    stripped = before.rstrip()
    for verb, bound in VERBS:
        if stripped.endswith(verb):
            return stripped[:-len(verb)].rstrip(), bound
    return stripped, "exact"


def _clause(before: str) -> str:
    """The part of `before` after its last clause separator."""
    parts = _CLAUSE_CUT.split(before)
    return parts[-1]


def _label(before: str) -> str:
    label = _MARKER.sub("", _clause(before)).strip()[-LABEL_LIMIT:]
    for lead in _LABEL_LEAD:
        label = label.removeprefix(lead)
    return label.strip()


def _share_noun(after: str) -> tuple[str | None, str]:
    rest = after.lstrip().removeprefix("的").lstrip()
    for noun in SHARE_NOUNS:
        if rest.startswith(noun):
            tail = rest[len(noun):]
            return noun, re.split(r"[，,。；;\n]", tail, maxsplit=1)[0].strip()
    return None, ""


def _subjects(before_full: str, verb: str) -> list[str]:
    """The rates a figure is given for: one, or several joined by 、 before 均达到
    (`覆盖率、联网率、摄像机完好率均达到95%`)."""
    head, _ = _verb(before_full)
    names = [_label(head)]
    if verb.startswith("均") and "、" in head:
        parts = head.split("、")
        found: list[str] = []
        for part in reversed(parts):
            word = re.split(r"[的等，,：:]", part)[-1].strip()
            if not word.endswith("率"):
                break
            found.insert(0, word)
        if len(found) > 1:
            names = found
    return names


def read_figures(text: str) -> Statement:
    """Every percentage, quantity and fraction of `text`."""
    text = normalise(text)
    sentences = _sentences(text)
    starts = [start for start, _ in sentences]
    percents: list[Percent] = []
    taken: list[tuple[int, int]] = []
    previous_end = 0
    for m in _PERCENT.finditer(text):
        s = _index(starts, m.start())
        seg_start = max(sentences[s][0], previous_end)
        before_full = text[seg_start:m.start()]
        after = text[m.end():m.end() + 40]
        head, bound = _verb(_clause(before_full))
        verb = _clause(before_full).rstrip()[len(head):].strip()
        rest = after.lstrip()
        for word, after_bound in _AFTER:
            if rest.startswith(word):
                bound, rest = after_bound, rest[len(word):]
                break
        noun, predicate = _share_noun(rest)
        for subject in _subjects(before_full, verb):
            percents.append(Percent(Decimal(m.group(1)), bound, subject, noun, predicate, s,
                                    m.start(), m.end()))
        taken.append((m.start(), m.end()))
        previous_end = m.end()
    quantities = _quantities(text, sentences, starts, taken)
    fractions = tuple(
        Fraction(Decimal(m.group(1)), Decimal(m.group(2)), _index(starts, m.start()),
                 m.start(), m.end())
        for m in _FRACTION.finditer(text))
    return Statement(text, sentences, tuple(percents), tuple(quantities), fractions)


def _numeral(word: str) -> int | None:
    """一 … 九十九 as an integer (十二, 二十, 两)."""
    if word.isascii() and word.isdigit():
        return int(word)
    if "十" in word:
        tens, _, ones = word.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        t = CHINESE_DIGITS.get(tens, 0) if tens else 1
        o = CHINESE_DIGITS.get(ones, 0) if ones else 0
        return t * 10 + o if (not tens or tens in CHINESE_DIGITS) and (
            not ones or ones in CHINESE_DIGITS) else None
    return CHINESE_DIGITS.get(word) if len(word) == 1 else None


def _quantities(text: str, sentences: tuple[tuple[int, int], ...], starts: list[int],
                taken: list[tuple[int, int]]) -> list[Quantity]:
    out: list[Quantity] = []
    previous_end = 0
    for m in _QUANTITY.finditer(text):
        raw = m.group(1)
        inside = bisect_right(taken, (m.start(), len(text))) - 1
        if inside >= 0 and taken[inside][0] <= m.start() < taken[inside][1]:
            continue
        before_char = text[m.start() - 1] if m.start() else ""
        if raw[0].isascii() and raw[0].isdigit():
            if before_char.isalnum() and before_char.isascii():
                continue
            value = Decimal(raw)
        else:
            whole = _numeral(raw)
            follows = text[m.end():m.end() + 1]
            if whole is None or before_char in _NUMERAL_WORD or follows == "性":
                continue
            value = Decimal(whole)
        s = _index(starts, m.start())
        seg_start = max(sentences[s][0], previous_end)
        label, _ = _verb(_label(text[seg_start:m.start()]))
        after = re.split(r"[，,。；;、\n：:]", text[m.end():m.end() + 20], maxsplit=1)[0]
        bound: Bound = "about" if m.group(2) else "exact"
        for word, after_bound in _AFTER:
            if after.startswith(word):
                bound, after = after_bound, after[len(word):]
                break
        out.append(Quantity(value, m.group(3), label, after.strip(), bound, s, m.start(),
                            m.end()))
        previous_end = m.end()
    return out
