"""Units of measure a question asks in, and the unit a figure of an answer is given in.

"What is the energy use per cycle in kWh?" cannot be answered "9.5 litres": a figure in a unit of
another quantity (volume, not energy) answers another question, however alike the sentences
read. Units compare by the quantity they measure, so "kWh" and "Wh" agree, and "kg" and "lb".
"""

from __future__ import annotations

import re

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
