"""Figures and their units: the unit a question asks in, the unit an answer's figure is given in,
and ranges of figures that a question's figure falls in.

"What is the energy use per cycle in kWh?" cannot be answered "9.5 litres": a figure in a unit of
another quantity (volume, not energy) answers another question, however alike the sentences
read. Units compare by the quantity they measure, so "kWh" and "Wh" agree, and "kg" and "lb".
A table's row "2 - 4 years" is the one "a 2 year old" asks about (`range_holds`).
"""

from __future__ import annotations

import re

from bot.words import MONTHS, stem

# Units by the quantity they measure, as written after a figure (compared in lower case).
_QUANTITIES = {
    "energy": "kwh wh mwh kj mj j joule joules kcal calorie calories",
    "power": "w kw mw watt watts kilowatt kilowatts",
    "volume": "l ml cl litre litres liter liters millilitre millilitres gallon gallons pint pints",
    "mass": "kg g mg tonne tonnes ton tons lb lbs pound pounds oz ounce ounces kilogram kilograms gram grams",
    "length": "mm cm m km in inch inches ft foot feet mile miles metre metres meter meters millimetre millimetres "
              "centimetre centimetres kilometre kilometres",
    "pressure": "bar psi kpa pa mbar hpa",
    "torque": "nm",
    "speed": "mph kph km/h mbps gbps kbps",
    "frequency": "hz khz mhz ghz",
    "data": "kb mb gb tb byte bytes",
    "temperature": "°c °f",
    "duration": "s sec secs second seconds min mins minute minutes h hr hrs hour hours day days week weeks "
                "month months year years",
    "charge": "mah ah",
    "voltage": "v volt volts",
}
_QUANTITY_OF = {unit: quantity for quantity, units in _QUANTITIES.items() for unit in units.split()}
_UNIT = r"(?:°[cf]\b|km/h|[a-z]+\b)"
# "in kWh", "how many litres", "how much ... in kg": the unit a question asks in.
_ASKED_IN = re.compile(rf"\b(?:in|how\s+many)\s+({_UNIT})", re.I)
# A figure and the unit after it: "9.5 litres", "1.02 kWh", "25 °C", "30kg".
_GIVEN_IN = re.compile(rf"\d(?:[\d,]*\d)?(?:\.\d+)?\s*({_UNIT})", re.I)
_CURRENCY = r"[£$€¥]"


def is_unit(word: str) -> bool:
    """Whether a word is a unit of measure this module knows ("kg", "litres", "°C")."""
    return word.lower() in _QUANTITY_OF


def asked_quantity(question: str) -> tuple[str, str] | None:
    """(the unit as written, its quantity) that the question asks its figure in, or None."""
    for m in _ASKED_IN.finditer(question):
        quantity = _QUANTITY_OF.get(m.group(1).lower())
        if quantity is not None:
            return m.group(1), quantity
    return None


def given_quantities(text: str) -> dict[str, str]:
    """The quantities the figures of `text` are given in: quantity -> a unit as written."""
    found: dict[str, str] = {}
    for m in _GIVEN_IN.finditer(text):
        quantity = _QUANTITY_OF.get(m.group(1).lower())
        if quantity is not None:
            found.setdefault(quantity, m.group(1))
    return found


def in_another_unit(question: str, answer: str) -> str:
    """Why a figure cannot answer a question asking in a unit ('' when nothing shows it): the
    answer's figures are all in units of another quantity ("9.5 litres" for "in kWh")."""
    asked = asked_quantity(question)
    given = given_quantities(answer)
    if asked is None or not given or asked[1] in given:
        return ""
    return f"the answer is in {next(iter(given.values()))}, not {asked[0]}"


# The quantity an everyday "how ...?" question asks for without naming a unit: "How heavy is it?"
# a mass, "How much is the Ridgeback 3?" an amount of money.
_HOW_ADJECTIVES = {"heavy": ("mass",), "tall": ("length",), "high": ("length",), "wide": ("length",),
                   "deep": ("length",), "far": ("length",), "long": ("length", "duration"), "hot": ("temperature",)}
_ASKS_HOW = re.compile(rf"\bhow\s+({'|'.join(_HOW_ADJECTIVES)})\b", re.I)
_ASKS_MONEY = re.compile(r"\bhow\s+much\s+(?:is|are|was|were|does|do|did|will|would)\b(?![^?]*\bweigh)"
                         r"|\b(?:cost|costs|price|prices|fee|fees|charge|charges)\b", re.I)
_MONEY = re.compile(rf"{_CURRENCY}\s?\d(?:[\d,]*\d)?(?:\.\d+)?|\b\d(?:[\d,]*\d)?(?:\.\d+)?\s?(?:p|pence|gbp|eur|usd|chf)\b",
                    re.I)


def asked_quantities(question: str) -> tuple[str, ...]:
    """The quantities ("mass", "money"...) an everyday question asks for with no unit named: "How
    heavy", "How long", "How much is..."; () for any other question."""
    m = _ASKS_HOW.search(question)
    if m:
        return _HOW_ADJECTIVES[m.group(1).lower()]
    if re.search(r"\bweigh(?:s)?\b", question, re.I):
        return ("mass",)
    return ("money",) if _ASKS_MONEY.search(question) else ()


def figures_measuring(text: str, quantities: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where `text` gives a figure of one of `quantities`, with its unit or currency ("2.6 kg",
    "£319"), as (start, end) offsets."""
    found = [m.span() for m in _MONEY.finditer(text)] if "money" in quantities else []
    found += [m.span() for m in _GIVEN_IN.finditer(text) if _QUANTITY_OF.get(m.group(1).lower()) in quantities]
    return sorted(found)


# "How many students...": a count of things that are no unit of measure.
_ASKS_COUNT = re.compile(r"\bhow\s+many\s+([a-z]+)", re.I)
# A date: "18 May 2023", "May 18th, 2023", "March 2024", "2023-05-18", "18/05/2023". A month's name
# is capitalised, so that "18 may attend" is no date.
_MONTH = rf"(?-i:{'|'.join(m.capitalize() for m in MONTHS)}|{'|'.join(m[:3].capitalize() for m in MONTHS)})\.?"
_DATE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?(?!\w)"
                   rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?(?!\w)|\b{_MONTH}\s+\d{{4}}\b"
                   r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.I)
# A figure, and a unit of measure or a percent sign after it where one follows.
_FIGURE_AND_UNIT = re.compile(rf"(?P<currency>{_CURRENCY})?(?<![\w.,])\d(?:[\d,]*\d)?(?:\.\d+)?"
                              r"(?:\s*(%|per\s*cent\b|percent\b|°[cf]\b|[a-z]+\b))?",
                              re.I)


def _measures(unit: str) -> bool:
    """Whether the word after a figure is a unit of measure or a percentage ("years", "%", "per cent")."""
    unit = unit.lower()
    return unit in _QUANTITY_OF or not unit[0].isalpha() or "".join(unit.split()) == "percent"


def not_a_count(question: str, answer: str) -> str:
    """Why an answer cannot give the count a question asks for ('' when nothing shows it): every
    figure in it measures something ("19.2 years", "14%" for "How many students took part?")."""
    m = _ASKS_COUNT.search(question)
    if m is None or is_unit(m.group(1)):
        return ""  # "how many litres" asks in a unit: `in_another_unit`
    figures = list(_FIGURE_AND_UNIT.finditer(answer))
    dates = [d.span() for d in _DATE.finditer(answer)]
    dated = [f for f in figures if any(s <= f.start() < e for s, e in dates)]
    if figures and len(dated) == len(figures):  # "18 May 2023" is no count of the people there
        return f"the answer gives a date, {answer[dates[0][0]:dates[0][1]]}, not a number of {m.group(1).lower()}"
    # a sum of money ("£75") is no count either, where the question counts no money ("how many pounds")
    measured = [f for f in figures if f.group("currency") or f.group(2) and _measures(f.group(2))]
    if not figures or len(measured) < len(figures):
        return ""
    return f"the answer gives {measured[0].group().strip()}, not a number of {m.group(1).lower()}"


# A range of figures with its unit, as tables band ages, weights, heights and prices: "2 - 4
# years", "60–80 kg", "£50 – £149.99", "under 60 kg", "over 100 kg", "65+". The unit is one word,
# written after the figures or as a currency sign before them.
_FIGURE = r"(?P<{0}>\d+(?:[.,]\d+)*)"
ASIDE = re.compile(r"[(\[][^()\[\]]*[)\]]")  # "5–15 (children)": an aside in brackets, left out
_RANGE_MAX_CHARS = 40  # a band of a table, not a sentence with figures
_RANGE = re.compile(
    rf"(?P<currency>{_CURRENCY})?{_FIGURE.format('low')}\s*(?:{_CURRENCY}?\s*[a-zA-Z°]*\s*)?"
    rf"(?:-|–|—|to)\s*{_CURRENCY}?{_FIGURE.format('high')}\s*(?P<unit>[a-zA-Z°]+)?\.?")
_OPEN_RANGE = re.compile(
    rf"(?P<side>under|below|less than|up to|over|above|more than|from)\s+(?P<currency>{_CURRENCY})?"
    rf"{_FIGURE.format('low')}\s*(?P<unit>[a-zA-Z°]+)?(?P<and>\s+(?:and|or)\s+(?:over|above|more|under|below|less))?"
    rf"|(?P<currency2>{_CURRENCY})?{_FIGURE.format('plus')}\s*"
    rf"(?:(?P<unit2>[a-zA-Z°]+)\s*\+|\+\s*(?P<unit3>[a-zA-Z°]+)?)", re.I)
_QUESTION_FIGURE = re.compile(rf"(?P<currency>{_CURRENCY})?(?<![\d.,])(?P<figure>\d+(?:[.,]\d+)*)(?![\d.,]*\d)"
                              r"(?:\s*(?:-\s*)?(?P<unit>[a-zA-Z°]+))?")


def _figure(text: str) -> float:
    return float(text.replace(",", ""))


def _bounds(cell: str) -> tuple[float, float, str] | None:
    """(lowest, highest, unit) of a cell that is a range of figures, the unit a currency sign or
    one word's stem ("" where none is written); None for another cell."""
    cell = ASIDE.sub("", cell).strip()
    if len(cell) > _RANGE_MAX_CHARS:
        return None
    if m := _RANGE.fullmatch(cell):
        unit = m.group("currency") or stem(m.group("unit") or "")
        low, high = _figure(m.group("low")), _figure(m.group("high"))
        return (low, high, unit) if low < high else None
    if m := _OPEN_RANGE.fullmatch(cell):
        if m.group("plus"):
            unit = m.group("currency2") or stem(m.group("unit2") or m.group("unit3") or "")
            return _figure(m.group("plus")), float("inf"), unit
        unit = m.group("currency") or stem(m.group("unit") or "")
        figure = _figure(m.group("low"))
        below = m.group("side").lower() in ("under", "below", "less than", "up to") or (
            m.group("and") and m.group("and").split()[-1].lower() in ("under", "below", "less"))
        return (float("-inf"), figure, unit) if below else (figure, float("inf"), unit)
    return None


def range_holds(cell: str, question: str) -> bool:
    """Whether a cell is a range of figures with a unit (a currency sign or a word) and the
    question says a figure in that unit inside it: "a 2 year old" is in "2 - 4 years", "a £600 TV"
    in "£500 – £999", "70kg" in "60–80 kg". A range without a unit is named by no figure: the
    question's figure may count anything."""
    bounds = _bounds(cell)
    if bounds is None or not bounds[2]:
        return False
    low, high, unit = bounds
    for m in _QUESTION_FIGURE.finditer(question):
        said = m.group("currency") or stem(m.group("unit") or "")
        if said == unit and low <= _figure(m.group("figure")) <= high:
            return True
    return False
