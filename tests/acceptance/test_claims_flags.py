"""Each kind of claims flag on made-up published rows — raised with its row, the quoted
claim, what is wrong and the arithmetic — and rows whose figures add up raise nothing."""

from __future__ import annotations

import pytest

from acceptance.claims import FLAG_KINDS, check_claims
from acceptance.claims.model import Flag

HEADER = "一级指标\t序号\t二级指标\t指标释义\t标准要求\t本社区完成情况"
LIGHTING_DEFINITION = ("社区内智能照明设施安装情况 智能照明设施安装率=社区内智能照明设备数/"
                       "社区内公共照明设备总数")
FIBRE_DEFINITION = "家庭千兆光纤网络覆盖率=具备千兆接入能力的家庭数/社区家庭总数"


def table(*rows: tuple[str, ...], tier: str = "成长型") -> str:
    """A publication in the one-row-per-line layout of the seeds."""
    body = "\n".join("\t".join(r) for r in rows)
    return (f"## 演示社区建设验收结果公示\n\n### 山东省智慧社区建设指标（{tier}）\n\n"
            f"{HEADER}\n{body}\n\n公示期5天。\n")


def flags(*rows: tuple[str, ...], tier: str = "成长型") -> list[Flag]:
    return list(check_claims(table(*rows, tier=tier)).flags)


def test_a_rate_its_own_parts_do_not_give_is_flagged_with_the_division() -> None:
    found = flags(("基础设施", "2", "移动通信网络",
                   "社区内5G网络覆盖情况 5G网络覆盖率=5G信号覆盖的区域面积/社区总面积",
                   "5G网络覆盖率达到90%",
                   "达标。5G网络覆盖率达到90%，其中覆盖面积1.2平方公里，社区总面积2平方公里。"))
    mismatch = [f for f in found if f.kind == "rate_mismatch"]
    assert [(f.row, f.name, f.arithmetic) for f in mismatch] == [
        (2, "移动通信网络", "1.2 ÷ 2 = 60.0%，所称90%")]
    assert mismatch[0].claim == ("5G网络覆盖率达到90%，其中覆盖面积1.2平方公里，"
                                 "社区总面积2平方公里。")
    assert mismatch[0].problem == ("所称覆盖率90%与其所列数字不符：按覆盖面积1.2平方公里、"
                                   "社区总面积2平方公里计算为60.0%")
    # 60 % is also below the 90 % required, and the row says 达标.
    assert [(f.kind, f.arithmetic) for f in found if f.kind != "rate_mismatch"] == [
        ("pass_below_requirement", "1.2 ÷ 2 = 60.0% < 90%")]


def test_the_design_notes_lighting_claim_280_of_1000_is_not_80_percent() -> None:
    found = flags(("基础设施", "5", "智能照明设施", LIGHTING_DEFINITION,
                   "智能照明设施安装率达到80%",
                   "达标。智能照明设施安装率达到80%，其中社区内智能照明设备数280个，"
                   "社区内公共照明设备总数1000个。"))
    assert [(f.kind, f.arithmetic) for f in found] == [
        ("rate_mismatch", "280 ÷ 1000 = 28.0%，所称80%"),
        ("pass_below_requirement", "280 ÷ 1000 = 28.0% < 80%")]


def test_a_pass_over_a_stated_figure_below_the_requirement_is_flagged() -> None:
    found = flags(
        ("基础设施", "1", "有线宽带网络", FIBRE_DEFINITION, "家庭千兆光纤网络覆盖率达到80%",
         "达标。家庭千兆光纤网络覆盖率达到75%。"),
        ("社区安全", "19", "消防隐患管理", "通过智能化手段，识别社区公共区域的消防隐患",
         "1.社区内80%小区实现消防通道占用、消防栓异常、防火门打开、电气设施异常等情况的"
         "自动化识别和上报；2.社区内80%小区实现电动车进电梯智能识别、自动报警",
         "达标。1.社区内100%小区实现消防通道占用、消防栓异常、防火门打开、电气设施异常等"
         "情况的自动化识别和上报；2.社区内70%小区实现电动车进电梯智能识别、自动报警。"),
        ("保障措施", "25", "宣传普及", "面向社区居民，宣传普及智慧社区建设成效",
         "每年开展2次智慧社区宣传普及活动", "达标。今年已开展1次智慧社区宣传普及活动。"))
    assert [(f.kind, f.row, f.problem, f.arithmetic) for f in found] == [
        ("pass_below_requirement", 1, "称达标，但所称覆盖率75%低于标准要求的80%", "75% < 80%"),
        ("pass_below_requirement", 19, "称达标，但所称小区比例70%低于标准要求的80%",
         "70% < 80%"),
        ("pass_below_requirement", 25, "称达标，但今年已开展1次少于标准要求的2次", "1次 < 2次"),
    ]
    assert found[1].claim == "社区内70%小区实现电动车进电梯智能识别、自动报警。"


def test_where_the_published_requirement_gives_no_figure_the_catalogue_does() -> None:
    # 全覆盖 has no number: the growth catalogue's fire-alarm threshold (100 %) applies.
    found = flags(("社区安全", "20", "火灾自动报警", "通过智能化手段，实现火灾自动报警",
                   "社区内住宅建筑公共区域实现火灾自动报警系统全覆盖",
                   "达标。社区内住宅建筑公共区域火灾自动报警系统覆盖率达到90%。"))
    assert [(f.kind, f.row, f.arithmetic) for f in found] == [
        ("pass_below_requirement", 20, "90% < 100%")]


def test_a_rate_no_whole_number_of_compounds_gives_is_impossible() -> None:
    found = flags(("社区安全", "19", "消防隐患管理", "通过智能化手段，识别社区公共区域的消防隐患",
                   "社区内80%小区实现电动车进电梯智能识别、自动报警",
                   "达标。社区内共6个小区，80%小区实现电动车进电梯智能识别、自动报警。"))
    assert [(f.kind, f.row, f.arithmetic) for f in found] == [
        ("impossible_rate", 19, "4 ÷ 6 = 66.6%，5 ÷ 6 = 83.3%；所称80%")]
    assert found[0].problem == ("所称小区比例80%对6个小区不可能成立：无论其中几个，比例都不是80%"
                                "（最接近的：4 ÷ 6 = 66.6%，5 ÷ 6 = 83.3%）")


def test_a_rate_no_whole_number_of_households_gives_is_impossible() -> None:
    found = flags(("基础设施", "1", "有线宽带网络", FIBRE_DEFINITION,
                   "家庭千兆光纤网络覆盖率达到80%",
                   "达标。家庭千兆光纤网络覆盖率达到85%，社区家庭总数12户。"))
    assert [(f.kind, f.arithmetic) for f in found] == [
        ("impossible_rate", "10 ÷ 12 = 83.3%，11 ÷ 12 = 91.6%；所称85%")]
    assert found[0].problem.startswith("所称覆盖率85%对社区家庭总数12户不可能成立")


def test_a_rate_over_100_percent_is_impossible() -> None:
    found = flags(("基础设施", "1", "有线宽带网络", FIBRE_DEFINITION,
                   "家庭千兆光纤网络覆盖率达到80%", "达标。家庭千兆光纤网络覆盖率达到120%。"))
    assert [(f.kind, f.arithmetic) for f in found] == [("impossible_rate", "120% > 100%")]


def test_unfilled_template_blanks_are_flagged() -> None:
    found = flags(("社区安全", "17", "高空抛物监测", "在社区内部署高空抛物摄像头",
                   "社区内12层及以上住宅实现高空抛物监控报警",
                   "达标。社区内12层及以上住宅  栋，均实现高空抛物监控报警。"
                   "监控范围是否覆盖3层及以上所有窗户：是/否。"
                   "社区60岁及以上老年人占比，未超过30%，提供种社区养老服务。"))
    assert [(f.kind, f.problem) for f in found] == [
        ("unfilled_blank", "“住宅  栋”中“栋”前没有数字：模板中的数量未填写"),
        ("unfilled_blank", "“提供种”中“种”前没有数字：模板中的数量未填写"),
        ("unfilled_blank", "“是/否”未作选择：模板中的是/否未填写"),
        ("unfilled_blank", "“占比”后没有数字：模板中的比例未填写")]
    assert found[0].claim == "社区内12层及以上住宅 栋，均实现高空抛物监控报警。"


def test_a_count_that_disagrees_with_the_items_it_lists_is_flagged() -> None:
    found = flags(("社区服务", "10", "养老服务", "为社区老年人提供助餐、助浴等社区养老服务",
                   "60岁及以上常住老年人占比超过30%的社区提供2种社区养老服务",
                   "达标。社区提供2种服务：助餐、助浴、日间照料。"))
    assert [(f.kind, f.row, f.problem, f.arithmetic) for f in found] == [
        ("count_mismatch", 10, "称2种，但列出了3种：助餐、助浴、日间照料", "列出3种 ≠ 所称2种")]


def test_a_pass_the_text_itself_qualifies_away_is_flagged() -> None:
    found = flags(("基础设施", "6", "智能充电设施", "社区内电动自行车集中停放场所和集中充电设施"
                   "安装情况", "社区内有电动自行车的每个小区拥有智能安全充电设施",
                   "达标。社区内共11个小区，每个小区拥有电动自行车集中停放场所，8个小区未配备"
                   "智能安全充电设施。"))
    assert [(f.kind, f.row, f.problem, f.arithmetic) for f in found] == [
        ("pass_qualified_away", 6, "称达标，但正文自述“8个小区未配备智能安全充电设施”",
         "11 − 8 = 3：11个小区中只有3个做到，3 ÷ 11 = 27.2%")]


ADDING_UP = [
    ("基础设施", "1", "有线宽带网络", FIBRE_DEFINITION, "家庭千兆光纤网络覆盖率达到80%",
     "达标。家庭千兆光纤网络覆盖率达到100%，其中具备千兆接入能力的家庭数3790户，"
     "社区家庭总数3790  户。"),
    ("基础设施", "2", "移动通信网络", "5G网络覆盖率=5G信号覆盖的区域面积/社区总面积",
     "5G网络覆盖率达到90%", "达标。5G网络覆盖率达到93.3%，其中5G信号覆盖的区域面积是1.4"
     "平方公里，社区总面积是1.5平方公里。"),
    # 96 ÷ 112 = 85.714…: 85.7 (half up), 85.71, 85 (truncated) and 86 (rounded) all agree.
    ("基础设施", "5", "智能照明设施", LIGHTING_DEFINITION, "智能照明设施安装率达到80%",
     "达标。1.智能照明设施安装率达到85.7%，其中社区内智能照明设备数96个，社区内公共照明设备"
     "总数112个；2.智能照明设施安装率达到85.71%（96/112）；3.智能照明设施安装率达到85%，"
     "社区内公共照明设备总数112个，其中社区内智能照明设备数96个；4.安装率86%。"),
    ("基础设施", "7", "家庭能源采集设施",
     "家庭能源自动化采集设施安装率=远程能源智能监控表数量/社区家庭总数",
     "家庭能源自动化采集设施安装率达到70%", "达标。家庭能源自动化采集设施安装率达到70%以上，"
     "远程能源智能监控表数量2900个，社区家庭总数3790户。"),
    ("社区服务", "10", "养老服务", "为社区老年人提供助餐、助浴等社区养老服务",
     "1.社区为60岁及以上常住独居老人配备紧急呼叫装置，实现意外事故发生后15分钟内快速响应；"
     "2.60岁及以上常住老年人占比超过30%的社区提供2种社区养老服务",
     "达标。1.社区为60岁及以上独居老人配备紧急呼叫装置；2.社区60岁及以上老年人占比19%，"
     "未超过30%，提供两种社区养老服务，分别为社区医生、社区托管，另有助餐、助浴等服务。"),
    ("社区服务", "12", "便民生活服务", "满足社区居民多样化的生活服务需求",
     "社区内按需配备智能便民服务设施", "达标。社区内配备3种智能便民服务设施：智能快件箱、"
     "无人售卖机等。是否按需配备：☑是□否。"),
    ("社区安全", "17", "高空抛物监测", "在社区内部署高空抛物摄像头",
     "社区内12层及以上住宅实现高空抛物监控报警",
     "达标。社区内12层及以上住宅5栋，均实现高空抛物监控报警，共有5个小区，其中1个小区"
     "无高层住宅。"),
    ("社区安全", "19", "消防隐患管理", "识别社区公共区域的消防隐患",
     "社区内80%小区实现电动车进电梯智能识别、自动报警",
     "达标。社区内共6个小区，83.3%小区实现电动车进电梯智能识别、自动报警，未实现的1个小区"
     "无电梯（不涉及）。"),
    ("保障措施", "25", "宣传普及", "宣传普及智慧社区建设成效", "每年开展2次智慧社区宣传普及活动",
     "达标。今年已开展11次智慧社区宣传普及活动，面向社区居民，宣传普及智慧社区建设成效。"),
    ("保障措施", "26", "信息安全", "建立长效的社区信息安全保护机制",
     "对人员操作过程进行记录并采取技术措施确保记录不可修改、删除",
     "达标。平台采用国产密码算法，对人员操作过程进行记录，确保记录不可修改、删除；"
     "为商户、用户和住户提供疫苗接种信息。"),
]


def test_rows_whose_figures_add_up_raise_nothing() -> None:
    report = check_claims(table(*ADDING_UP))
    assert report.tables[0].rows == len(ADDING_UP)
    assert report.flags == ()


def test_every_flag_kind_has_a_stable_id_and_chinese_words() -> None:
    report = check_claims(table(("基础设施", "1", "有线宽带网络", FIBRE_DEFINITION,
                                 "家庭千兆光纤网络覆盖率达到80%", "达标。覆盖率达到75%。")))
    body = report.to_dict()
    assert body["flag_count"] == 1
    assert body["counts"] == dict.fromkeys(FLAG_KINDS, 0) | {"pass_below_requirement": 1}
    flag = body["tables"][0]["flags"][0]
    assert flag == {"kind": "pass_below_requirement", "kind_word": "称达标但数字低于标准要求",
                    "row": 1, "name": "有线宽带网络", "claim": "覆盖率达到75%。",
                    "problem": "称达标，但所称覆盖率75%低于标准要求的80%",
                    "arithmetic": "75% < 80%"}


@pytest.mark.parametrize("claim", ["未达标。家庭千兆光纤网络覆盖率为75%。",
                                   "家庭千兆光纤网络覆盖率为75%。"])
def test_a_row_that_does_not_say_it_passes_is_not_held_to_the_requirement(claim: str) -> None:
    assert flags(("基础设施", "1", "有线宽带网络", FIBRE_DEFINITION,
                  "家庭千兆光纤网络覆盖率达到80%", claim)) == []
