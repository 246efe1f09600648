"""The query language of `caseharvest search`, parsed into a tree the search index compiles.

Words are separated by spaces and all must match (``AND`` may be written); ``OR`` and ``NOT``
combine them, parentheses group them, and ``"…"`` is an exact phrase. Every word matches as a
substring: Chinese has no spaces between words, so 招商 must find 招商引资. A bare run of four
or more Chinese characters is matched loosely too: it also finds cases holding its
two-character pieces apart (飞地经济 → 飞地 and 经济), ranked after the cases holding it whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATORS = ("AND", "OR", "NOT")
# CJK unified ideographs (with extension A) and compatibility ideographs.
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
# A bare Chinese run at least this long is also matched by its pieces.
LOOSE_MIN_LENGTH = 4


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; the message says where."""


@dataclass(frozen=True)
class Term:
    """A substring to find in a case's title or text.

    *pieces* is empty for an exact term; for a loose one, the two-character pieces (the last
    one three characters when the run is odd) that a case must all hold.
    """

    text: str
    pieces: tuple[str, ...] = ()

    @property
    def loose(self) -> bool:
        return bool(self.pieces)


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | And | Or | Not


def chinese_pieces(run: str) -> tuple[str, ...]:
    """飞地经济 → (飞地, 经济); 自由贸易试验区 → (自由, 贸易, 试验区).

    Most Chinese words are two characters long: cutting a run into pairs finds its words
    more often than not, and when it does not the pieces are rare strings that make the
    loose match hardly looser than the exact one, never a flood of unrelated cases.
    """
    pieces = [run[i : i + 2] for i in range(0, len(run) - len(run) % 2, 2)]
    if len(run) % 2:
        pieces[-1] += run[-1]
    return tuple(pieces)


def _word(text: str) -> Term:
    if len(text) >= LOOSE_MIN_LENGTH and _CJK.match(text):
        return Term(text, chinese_pieces(text))
    return Term(text)


_TOKEN = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<paren>[()])|(?P<word>[^\s"()]+)')


def _tokens(query: str) -> list[str | Term]:
    """Operators and parentheses as strings, words and phrases as terms."""
    tokens: list[str | Term] = []
    for match in _TOKEN.finditer(query):
        if match.group("paren"):
            tokens.append(match.group("paren"))
        elif match.group("word") is not None:
            word = match.group("word")
            tokens.append(word if word in OPERATORS else _word(word))
        else:
            phrase = " ".join(match.group("phrase").split())
            if phrase:
                tokens.append(Term(phrase))
    return tokens


class _Parser:
    """Recursive descent: NOT binds tightest, then AND (also implied by a space), then OR."""

    def __init__(self, tokens: list[str | Term]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | Term | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str | Term:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self.either()
        if self.peek() is not None:
            raise QuerySyntaxError(f"unexpected {self.peek()!r} in the query")
        return node

    def either(self) -> Node:
        children = [self.both()]
        while self.peek() == "OR":
            self.take()
            children.append(self.both())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def both(self) -> Node:
        children = [self.negated()]
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.take()
            children.append(self.negated())
        return children[0] if len(children) == 1 else And(tuple(children))

    def negated(self) -> Node:
        if self.peek() == "NOT":
            self.take()
            return Not(self.negated())
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("the query ends where a word was expected")
        if token == "(":
            self.take()
            node = self.either()
            if self.peek() != ")":
                raise QuerySyntaxError("a '(' is never closed")
            self.take()
            return node
        if isinstance(token, Term):
            self.take()
            return token
        raise QuerySyntaxError(f"{token!r} needs a word before and after it (or quote it)")


def parse_query(query: str) -> Node:
    """The tree of *query*; :class:`QuerySyntaxError` when it is empty or malformed."""
    tokens = _tokens(query)
    if not tokens:
        raise QuerySyntaxError("the query is empty")
    return _Parser(tokens).parse()


def positive_terms(node: Node) -> list[Term]:
    """Terms whose presence makes a case match (not under a NOT): what ranks and highlights."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return []
    return [term for child in node.children for term in positive_terms(child)]
