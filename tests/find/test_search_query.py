"""The query language: words, phrases, AND/OR/NOT, parentheses, loose Chinese runs."""

from __future__ import annotations

import pytest

from caseharvest.archive.search_query import (
    And,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    chinese_pieces,
    parse_query,
    positive_terms,
)


def test_words_are_all_required_and_operators_bind_as_in_fts5() -> None:
    assert parse_query("招商 飞地") == And((Term("招商"), Term("飞地")))
    assert parse_query("招商 AND 飞地 OR 氢能") == Or(
        (And((Term("招商"), Term("飞地"))), Term("氢能"))
    )
    assert parse_query("招商 NOT 飞地") == And((Term("招商"), Not(Term("飞地"))))
    assert parse_query("(招商 OR 飞地) 氢能") == And(
        (Or((Term("招商"), Term("飞地"))), Term("氢能"))
    )


def test_a_quoted_phrase_is_exact_and_a_bare_long_chinese_run_is_loose() -> None:
    assert parse_query('"飞地经济"') == Term("飞地经济")
    assert parse_query("飞地经济") == Term("飞地经济", ("飞地", "经济"))
    assert parse_query("开发区") == Term("开发区")  # three characters: the trigram itself
    assert parse_query("hydrogen") == Term("hydrogen")  # only Chinese runs are cut
    assert parse_query('"and" OR x') == Or((Term("and"), Term("x")))


def test_pieces_keep_an_odd_last_character_with_its_neighbour() -> None:
    assert chinese_pieces("自由贸易试验区") == ("自由", "贸易", "试验区")
    assert chinese_pieces("营商环境改革") == ("营商", "环境", "改革")


def test_terms_under_not_neither_rank_nor_highlight() -> None:
    assert positive_terms(parse_query("招商 NOT (飞地 OR 氢能)")) == [Term("招商")]


@pytest.mark.parametrize("query", ["", "   ", "AND", "招商 AND", "(招商", "招商)", "NOT"])
def test_malformed_queries_say_what_is_wrong(query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse_query(query)
