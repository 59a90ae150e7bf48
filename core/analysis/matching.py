"""Match question words to a table's columns, its values and the planner's keywords.

A question becomes a list of :class:`Token`. Matching is longest-phrase-first on
singularised words, so "total bill" wins over "total" and "gdp per cap" wins over
"per". At equal length a column beats a keyword, which beats a data value, which
beats a partial column name ("bill" for ``total_bill``). Words that match nothing
and are not stopwords become ``unknown`` tokens: the planner refuses on those.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
from pandas.api import types as ptypes

from core.analysis.columns import ColumnInfo, describe_columns
from core.analysis.lexicon import (
    ABBREVIATIONS,
    BOOLEAN_WORDS,
    KEYWORDS,
    NUMBER_WORDS,
    STOPWORDS,
    VALUE_ALIASES,
    phrase_key,
    singular,
    words_of,
)

_MAX_VALUE_WORDS = 6
_MAX_DISTINCT_VALUES = 5000
_MAX_VARIANTS = 16
_PRIORITY = {"column": 0, "keyword": 1, "value": 2, "partial": 3}


@dataclass(frozen=True)
class Token:
    """One recognised piece of a question."""

    kind: str
    """``column``, ``value``, ``number``, ``unknown`` or a keyword kind (``agg``, ``group``...)."""
    text: str
    column: str | None = None
    payload: object = None
    options: tuple[tuple[str, object], ...] = ()
    """For values found in several columns: every (column, value) it could mean."""


@dataclass(frozen=True)
class _Entry:
    source: str  # column | keyword | value | partial
    kind: str
    column: str | None = None
    payload: object = None


@dataclass
class Vocabulary:
    """Everything a question about one table can refer to."""

    columns: dict[str, ColumnInfo]
    phrases: dict[str, list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    extra_words: set[str] = field(default_factory=set)
    max_words: int = 1

    def add(self, key: str, entry: _Entry) -> None:
        if not key:
            return
        bucket = self.phrases[key]
        if entry not in bucket:
            bucket.append(entry)
        self.max_words = max(self.max_words, key.count(" ") + 1)


def _column_variants(name: str) -> set[str]:
    words = words_of(name)
    if not words:
        return set()
    choices = [(w, *ABBREVIATIONS.get(w, ())) for w in words]
    variants = {
        " ".join(combo) for combo in itertools.islice(itertools.product(*choices), _MAX_VARIANTS)
    }
    variants.add("".join(words))
    return {phrase_key(v.split()) for v in variants}


def _reserved(word: str) -> bool:
    """Words that must keep their keyword or stopword meaning."""
    return (
        word in STOPWORDS
        or singular(word) in KEYWORDS
        or word in BOOLEAN_WORDS
        or word in NUMBER_WORDS
    )


def _value_keys(value: str) -> set[str]:
    words = words_of(value)
    if not words or len(words) > _MAX_VALUE_WORDS or all(w.isdigit() for w in words):
        return set()
    if len(words) == 1 and (_reserved(words[0]) or len(words[0]) < 2):
        return set()
    keys = {phrase_key(words)}
    for group in VALUE_ALIASES:
        if " ".join(words) in group:
            keys |= {singular(alias) for alias in group}
    return keys


def _add_values(vocab: Vocabulary, name: str, series: pd.Series) -> None:
    if not (ptypes.is_string_dtype(series) or ptypes.is_object_dtype(series)) and not isinstance(
        series.dtype, pd.CategoricalDtype
    ):
        return
    distinct = series.dropna().unique()
    if len(distinct) > _MAX_DISTINCT_VALUES:
        return
    for value in distinct:
        if isinstance(value, str):
            for key in _value_keys(value):
                vocab.add(key, _Entry("value", "value", name, value))


def build_vocabulary(frame: pd.DataFrame, table_name: str = "") -> Vocabulary:
    """The columns, column synonyms and categorical values of ``frame``."""
    vocab = Vocabulary(columns=describe_columns(frame))
    word_owners: dict[str, set[str]] = defaultdict(set)
    for name, info in vocab.columns.items():
        for key in _column_variants(name):
            vocab.add(key, _Entry("column", "column", name))
        if info.role != "datetime":  # "orders" must not mean `order_date`
            for word in words_of(name):
                word_owners[singular(word)].add(name)
        if info.role in ("category", "boolean"):
            _add_values(vocab, name, frame[name])
    for word, owners in word_owners.items():
        if len(owners) == 1 and len(word) >= 3 and not _reserved(word) and word.isalpha():
            vocab.add(word, _Entry("partial", "column", next(iter(owners))))
    stem = table_name.rsplit(".", 1)[0] if "." in table_name else table_name
    vocab.extra_words = {singular(w) for w in words_of(stem)}
    for key, (kind, payload) in KEYWORDS.items():
        vocab.add(key, _Entry("keyword", kind, None, payload))
    return vocab


def _number(word: str) -> float | int | None:
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    if not word[:1].isdigit():
        return None
    text = word.replace(",", "")
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def _token(text: str, entries: list[_Entry]) -> Token:
    best = min(_PRIORITY[e.source] for e in entries)
    chosen = [e for e in entries if _PRIORITY[e.source] == best]
    first = chosen[0]
    if first.source == "value":
        options = tuple((str(e.column), e.payload) for e in chosen)
        return Token("value", text, first.column, first.payload, options)
    if first.source in ("column", "partial"):
        columns = tuple(dict.fromkeys(str(e.column) for e in chosen))
        return Token("column", text, columns[0], None, tuple((c, None) for c in columns))
    return Token(first.kind, text, None, first.payload)


def tokenize(question: str, vocab: Vocabulary) -> list[Token]:
    """Longest-match the question against ``vocab``; stopwords are dropped."""
    words = words_of(question)
    keys = [singular(w) for w in words]
    tokens: list[Token] = []
    i = 0
    while i < len(words):
        for length in range(min(vocab.max_words, len(words) - i), 0, -1):
            entries = vocab.phrases.get(" ".join(keys[i : i + length]))
            if entries:
                tokens.append(_token(" ".join(words[i : i + length]), entries))
                i += length
                break
        else:
            word = words[i]
            number = _number(word)
            if number is not None:
                tokens.append(Token("number", word, payload=number))
            elif (
                word not in STOPWORDS
                and keys[i] not in STOPWORDS
                and keys[i] not in vocab.extra_words
            ):
                tokens.append(Token("unknown", word))
            i += 1
    return tokens
