"""Event dates resolved against the publication date, checked against the calendar."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from limes.intel.dates import find_dates, parse_publication

THURSDAY = date(2021, 6, 3)


def one(text: str, published: date = THURSDAY) -> tuple[date, date]:
    found = find_dates(text, published)
    assert len(found) == 1, found
    return found[0].start, found[0].end


@given(st.dates(date(1990, 1, 1), date(2040, 12, 31)), st.sampled_from(list(calendar.day_name)))
def test_a_weekday_is_the_latest_such_day_on_or_before_publication(
    published: date, weekday: str
) -> None:
    start, end = one(f"Fighters crossed on {weekday}, officials said.", published)
    assert start == end
    assert calendar.day_name[start.weekday()] == weekday
    assert published - timedelta(days=6) <= start <= published


@given(st.dates(date(1990, 1, 1), date(2040, 12, 31)))
def test_last_month_is_the_whole_previous_month(published: date) -> None:
    start, end = one("Last month 40 families fled.", published)
    first_of_this = published.replace(day=1)
    assert end == first_of_this - timedelta(days=1)
    assert start == end.replace(day=1)


def test_relative_and_absolute_expressions() -> None:
    assert one("yesterday") == (date(2021, 6, 2),) * 2
    assert one("three days ago") == (date(2021, 5, 31),) * 2
    assert one("in late 2017") == (date(2017, 9, 1), date(2017, 12, 31))
    assert one("in early 2021") == (date(2021, 1, 1), date(2021, 4, 30))
    assert one("on 28 May") == (date(2021, 5, 28),) * 2
    assert one("on May 30") == (date(2021, 5, 30),) * 2
    assert one("on 3 December") == (date(2020, 12, 3),) * 2  # the past one
    assert one("last week") == (date(2021, 5, 24), date(2021, 5, 30))
    assert one("in March 2019") == (date(2019, 3, 1), date(2019, 3, 31))
    assert one("in mid-April") == (date(2021, 4, 11), date(2021, 4, 20))


def test_relative_dates_need_a_publication_date() -> None:
    assert find_dates("on Monday and on 3 June 2021", None)[0].text == "3 June 2021"


def test_spans_point_at_the_words() -> None:
    text = "The trench was dug in May, the officer said on Wednesday."
    got = {d.span.text(text) for d in find_dates(text, THURSDAY)}
    assert got == {"May", "Wednesday"}


def test_publication_lines() -> None:
    assert parse_publication("Thursday 3 June 2021 14:05").isoformat() == (  # type: ignore[union-attr]
        "2021-06-03T14:05:00+00:00"
    )
    assert parse_publication("Published: 22 March 2022").date() == date(2022, 3, 22)  # type: ignore[union-attr]
    assert parse_publication("June 2021") is None
    assert parse_publication("Iraqi forces on alert as IS fighters gather") is None
