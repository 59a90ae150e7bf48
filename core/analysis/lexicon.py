"""Words the deterministic planner understands, and how text is split into them.

Everything here is data plus two tiny text helpers. The planner is deliberately
strict: a question word must be one of these words, a column or a value of the
data, or it refuses (see :mod:`core.analysis.planner`). Adding vocabulary is
the way to teach it new phrasings.
"""

from __future__ import annotations

import re
import unicodedata

from core.analysis.spec import AggregateFunc, ChartKind, FilterOp, TimeFreq


# Function words that carry no analysis meaning. Kept free of anything that could
# change the answer ("not", "per", "each", "over", "top", ...).
def _split(text: str) -> list[str]:
    return text.split()


STOPWORDS = frozenset(
    _split(
        """
    a an the of for in on at to from is are was were be been being am do does did
    whats who whom whose how show shows me us we i you my our your it its
    there their this that these those give tell list find get got see know please can
    could would should will want like let lets s with within during as about some any
    all overall whole entire value values data dataset table file sheet have has had
    display return compute calculate calculated work out kindly just then so across
    among while where when here they them is isn t thanks thank also only one
    """
    )
)

# Multi-word and single-word keywords: phrase → (kind, payload). Phrases are matched
# on singularised words, so "tips" and "tip" hit the same entries.
Keyword = tuple[str, object]

_AGGS: dict[str, AggregateFunc] = {
    "avg": "mean",
    "average": "mean",
    "mean": "mean",
    "arithmetic mean": "mean",
    "total": "sum",
    "sum": "sum",
    "median": "median",
    "max": "max",
    "maximum": "max",
    "min": "min",
    "minimum": "min",
    "std": "std",
    "stdev": "std",
    "std dev": "std",
    "standard deviation": "std",
    "distinct": "nunique",
    "unique": "nunique",
    "different": "nunique",
}
_SUPERLATIVES: dict[str, bool] = {  # word → descending?
    "highest": True,
    "largest": True,
    "biggest": True,
    "greatest": True,
    "most": True,
    "lowest": False,
    "smallest": False,
    "least": False,
    "fewest": False,
}
_COMPARATORS: dict[str, FilterOp] = {
    "over": ">",
    "above": ">",
    "more than": ">",
    "greater than": ">",
    "higher than": ">",
    "after": ">",
    ">": ">",
    "at least": ">=",
    "since": ">=",
    ">=": ">=",
    "under": "<",
    "below": "<",
    "less than": "<",
    "fewer than": "<",
    "lower than": "<",
    "before": "<",
    "<": "<",
    "at most": "<=",
    "until": "<=",
    "up to": "<=",
    "<=": "<=",
    "=": "==",
    "equal": "==",
    "equals": "==",
    "equal to": "==",
    "between": "between",
}
_CHARTS: dict[str, ChartKind] = {
    "bar chart": "bar",
    "bar graph": "bar",
    "bar plot": "bar",
    "line chart": "line",
    "line graph": "line",
    "line plot": "line",
    "pie chart": "pie",
    "pie": "pie",
    "histogram": "histogram",
    "scatter": "scatter",
    "scatter plot": "scatter",
    "scatterplot": "scatter",
    "box plot": "box",
    "boxplot": "box",
    "box and whisker": "box",
    "heatmap": "heatmap",
    "heat map": "heatmap",
}
_TIME_ADVERBS: dict[str, TimeFreq] = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
}
TIME_UNITS: dict[str, TimeFreq] = {
    "day": "day",
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "year": "year",
}
_PLAIN: dict[str, str] = {
    "how many": "count",
    "number": "count",
    "count": "count",
    "row": "rows",
    "record": "rows",
    "entry": "rows",
    "observation": "rows",
    "by": "group",
    "per": "group",
    "each": "group",
    "for each": "group",
    "for every": "group",
    "every": "group",
    "grouped by": "group",
    "broken down by": "group",
    "split by": "group",
    "breakdown by": "group",
    "vs": "vs",
    "versus": "vs",
    "compared to": "vs",
    "compared with": "vs",
    "compare": "vs",
    "against": "vs",
    "and": "and",
    "or": "or",
    "not": "neg",
    "non": "neg",
    "no": "neg",
    "excluding": "neg",
    "except": "neg",
    "other than": "neg",
    "top": "top",
    "bottom": "bottom",
    "which": "which",
    "what": "which",
    "distribution": "distribution",
    "spread": "distribution",
    "correlation": "correlation",
    "correlate": "correlation",
    "correlated": "correlation",
    "correlation matrix": "correlation",
    "describe": "describe",
    "summary": "describe",
    "summary statistic": "describe",
    "summarize": "describe",
    "summarise": "describe",
    "statistic": "describe",
    "stat": "describe",
    "chart": "chart",
    "plot": "chart",
    "graph": "chart",
    "visualize": "chart",
    "visualise": "chart",
    "draw": "chart",
    "most common": "mode",
    "most frequent": "mode",
    "most popular": "mode",
    "least common": "antimode",
    "least frequent": "antimode",
    "least popular": "antimode",
    # "average close of GOOG": measure nouns allowed only right before "of <column>"
    "close": "filler",
    "closing": "filler",
    "closing price": "filler",
    "price": "filler",
    "level": "filler",
    "amount": "filler",
}
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        _split("zero one two three four five six seven eight nine ten eleven twelve")
    )
}
NUMBER_WORDS.pop("one")  # "one" is mostly a pronoun ("which one"); digits still work


def _keywords() -> dict[str, Keyword]:
    table: dict[str, Keyword] = {}
    table.update({k: ("agg", v) for k, v in _AGGS.items()})
    table.update({k: ("super", v) for k, v in _SUPERLATIVES.items()})
    table.update({k: ("cmp", v) for k, v in _COMPARATORS.items()})
    table.update({k: ("chart", v) for k, v in _CHARTS.items()})
    table.update({k: ("time", v) for k, v in _TIME_ADVERBS.items()})
    table.update({k: ("unit", v) for k, v in TIME_UNITS.items()})
    table.update({k: (v, None) for k, v in _PLAIN.items()})
    # keyed the way questions are looked up: singular words
    return {phrase_key(k.split()): v for k, v in table.items()}


# Abbreviations found in column names, expanded so "life expectancy" finds lifeExp.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "exp": ("expectancy",),
    "pop": ("population",),
    "percap": ("per capita", "per cap", "per person"),
    "cap": ("capita",),
    "qty": ("quantity",),
    "amt": ("amount",),
    "num": ("number",),
    "no": ("number",),
    "pct": ("percent", "percentage"),
    "perc": ("percent", "percentage"),
    "temp": ("temperature",),
    "dept": ("department",),
    "yr": ("year",),
    "rev": ("revenue",),
    "avg": ("average",),
    "lat": ("latitude",),
    "lon": ("longitude",),
    "lng": ("longitude",),
    "gdp": ("gdp", "gross domestic product"),
}

# Values that people name differently from the data ("saturday" for "Sat").
VALUE_ALIASES: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "mon monday",
        "tue tues tuesday",
        "wed weds wednesday",
        "thu thur thurs thursday",
        "fri friday",
        "sat saturday",
        "sun sunday",
        "jan january",
        "feb february",
        "mar march",
        "apr april",
        "jun june",
        "jul july",
        "aug august",
        "sep sept september",
        "oct october",
        "nov november",
        "dec december",
        "female woman women lady",
        "male man men gentleman",
    )
)

# Values of yes/no columns; never matched as words ("no" is a negation).
BOOLEAN_WORDS = frozenset({"yes", "no", "true", "false", "y", "n", "t", "f", "0", "1"})
AFFIRMATIVE = frozenset({"yes", "true", "y", "t", "1"})

CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[<>]=?|=|\d+(?:[.,]\d+)*|[a-z]+")


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text``: accents stripped, camelCase and snake_case split."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = CAMEL_BOUNDARY.sub(" ", text).replace("_", " ")
    return _WORD.findall(text.lower())


_KEEP_S = ("ss", "us", "is")


def singular(word: str) -> str:
    """A crude singular: enough to match "tips"→tip and "countries"→country.

    Applied to both the question and the data, so odd stems ("species"→"specie")
    still match each other.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith(_KEEP_S) or not word.endswith("s"):
        return word
    return word[:-1]


def phrase_key(words: list[str] | tuple[str, ...]) -> str:
    return " ".join(singular(w) for w in words)


KEYWORDS: dict[str, Keyword] = _keywords()
