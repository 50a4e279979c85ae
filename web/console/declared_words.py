"""The refusals of a declared-value entry in Chinese, for the form on a Chinese page.

The checks (`acceptance.declared_check`, `web.declared_entry`, the evidence store) word
their refusals in English for the JSON API, in a few fixed shapes; this table turns each
shape into Chinese, naming fields by their labels in the row. A refusal of a shape not
listed is shown as it is (tests/web/test_console_declared_words.py makes every refusal the
form can produce go through a listed shape).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from acceptance.catalogue import Row
from web.console.words import TIERS

Match = re.Match[str]

#: How a value was wrongly given (the reason after "{row}: {field} ({label}) ").
_VALUE_REASONS: Final[tuple[tuple[str, str], ...]] = (
    (r"is required", "为必填项"),
    (r"must be text, got .*", "须为文字"),
    (r"= (?P<v>\S+) is below the least allowed, (?P<m>\S+)(?: (?P<u>.+))?",
     "= {v}，低于允许的最小值 {m}{u}"),
    (r"= (?P<v>\S+) is above the most allowed, (?P<m>\S+)(?: (?P<u>.+))?",
     "= {v}，高于允许的最大值 {m}{u}"),
    (r"= (?P<v>\S+) cannot be negative", "= {v}，不能为负数"),
    (r"must be yes or no .*, got (?P<g>.*)", "须为“是”或“否”，填写的是 {g}"),
    (r"must be a whole number(?: such as \d+)?, got (?P<g>.*)",
     "须为整数（如 3790），填写的是 {g}"),
    (r"must be a number(?: such as [\d.]+)?, got (?P<g>.*)", "须为数字（如 0.4），填写的是 {g}"),
)


def _label(row: Row | None, name: str) -> str:
    if row is not None:
        for f in row.fields:
            if f.name == name:
                return f.label
    return name


def _value(row: Row | None, m: Match) -> str | None:
    label = _label(row, m["field"])
    for pattern, words in _VALUE_REASONS:
        found = re.fullmatch(pattern, m["reason"])
        if found:
            parts = {k: (v or "") for k, v in found.groupdict().items()}
            if parts.get("u"):
                parts["u"] = " " + parts["u"]
            return f"“{label}”" + words.format(**parts)
    return None


_SHAPES: Final[tuple[tuple[re.Pattern[str], Callable[[Row | None, Match], str | None]], ...]] = (
    (re.compile(r"^[\w-]+: (?P<field>\w+) \([^)]*\) (?P<reason>.+)$"), _value),
    (re.compile(r"^[\w-]+: (?P<den>\w+) \([^)]*\) must be more than 0 to give a rate$"),
     lambda row, m: f"“{_label(row, m['den'])}”须大于 0，才能计算比率"),
    (re.compile(r"^[\w-]+: (?P<num>\w+) \([^)]*\) = (?P<a>\S+) exceeds (?P<den>\w+) \([^)]*\) "
                r"= (?P<b>\S+); a part cannot be more than the whole$"),
     lambda row, m: f"“{_label(row, m['num'])}” = {m['a']}，超过“{_label(row, m['den'])}” = "
                    f"{m['b']}：部分不能大于总数"),
    (re.compile(r"^[\w-]+ has no field '(?P<f>[^']*)'.*$"),
     lambda row, m: f"本行没有“{m['f']}”这一项"),
    (re.compile(r"^[\w-]+ \(.*\) needs evidence: .*$"),
     lambda row, m: "本行须附证明材料：请至少上传一个文件，如运营商出具的覆盖证明或签字的书面说明"),
    (re.compile(r"^the text is (?P<n>\d+) characters long; at most (?P<m>\d+) .*$"),
     lambda row, m: f"说明共 {m['n']} 字，最多 {m['m']} 字；更长的材料请作为证明材料上传"),
    (re.compile(r"^evidence file '(?P<f>.*)' is larger than (?P<n>\d+) bytes.*$"),
     lambda row, m: f"证明材料“{m['f']}”超过 {int(m['n']) // 2**20} MiB 的上限：请上传较小的"
                    "扫描件，或拆分为几个文件"),
    (re.compile(r"^evidence file '(?P<f>.*)' is empty; .*$"),
     lambda row, m: f"证明材料“{m['f']}”是空文件：请上传文件本身"),
    (re.compile(r"^evidence_sha256 '.*' is not a stored evidence file; .*$"),
     lambda row, m: "勾选保留的原有证明材料已不存在：请重新上传该文件"),
    (re.compile(r"^'(?P<k>[^']*)' is a file; only `evidence` takes files$"),
     lambda row, m: f"“{_label(row, m['k'])}”不能上传文件：文件请放在“证明材料”中"),
    (re.compile(r"^'(?P<k>[^']*)' is given twice with different values: .*$"),
     lambda row, m: f"“{_label(row, m['k'])}”填写了两个不同的值：请只填一个"),
    (re.compile(r"^`evidence` must be a file upload, not text$"),
     lambda row, m: "“证明材料”须为上传的文件"),
    (re.compile(r"^`by` is not taken any more: .*$"),
     lambda row, m: "填报人不需填写：记录以当前登录的用户署名"),
    (re.compile(r"^`values` (?:is not JSON|must be) .*$"),
     lambda row, m: "表单内容有误：请在本页逐项填写后提交"),
    (re.compile(r"^send the entry as multipart/form-data .*$"),
     lambda row, m: "表单提交方式有误：请在本页重新填写后提交"),
    (re.compile(r"^row '(?P<r>[^']*)' is not a catalogue row: .*$"),
     lambda row, m: f"“{m['r']}”不是指标表中的行：行号形如 growth-01、basic-03"),
    (re.compile(r"^row '(?P<r>[^']*)' is not in the (?P<t>\w+) catalogue .*$"),
     lambda row, m: f"“{m['r']}”不在{TIERS.get(m['t'], m['t'])}指标表中"),
    (re.compile(r"^row \S+ \((?P<n>.*)\) is measured from scg itself .*$", re.S),
     lambda row, m: f"“{m['n']}”由本系统自身的状态判定（数据加密、分级授权、操作记录不可篡改），"
                    "不能申报，见验收报告"),
    (re.compile(r"^row \S+ \((?P<n>.*)\) is measured from the devices .*$", re.S),
     lambda row, m: f"“{m['n']}”由设备实测，不能申报"),
)


def chinese(problem: str, row: Row | None = None) -> str:
    """`problem` in Chinese where its shape is known (fields named by `row`'s labels),
    else as it is."""
    for pattern, words in _SHAPES:
        m = pattern.match(problem)
        if m:
            out = words(row, m)
            if out is not None:
                return out
    return problem
