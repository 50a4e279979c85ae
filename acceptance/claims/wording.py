"""Checks that read a claim's wording: blanks of the county template left unfilled
(`社区内19层及以上住宅  栋`, `提供种社区养老服务`, `是/否`), a count that disagrees with the
items it lists (`提供2种服务：助餐、助浴、日间照料`), and a 达标 the text itself takes back
(`达标。…，8个小区未配备`).

A measure word counts as a blank only where a number belongs: after spaces that stood for
it, or after a verb or noun that takes a count, and not inside an ordinary word (商户,
疫苗接种, 平台, 个人 …).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Final

from acceptance.claims.arithmetic import shown
from acceptance.claims.figures import CHINESE_DIGITS, number
from acceptance.claims.model import Flag
from acceptance.claims.row import RowClaim

#: How far before a measure word its context is read.
_WINDOW: Final = 24
_BLANK_UNITS: Final = re.compile(r"平方公里|平方米|[%栋幢户个种项处台次]")
#: Letters before a measure word that already say how many (每个, 各种, 多项, 120余户).
_QUANTIFIERS: Final = (set("0123456789余多几每各整这那某该此单半全两双十")
                       | set(CHINESE_DIGITS))
#: Words ending in a measure word (the letter before it, then it).
_ENDS_WITH_UNIT: Final = frozenset({
    "商户", "用户", "住户", "窗户", "门户", "客户", "农户", "账户", "落户", "入户", "散户",
    "接种", "品种", "物种", "播种", "种种", "平台", "后台", "前台", "柜台", "阳台", "站台",
    "舞台", "出台", "事项", "专项", "款项", "选项", "强项", "立项", "层次", "其次", "依次",
    "档次", "再次", "首次", "批次", "班次", "场次", "人次", "户次", "名次", "本次", "此次",
    "上次", "下次", "多次", "屡次", "到处", "好处", "用处", "住处", "出处", "办事处",
    "是个", "那个", "这个", "哪个", "各个", "整个", "个个", "有个", "栋栋", "处处", "楼栋"})
#: Words starting with a measure word (it, then the letter after it).
_STARTS_WITH_UNIT: Final = frozenset({
    "个人", "个别", "个体", "个性", "个数", "户籍", "户口", "户型", "户数", "户外", "户主",
    "种类", "种植", "种子", "项目", "次数", "次序", "次日", "台账", "台风", "台区", "处理",
    "处置", "处于", "处罚", "处在", "处所", "栋数", "项数", "种数", "台数", "处数", "次要",
    "个案", "个例", "户内", "项下"})
#: What a number is written after in these tables: verbs that take a count, and the nouns
#: counted (`住宅  栋`, `提供种`, `总数户`, `面积平方公里`).
_COUNT_CONTEXT: Final = (
    "提供", "配备", "建设", "建成", "安装", "部署", "新建", "整合", "开展", "拥有", "共有",
    "共计", "合计", "形成", "设置", "覆盖", "接入", "为", "共", "住宅", "楼", "建筑", "小区",
    "家庭", "总数", "数量", "设备", "摄像机", "摄像头", "电梯", "场景", "场地", "活动",
    "面积", "楼宇", "充电桩", "路灯", "老人", "达到", "达")
_EMPTY_CHOICE: Final = re.compile(
    r"是\s*[/／]\s*否|[□☐]\s*是\s*[□☐]\s*否|是\s*[□☐]\s*否\s*[□☐]"
    r"|是否[^，。；\n]{0,30}?[：:]\s*(?=[，。；;\n]|$)")
#: A share or rate named with nothing after it (`老年人总数占比，低于…`, `覆盖率达到。`).
_RATE_WORDS: Final = re.compile(r"(?:占比|率(?:为|是|达到|达))\s*(?=[，。；;,]|$)")
#: What introduces the items a count lists: `2种服务：`, `12个，分别是`.
_LIST_START: Final = re.compile(
    r"[^，,。；;：:\n]{0,12}?(?:[，,]?\s*(?:分别是|分别为|包括但不限于|包括|具体为|即)|[：:])")
_LIST_UNITS: Final = ("种", "个", "项", "类", "处", "家")
_QUALIFIERS: Final = re.compile(
    r"未配备|未实现|未覆盖|未全覆盖|未安装|未部署|未接入|未联网|未建成|未建设|未开通|未完成"
    r"|未达到|未达标|不达标|尚未|暂未|未能|不具备|未设置")
#: A qualified clause that only states why a requirement does not apply.
_CONDITION_WORDS: Final = ("占比", "条件", "无需", "不需要", "不涉及", "不适用")


def _sentence_at(rc: RowClaim, at: int) -> str:
    return rc.claim.quote(at, at + 1)


def _blank_unit(text: str, start: int, end: int) -> bool:
    unit = text[start:end]
    before = text[max(start - _WINDOW, 0):start]
    trimmed = before.rstrip(" \t\u3000\u00a0")
    spaced = len(trimmed) < len(before)
    prev = trimmed[-1:] if trimmed else ""
    if not prev or prev in _QUANTIFIERS:
        return False
    if unit == "%":
        return True
    if not re.match(r"[\u4e00-\u9fff]", prev):
        return False
    if not trimmed.endswith(_COUNT_CONTEXT):
        return False
    if spaced:                       # `住宅  栋`: the spaces stood for the number
        return True
    following = text[end:end + 1]
    return not ((prev + unit[0]) in _ENDS_WITH_UNIT
                or (unit[-1] + following) in _STARTS_WITH_UNIT)


def unfilled_blank(rc: RowClaim) -> list[Flag]:
    """Measure words with no number before them, empty 是/否 choices, 占比 with no figure."""
    text = rc.claim.text
    out: list[Flag] = []
    for m in _BLANK_UNITS.finditer(text):
        if _blank_unit(text, m.start(), m.end()):
            window = text[max(m.start() - _WINDOW, 0):m.start()]
            lead = re.search(r"[\u4e00-\u9fff]{1,2}[ \t\u3000\u00a0]*$", window)
            written = (window[lead.start():] if lead else "") + m.group(0)
            out.append(rc.flag(
                "unfilled_blank", _sentence_at(rc, m.start()),
                f"“{written}”中“{m.group(0)}”前没有数字：模板中的数量未填写"))
    for m in _EMPTY_CHOICE.finditer(text):
        out.append(rc.flag("unfilled_blank", _sentence_at(rc, m.start()),
                           f"“{m.group(0).strip()}”未作选择：模板中的是/否未填写"))
    for m in _RATE_WORDS.finditer(text):
        word = m.group(0).strip()
        out.append(rc.flag("unfilled_blank", _sentence_at(rc, m.start()),
                           f"“{word}”后没有数字：模板中的比例未填写"))
    return out


def _items(listed: str) -> tuple[list[str], bool]:
    """The items of `助餐、助浴、日间照料等` and whether the list ends in 等."""
    listed = listed.strip().strip("“”\"")
    etc = listed.endswith("等")
    listed = re.sub(r"等+$", "", listed)
    items = [i.strip().strip("“”\"") for i in re.split(r"、|以及", listed)]
    return [i for i in items if i], etc


def count_mismatch(rc: RowClaim) -> list[Flag]:
    """`提供2种服务：助餐、助浴、日间照料`: the count said and the items listed differ (a
    list ending in 等 may list fewer)."""
    text = rc.claim.text
    out: list[Flag] = []
    for q in rc.claim.quantities:
        if q.unit not in _LIST_UNITS or q.bound != "exact" or not q.integral:
            continue
        sentence_end = rc.claim.sentences[q.sentence][1]
        rest = text[q.end:sentence_end]
        m = _LIST_START.match(rest)
        if m is None:
            continue
        listed = re.split(r"[，,。；;\n]", rest[m.end():], maxsplit=1)[0]
        items, etc = _items(listed)
        etc = etc or m.group(0).endswith("不限于")
        if len(items) < 2 or any(len(i) > 16 or re.search(r"[0-9]", i) for i in items):
            continue
        n = int(q.value)
        if len(items) == n or (etc and len(items) < n):
            continue
        out.append(rc.flag(
            "count_mismatch", rc.quote(q),
            f"称{number(q.value)}{q.unit}，但列出了{len(items)}{q.unit}：{'、'.join(items)}"
            + ("等" if etc else ""),
            f"列出{len(items)}{q.unit} ≠ 所称{number(q.value)}{q.unit}"))
    return out


def pass_qualified_away(rc: RowClaim) -> list[Flag]:
    """达标 with a clause saying part of it is not done (`8个小区未配备`)."""
    if rc.verdict != "pass":
        return []
    text = rc.claim.text
    out: list[Flag] = []
    seen: set[tuple[int, int]] = set()
    for m in _QUALIFIERS.finditer(text):
        lo = max((text.rfind(c, 0, m.start()) for c in "，,。；;\n"), default=-1) + 1
        ends = [i for i in (text.find(c, m.end()) for c in "，,。；;\n") if i >= 0]
        hi = min(ends, default=len(text))
        clause = text[lo:hi].strip()
        if (lo, hi) in seen or any(w in clause for w in _CONDITION_WORDS):
            continue
        if m.group(0) in ("未达标", "不达标") and lo == 0:
            continue
        seen.add((lo, hi))
        arithmetic = _what_is_left(rc, lo, hi)
        out.append(rc.flag(
            "pass_qualified_away", _sentence_at(rc, m.start()),
            f"称达标，但正文自述“{clause}”", arithmetic))
    return out


def _what_is_left(rc: RowClaim, lo: int, hi: int) -> str:
    """`11 − 8 = 3，3 ÷ 11 = 27.3%` when the text gives the whole (`共11个小区`) and the
    part it says is not done (`8个小区未配备`)."""
    for q in rc.claim.quantities:
        if not lo <= q.start < hi or not q.integral:
            continue
        noun = q.after[:2]
        wholes = [w for w in rc.claim.quantities if w is not q and w.unit == q.unit
                  and w.integral and w.value > q.value and noun
                  and (w.after.startswith(noun) or w.label.endswith(noun))]
        if wholes:
            w, k = int(wholes[0].value), int(q.value)
            done = w - k
            return (f"{w} − {k} = {done}：{w}{q.unit}{noun}中只有{done}{q.unit}做到，"
                    f"{done} ÷ {w} = {shown(Fraction(done * 100, w), 0)}%")
    return ""
