"""Deterministic Chinese development-zone prose for the replica's case pages.

Everything here is a pure function of a ``random.Random`` so a given config seed always yields
the same site. The seed article's real text is loaded from the package data instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources

SEED_ARTICLE_ID = "4415480"
SEED_TITLE = "淄博市五举措精准发力深化开发区体制机制创新工作"
SEED_PUBLISHED = "2019-01-07"
SEED_SOURCE = "淄博市商务局"
_SEED_FILE = "seed_art_21482_4415480.txt"
_SEED_BODY_START = "淄博市大力推动"
_SEED_BODY_END = "建设资本社会化。"

CITIES = (
    "济南市",
    "青岛市",
    "淄博市",
    "枣庄市",
    "东营市",
    "烟台市",
    "潍坊市",
    "济宁市",
    "泰安市",
    "威海市",
    "日照市",
    "临沂市",
    "德州市",
    "聊城市",
    "滨州市",
    "菏泽市",
)
# County-level zones, each with the city it belongs to, so "city + zone" pairs stay plausible.
_COUNTY_ZONES = {
    "章丘": "济南市",
    "莱西": "青岛市",
    "桓台": "淄博市",
    "滕州": "枣庄市",
    "广饶": "东营市",
    "龙口": "烟台市",
    "寿光": "潍坊市",
    "兖州": "济宁市",
    "新泰": "泰安市",
    "荣成": "威海市",
    "莒县": "日照市",
    "沂水": "临沂市",
    "禹城": "德州市",
    "临清": "聊城市",
    "邹平": "滨州市",
    "曹县": "菏泽市",
}
_ZONE_KINDS = (
    "经济技术开发区",
    "高新技术产业开发区",
    "经济开发区",
    "综合保税区",
    "化工产业园",
    "临港经济开发区",
)
_INDUSTRIES = (
    "高端装备",
    "新材料",
    "新一代信息技术",
    "生物医药",
    "高端化工",
    "现代海洋",
    "新能源汽车",
    "绿色食品",
    "智能家电",
    "医养健康",
    "精品钢",
    "现代物流",
)
_TITLE_ACTIONS = (
    "深化体制机制改革激发开发区发展活力",
    "推行“管委会+公司”模式提升园区运营效率",
    "打造{industry}产业集群推动高质量发展",
    "创新“链长制”招商引资成效明显",
    "实施“亩产效益”评价改革促进集约节约用地",
    "推进“标准地”出让加快项目落地见效",
    "优化营商环境全力打造一流开发区",
    "聚焦{industry}产业强链补链延链",
    "开展“双招双引”推动项目建设提速增效",
    "建设科技创新平台增强园区发展动能",
    "推动园区循环化改造实现绿色低碳发展",
    "以数字化转型赋能开发区提质增效",
    "扩大对外开放打造外资集聚高地",
    "深化“放管服”改革实现“区内事区内办”",
    "强化要素保障助力重点项目建设",
    "探索“飞地经济”模式拓展发展空间",
    "“四个聚焦”推动{industry}产业集聚发展",
    "多措并举破解开发区用地瓶颈",
)
_HEADINGS = (
    ("强化顶层设计", "明确改革路径"),
    ("理顺管理体制", "激发内生动力"),
    ("创新招商方式", "提升招商实效"),
    ("完善基础设施", "提升承载能力"),
    ("优化营商环境", "提高服务效能"),
    ("加强要素保障", "破解发展瓶颈"),
    ("推进产业升级", "壮大主导产业"),
    ("深化开放合作", "拓展发展空间"),
    ("强化科技创新", "培育发展动能"),
    ("坚持绿色发展", "推动循环化改造"),
    ("健全考核机制", "压实工作责任"),
    ("深化人事薪酬制度改革", "激发干事创业活力"),
)
_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八")
_COMPANY_WORDS = (
    "鲁泰",
    "华鲁",
    "海晟",
    "金岭",
    "恒通",
    "瑞丰",
    "润华",
    "中科",
    "齐鲁",
    "宏达",
    "鼎信",
    "天元",
)
_COMPANY_KINDS = (
    "新材料",
    "智能装备",
    "生物科技",
    "化工",
    "电子科技",
    "汽车零部件",
    "食品",
    "精密制造",
)
_PARTNERS = (
    "山东大学",
    "中国科学院",
    "哈尔滨工业大学",
    "青岛科技大学",
    "中国海洋大学",
    "齐鲁工业大学",
)
_PLATFORMS = ("产业技术研究院", "院士工作站", "科技企业孵化器", "中试基地", "工程技术研究中心")
_INTRO_CLAUSES = (
    "聚焦主导产业精准发力",
    "持续深化体制机制改革",
    "全力推进“双招双引”",
    "着力优化营商环境",
    "加快推进园区基础设施建设",
    "大力实施创新驱动发展战略",
)
_SOURCES_FIXED = ("山东省商务厅开发区管理处", "大众日报", "山东省商务厅")
_SENTENCES = (
    "{zone}围绕{industry}产业，引进{company}等重点项目{n}个，总投资{amount}亿元。",
    "今年以来，{zone}新签约过亿元项目{n}个，其中过10亿元项目{small}个。",
    "{year}年，全区实现地区生产总值{amount}亿元，同比增长{pct}%。",
    "投资{amount}亿元建设标准厂房{area}万平方米，为中小企业提供“拎包入驻”服务。",
    "建立“一名领导、一个专班、一套方案”工作机制，实行项目全生命周期跟踪服务。",
    "开发区实行“全员聘任制”和“绩效工资制”，打破身份界限，有效激发了干部职工干事创业活力。",
    "{company}年产{n}万吨项目已竣工投产，预计年新增销售收入{amount}亿元。",
    "累计盘活闲置低效土地{land}亩，亩均税收达到{tax}万元。",
    "与{partner}合作共建{platform}，引进高层次人才{n}名。",
    "实际使用外资{usd}亿美元，同比增长{pct}%；外贸进出口额{amount}亿元。",
    "推行“拿地即开工”审批模式，项目开工时间平均压缩{small}个工作日。",
    "设立规模{amount}亿元的产业引导基金，撬动社会资本投向主导产业。",
    "园区内规模以上工业企业达到{n}家，其中高新技术企业{small}家。",
    "建成污水集中处理设施{small}座，实现园区企业污水集中处理全覆盖。",
    "组建专业招商小分队{small}支，赴长三角、珠三角等地开展精准招商{n}次。",
    "认真落实《关于促进开发区改革和创新发展的实施意见》（鲁政办发〔{policy_year}〕{small}号）要求，"
    "制定出台配套政策{small}项。",
    "全面推行“一窗受理、集成服务”，{n}项审批事项实现“一次办好”。",
)
_CLOSINGS = (
    "下一步，{zone}将继续深化改革创新，聚焦{industry}等主导产业，努力为全省开发区高质量发展贡献更多经验。",
    "下一步，{zone}将坚持问题导向，持续优化营商环境，加快建设现代化产业园区。",
)


@dataclass(frozen=True)
class CaseStory:
    """What one generated case says: title, source and body lines (headings included)."""

    title: str
    source: str
    zone: str
    city: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]  # (heading or "", paragraphs)


def _zone_for(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.35:
        county, city = rng.choice(sorted(_COUNTY_ZONES.items()))
        return f"{county}经济开发区", city
    city = rng.choice(CITIES)
    return f"{city[:-1]}{rng.choice(_ZONE_KINDS)}", city


def _figures(rng: random.Random, year: int, zone: str, industry: str, city: str) -> dict[str, str]:
    company = f"{city[:2]}{rng.choice(_COMPANY_WORDS)}{rng.choice(_COMPANY_KINDS)}有限公司"
    return {
        "zone": zone,
        "industry": industry,
        "company": company,
        "n": str(rng.randint(12, 96)),
        "small": str(rng.randint(2, 11)),
        "amount": f"{rng.randint(3, 480)}.{rng.randint(1, 9)}",
        "pct": f"{rng.randint(4, 36)}.{rng.randint(1, 9)}",
        "area": f"{rng.randint(2, 60)}.{rng.randint(1, 9)}",
        "land": str(rng.randint(300, 9800)),
        "tax": f"{rng.randint(18, 85)}.{rng.randint(1, 9)}",
        "usd": f"{rng.randint(1, 19)}.{rng.randint(1, 9)}",
        "partner": rng.choice(_PARTNERS),
        "platform": rng.choice(_PLATFORMS),
        "year": str(year - 1 if rng.random() < 0.6 else year),
        "policy_year": str(year - rng.randint(1, 3)),
    }


def _paragraph(rng: random.Random, year: int, zone: str, industry: str, city: str) -> str:
    picked = rng.sample(_SENTENCES, rng.randint(2, 4))
    return "".join(s.format(**_figures(rng, year, zone, industry, city)) for s in picked)


_TITLE_DRAWS = 50


def story(rng: random.Random, year: int, taken_titles: set[str]) -> CaseStory:
    """Draw one case: a unique title, a source and 2–5 numbered sections of body text."""
    for _ in range(_TITLE_DRAWS):
        zone, city = _zone_for(rng)
        industry = rng.choice(_INDUSTRIES)
        subject = zone if rng.random() < 0.6 else city
        action = rng.choice(_TITLE_ACTIONS).format(industry=industry)
        title = f"{subject}{action}"
        if title not in taken_titles:
            break
    else:
        # Large replicas (benchmarks) exhaust the title space: number the repeats, as sites
        # do for follow-up reports ("（二）").
        repeat = 2
        while f"{title}（{repeat}）" in taken_titles:
            repeat += 1
        title = f"{title}（{repeat}）"
    taken_titles.add(title)
    roll = rng.random()
    if roll < 0.5:
        source = f"{city}商务局"
    elif roll < 0.8:
        source = f"{zone}管委会"
    else:
        source = rng.choice(_SOURCES_FIXED)
    first, second = rng.sample(_INTRO_CLAUSES, 2)
    intro = (
        f"{zone}坚持把改革创新作为开发区发展的根本动力，{first}，{second}，"
        f"开发区综合实力和发展活力显著增强。"
    )
    sections: list[tuple[str, tuple[str, ...]]] = [("", (intro,))]
    for number, (left, right) in zip(
        _NUMERALS, rng.sample(_HEADINGS, rng.randint(2, 5)), strict=False
    ):
        heading = f"{number}、{left}，{right}" if rng.random() < 0.5 else f"{number}、{left}"
        paragraphs = tuple(
            _paragraph(rng, year, zone, industry, city) for _ in range(rng.randint(1, 2))
        )
        sections.append((heading, paragraphs))
    if rng.random() < 0.5:
        closing = rng.choice(_CLOSINGS).format(zone=zone, industry=industry)
        sections.append(("", (closing,)))
    return CaseStory(title, source, zone, city, tuple(sections))


def revision_paragraph(rng: random.Random) -> str:
    """A paragraph added when an editor revises a case: new figures, same voice."""
    return (
        f"截至目前，全区已累计完成固定资产投资{rng.randint(20, 400)}.{rng.randint(1, 9)}亿元，"
        f"新增市场主体{rng.randint(100, 2000)}户，各项改革任务均按时间节点推进。"
    )


def data_table_rows(rng: random.Random, zone: str, city: str) -> list[list[str]]:
    """Rows (header first) of a small key-project table for the data-table template."""
    rows = [["序号", "项目名称", "建设单位", "总投资（亿元）", "建设进度"]]
    progress = ("已竣工投产", "主体施工", "设备安装", "前期手续办理")
    for index in range(1, rng.randint(4, 7)):
        company = f"{city[:2]}{rng.choice(_COMPANY_WORDS)}{rng.choice(_COMPANY_KINDS)}有限公司"
        project = f"年产{rng.randint(2, 60)}万吨{rng.choice(_INDUSTRIES)}项目"
        amount = f"{rng.randint(1, 80)}.{rng.randint(1, 9)}"
        rows.append([str(index), project, company, amount, rng.choice(progress)])
    return rows


# ASCII punctuation that NFKC produced from the full-width forms the real page serves.
_FOLDED_PUNCTUATION = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}


def restore_full_width(line: str) -> str:
    """Undo NFKC folding of , : ; ( ) ! ? in Chinese text; keep them between ASCII alphanumerics."""
    out: list[str] = []
    for index, char in enumerate(line):
        full = _FOLDED_PUNCTUATION.get(char)
        if full is None:
            out.append(char)
            continue
        before = line[index - 1] if index > 0 else ""
        after = line[index + 1] if index + 1 < len(line) else ""
        # "1,000" or "10:30" are real ASCII punctuation; anything touching CJK text was folded.
        ascii_both_sides = (
            before.isascii() and before.isalnum() and after.isascii() and after.isalnum()
        )
        out.append(char if ascii_both_sides else full)
    return "".join(out)


def seed_paragraphs() -> list[str]:
    """The seed article's body lines with the full-width punctuation the real page serves."""
    text = (
        resources.files("caseharvest.replica")
        .joinpath("data")
        .joinpath(_SEED_FILE)
        .read_text(encoding="utf-8")
    )
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(_SEED_BODY_START))
    end = next(i for i, line in enumerate(lines) if line.endswith(_SEED_BODY_END))
    return [restore_full_width(line) for line in lines[start : end + 1] if line]
