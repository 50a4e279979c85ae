"""The claims check: read published acceptance tables (一级指标 / 序号 / 二级指标 / 指标释义 /
标准要求 / 本社区完成情况) and flag the claims that do not add up — a rate its own parts do
not give, 达标 over figures below the requirement, a rate impossible for its whole,
template blanks left unfilled, a count that disagrees with its list, a 达标 the text takes
back — and, with a database, the measured rows the devices contradict.

`check_claims(text)` is pure; `check_claims_measured(conn, text)` adds the measurements.
"""

from acceptance.claims.check import ClaimsError, check_claims
from acceptance.claims.measured import check_claims_measured
from acceptance.claims.model import FLAG_KINDS, KIND_WORDS, ClaimsReport, Flag, TableClaims
from acceptance.claims.render import render_text

__all__ = ["FLAG_KINDS", "KIND_WORDS", "ClaimsError", "ClaimsReport", "Flag", "TableClaims",
           "check_claims", "check_claims_measured", "render_text"]
