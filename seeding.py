"""The six standard offices with their default steps, and the demo cohorts and accounts.

Everything here is only a starting point: admins edit offices and steps later.
Each function is safe to run twice: it adds what is missing and changes nothing else.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

import audit
from database import db
from models import Account, Cohort, CohortKind, Office, Role, School, Step, StepMode
from wording import say

STANDARD_OFFICES = [
    # code, English, Chinese, location, hours, phone, instructions
    (
        "LIB",
        "Library",
        "图书馆",
        "Library, ground floor, circulation desk (Chashan campus)",
        "Mon–Fri 8:00–21:00, Sat–Sun 8:30–17:00",
        "0577-86689602",
        "Return every book you borrowed. Fees can be paid at the circulation desk by card or WeChat Pay.",
    ),
    (
        "DORM",
        "Student Housing",
        "学生公寓管理中心",
        "International Student Apartments, Building 5, room 101",
        "Mon–Fri 8:30–11:30, 14:00–17:00",
        "0577-86689715",
        "Empty and clean your room first; staff inspect it with you and take back the keys.",
    ),
    (
        "FIN",
        "Finance Office",
        "计划财务处",
        "Administration Building, 2nd floor, room 208",
        "Mon–Fri 8:30–11:30, 14:00–17:00",
        "0577-86689130",
        "Tuition and accommodation fees must be paid in full. You only need to go there if this step is blocked.",
    ),
    (
        "CARD",
        "Campus Card Centre",
        "校园卡管理中心",
        "Student Service Centre, ground floor, window 3",
        "Mon–Fri 8:30–16:30",
        "0577-86689890",
        "The balance on your card is refunded to your bank account; bring the card itself.",
    ),
    (
        "INTL",
        "International Students Office",
        "留学生管理办公室",
        "School of International Studies, room 105",
        "Mon–Fri 8:30–11:30, 14:00–17:00",
        "0577-86689318",
        "Residence permit and insurance are checked, and your departure date is recorded.",
    ),
    (
        "SCHOOL",
        "School office",
        "学院办公室",
        "Your school's office (see the notice board of your school)",
        "Mon–Fri 8:30–11:30, 14:00–17:00",
        "0577-86689251",
        "Your school checks that every other office has cleared you and signs you off.",
    ),
]

# The same offices' location, hours and instructions in Chinese, as the university's Chinese notice gives them.
STANDARD_OFFICES_ZH = {
    "LIB": (
        "图书馆一楼流通服务台（茶山校区）",
        "周一至周五 8:00–21:00，周六、周日 8:30–17:00",
        "请归还所借全部图书。欠费可在流通服务台刷卡或用微信支付缴清。",
    ),
    "DORM": (
        "国际学生公寓5号楼101室",
        "周一至周五 8:30–11:30，14:00–17:00",
        "请先清空并打扫房间；工作人员会与你一起查验房间并收回钥匙。",
    ),
    "FIN": (
        "行政楼二楼208室",
        "周一至周五 8:30–11:30，14:00–17:00",
        "学费和住宿费须全部缴清。只有此事项受阻时才需要前往办理。",
    ),
    "CARD": ("学生服务中心一楼3号窗口", "周一至周五 8:30–16:30", "校园卡余额退至你的银行账户；请带上校园卡。"),
    "INTL": (
        "国际教育学院105室",
        "周一至周五 8:30–11:30，14:00–17:00",
        "核查居留许可和保险，并登记你的离境日期。",
    ),
    "SCHOOL": (
        "你所在学院的办公室（见学院公告栏）",
        "周一至周五 8:30–11:30，14:00–17:00",
        "学院核实其他部门均已办结后，为你办结离校手续。",
    ),
}

STANDARD_STEPS = [
    # office, English title, Chinese title, mode, what to bring (English, Chinese), prerequisite offices
    ("LIB", "Cancel your library card", "注销借书证", StepMode.SELF_SERVICE, ("", ""), ()),
    (
        "DORM",
        "Check out of student housing",
        "办理退宿手续",
        StepMode.STAFF,
        ("Room keys, key-deposit receipt", "房间钥匙、钥匙押金收据"),
        (),
    ),
    (
        "FIN",
        "Fees settled",
        "结清学费和住宿费",
        StepMode.AUTOMATIC,
        ("Payment receipts if you paid recently", "近期缴费的，请带缴费收据"),
        (),
    ),
    (
        "CARD",
        "Return your campus card",
        "退还校园卡",
        StepMode.STAFF,
        ("Campus card, bank card for the refund", "校园卡、用于退款的银行卡"),
        (),
    ),
    (
        "INTL",
        "Residence permit and departure check",
        "居留许可及离境登记",
        StepMode.STAFF,
        ("Passport, residence permit, flight booking if you have one", "护照、居留许可；已订机票的，请带上行程单"),
        (),
    ),
    (
        "SCHOOL",
        "School sign-off",
        "学院审核",
        StepMode.STAFF,
        ("Student ID card", "学生证"),
        ("LIB", "DORM", "FIN", "CARD", "INTL"),
    ),
]

DEMO_COHORTS = [
    # code, English, Chinese, kind, certificate place ("": each student's school's place, DEMO_SCHOOLS)
    ("UG2011", "2011 undergraduates", "2011级本科生", CohortKind.DEGREE, ("", "")),
    ("PG2014", "2014 postgraduates", "2014级研究生", CohortKind.DEGREE, ("", "")),
    (
        "NDSHORT",
        "Short-term Chinese language students",
        "短期汉语进修生",
        CohortKind.NON_DEGREE,
        ("School of International Studies, room 105", "国际教育学院105室"),
    ),
    (
        "NDCI",
        "Confucius Institute students",
        "孔子学院奖学金生",
        CohortKind.NON_DEGREE,
        ("School of International Studies, room 105", "国际教育学院105室"),
    ),
    (
        "NDLONG",
        "Long-term Chinese language students",
        "长期汉语进修生",
        CohortKind.NON_DEGREE,
        ("School of International Studies, room 105", "国际教育学院105室"),
    ),
]

# The schools of seed_data.csv: name (as in the CSV), Chinese name, where their students collect certificates
# (English, Chinese).
DEMO_SCHOOLS = [
    (
        "School of Clinical Medicine",
        "临床医学院",
        (
            "School of Clinical Medicine office, Building 1, room 305 (Chashan campus)",
            "临床医学院办公室，1号楼305室（茶山校区）",
        ),
    ),
    (
        "School of International Studies",
        "国际教育学院",
        ("School of International Studies, room 105 (Chashan campus)", "国际教育学院105室（茶山校区）"),
    ),
    (
        "School of Nursing",
        "护理学院",
        ("School of Nursing office, Building 4, room 210 (Chashan campus)", "护理学院办公室，4号楼210室（茶山校区）"),
    ),
    (
        "School of Ophthalmology and Optometry",
        "眼视光学院",
        (
            "School of Ophthalmology and Optometry office, Building 6, room 118 (Chashan campus)",
            "眼视光学院办公室，6号楼118室（茶山校区）",
        ),
    ),
    (
        "School of Pharmaceutical Sciences",
        "药学院",
        (
            "School of Pharmaceutical Sciences office, Building 3, room 221 (Chashan campus)",
            "药学院办公室，3号楼221室（茶山校区）",
        ),
    ),
]
DEMO_DATA = say("demo data")  # the audit reason of everything the demo adds

# What older demo data printed as the place: not a place anyone can find.
OLD_DEMO_PLACE = "Your school's office"

# user name, role, office code, school name, display name; password: "<user name>-demo"
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, None, None, "Demo administrator"),
    ("library", Role.STAFF, "LIB", None, "Library counter"),
    ("housing", Role.STAFF, "DORM", None, "Student housing"),
    ("finance", Role.STAFF, "FIN", None, "Finance office"),
    ("card", Role.STAFF, "CARD", None, "Campus card centre"),
    ("intl", Role.STAFF, "INTL", None, "International students office"),
    ("clinical", Role.STAFF, "SCHOOL", "School of Clinical Medicine", "Clinical Medicine school office"),
    ("sis", Role.STAFF, "SCHOOL", "School of International Studies", "International Studies school office"),
    ("desk", Role.DESK, None, None, "Certificate desk"),
    ("desk-clinical", Role.DESK, "SCHOOL", "School of Clinical Medicine", "Clinical Medicine certificate desk"),
]


def documents_for(kind: CohortKind, chinese: bool = False) -> str:
    """The certificates a cohort's students receive, by default (in English, or in Chinese)."""
    if kind == CohortKind.DEGREE:
        return "毕业证书和学位证书" if chinese else "Graduation certificate and degree certificate"
    return "结业证书" if chinese else "Certificate of completion"


def _fill_chinese(thing, twins: dict[str, tuple[str, str]]) -> list[str]:
    """Set Chinese twins still empty where the English is still the standard text; returns the fields set."""
    filled = []
    for field, (english, chinese) in twins.items():
        if chinese and not getattr(thing, f"{field}_zh") and getattr(thing, field) == english:
            setattr(thing, f"{field}_zh", chinese)
            filled.append(f"{field}_zh")
    return filled


def ensure_standard_offices() -> list[str]:
    """Create the standard offices and their default steps where missing; returns what was added."""
    added = []
    offices = {o.code: o for o in db.session.scalars(select(Office))}
    for code, name_en, name_zh, location, hours, phone, instructions in STANDARD_OFFICES:
        location_zh, hours_zh, instructions_zh = STANDARD_OFFICES_ZH[code]
        if code not in offices:
            offices[code] = Office(
                code=code,
                name_en=name_en,
                name_zh=name_zh,
                location=location,
                hours=hours,
                phone=phone,
                instructions=instructions,
            )
            db.session.add(offices[code])
            added.append(f"office {code}")
        twins = {"location": (location, location_zh), "hours": (hours, hours_zh)}
        twins["instructions"] = (instructions, instructions_zh)
        filled = _fill_chinese(offices[code], twins)
        if filled and f"office {code}" not in added:
            added.append(f"office {code}: {', '.join(filled)}")
    db.session.flush()
    steps_by_office = {}
    for position, (code, title_en, title_zh, mode, bring, requires) in enumerate(STANDARD_STEPS, start=1):
        office = offices[code]
        if office.steps:
            _fill_standard_step(office.steps[0], title_en, office, bring, added)
        else:
            step = Step(
                office=office,
                title_en=title_en,
                title_zh=title_zh,
                mode=mode,
                what_to_bring=bring[0],
                what_to_bring_zh=bring[1],
                position=position * 10,
                instructions=office.instructions,
                instructions_zh=office.instructions_zh,
            )
            step.prerequisites = [steps_by_office[required] for required in requires if required in steps_by_office]
            db.session.add(step)
            added.append(f"step {title_en}")
        steps_by_office[code] = office.steps[0]
    if added:
        db.session.flush()
        audit.record("setup.standard-offices", None, after=", ".join(added))
    return added


def _fill_standard_step(step: Step, title_en: str, office: Office, bring: tuple[str, str], added: list[str]) -> None:
    """A standard step made before the Chinese twins: its Chinese instructions and what to bring, where empty."""
    if step.title_en != title_en:
        return
    twins = {"what_to_bring": bring, "instructions": (office.instructions, office.instructions_zh)}
    filled = _fill_chinese(step, twins)
    if filled:
        added.append(f"step {title_en}: {', '.join(filled)}")


def ensure_demo_cohorts(today: date) -> list[Cohort]:
    """Demo cohorts whose window includes today; existing ones are left as they are."""
    existing = {c.code: c for c in db.session.scalars(select(Cohort))}
    for code, name_en, name_zh, kind, (place, place_zh) in DEMO_COHORTS:
        if code in existing:
            _replace_old_demo_place(existing[code], place)
            _fill_chinese(existing[code], {"certificate_place": (place, place_zh), "documents": _documents(kind)})
            continue
        cohort = Cohort(
            code=code,
            name_en=name_en,
            name_zh=name_zh,
            kind=kind,
            opens_on=today - timedelta(days=7),
            closes_on=today + timedelta(days=14),
            certificate_day=today + timedelta(days=10),
            certificate_hours="08:30–16:00",
            certificate_place=place,
            certificate_place_zh=place_zh,
            documents=documents_for(kind),
            documents_zh=documents_for(kind, chinese=True),
        )
        db.session.add(cohort)
        existing[code] = cohort
        audit.record(
            "cohort.created", None, subject=code, after=f"{cohort.opens_on} – {cohort.closes_on}", reason=DEMO_DATA
        )
    db.session.flush()
    return [existing[code] for code, *_ in DEMO_COHORTS]


def _documents(kind: CohortKind) -> tuple[str, str]:
    return documents_for(kind), documents_for(kind, chinese=True)


def _replace_old_demo_place(cohort: Cohort, place: str) -> None:
    """A demo cohort made by an older version printed "Your school's office": give it today's place."""
    if cohort.certificate_place == OLD_DEMO_PLACE:
        cohort.certificate_place = place
        audit.record(
            "cohort.changed",
            None,
            subject=cohort.code,
            before=f"certificate_place: {OLD_DEMO_PLACE}",
            after=f"certificate_place: {place or '(none: the school office of each student)'}",
            reason=DEMO_DATA,
        )


def ensure_demo_schools() -> None:
    """Chinese names and certificate places of the demo schools, where still empty (the import creates them)."""
    schools = {s.name: s for s in db.session.scalars(select(School))}
    for name, name_zh, (place, place_zh) in DEMO_SCHOOLS:
        school = schools.get(name)
        if school is None:
            continue
        if not school.name_zh:
            school.name_zh = name_zh
        if not school.certificate_place:
            school.certificate_place = place
            audit.record("school.changed", None, subject=name, after=f"certificate_place: {place}", reason=DEMO_DATA)
        if _fill_chinese(school, {"certificate_place": (place, place_zh)}):
            audit.record(
                "school.changed", None, subject=name, after=f"certificate_place_zh: {place_zh}", reason=DEMO_DATA
            )
    db.session.flush()


def demo_password(username: str) -> str:
    return f"{username}-demo"


def ensure_demo_accounts(create_account) -> list[tuple[str, str, str]]:
    """Demo staff, desk and admin accounts; returns (user name, password, what it is) for each."""
    offices = {o.code: o for o in db.session.scalars(select(Office))}
    schools = {s.name: s for s in db.session.scalars(select(School))}
    logins = []
    for username, role, office_code, school_name, display in DEMO_ACCOUNTS:
        exists = db.session.scalar(select(Account).where(Account.username == username))
        if exists is None:
            school = schools.get(school_name) if school_name else None
            if school_name and school is None:
                school = School(name=school_name)
                db.session.add(school)
                schools[school_name] = school
                db.session.flush()
            create_account(username, role, offices.get(office_code), school, demo_password(username), display)
        logins.append((username, demo_password(username), display))
    return logins
