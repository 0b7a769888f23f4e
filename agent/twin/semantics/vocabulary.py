"""The generic vocabularies of tag semantics: words of quantities, places, functions and
equipment classes in English, German, French and Spanish (plus the common abbreviations
of DCS/BMS descriptions), the ISA-5.1 letter table and engineering units by dimension.

Nothing here names a plant: every entry is a word a description or a question may use
for a kind of measurement or equipment anywhere. Words are stored normalised (lower
case, umlauts transliterated, accents dropped), see :func:`normalise`.
"""

from __future__ import annotations

import re
import unicodedata

# -- quantities ------------------------------------------------------------------------

#: Canonical quantities and the words (and stems of compounds) that name them.
QUANTITY_WORDS: dict[str, tuple[str, ...]] = {
    "temperature": ("temperature", "temp", "temperatur", "temperatura", "tmp", "superheat",
                    "ueberhitzung", "surchauffe", "sobrecalentamiento", "wet bulb"),
    "pressure": ("pressure", "press", "pres", "druck", "pression", "presion"),
    "differential_pressure": ("differential pressure", "diff press", "diff pressure", "dp",
                              "differenzdruck", "wirkdruck", "pressure drop", "delta p",
                              "pression differentielle", "perte de charge",
                              "presion diferencial", "dpi"),
    # A stream of matter is a flow ('Förderstrom', 'Luftstrom'); 'Strom' alone, or in
    # 'Motorstrom', is an electric current.
    "flow": ("flow", "flowrate", "flw", "durchfluss", "volumenstrom", "massenstrom",
             "foerderstrom", "foerdermenge", "wasserstrom", "luftstrom", "dampfstrom",
             "gasstrom", "stoffstrom", "debit", "caudal", "throughput", "airflow"),
    "level": ("level", "lvl", "fuellstand", "pegel", "niveau", "nivel", "hoehenstand"),
    "vibration": ("vibration", "vib", "vibr", "schwingung", "schwinggeschwindigkeit",
                  "vibracion", "vibrations", "schwingstaerke"),
    "current": ("current", "amps", "amp", "amperage", "strom", "courant", "corriente",
                "intensite", "intensidad"),
    "speed": ("speed", "spd", "rpm", "drehzahl", "vitesse", "velocidad", "geschwindigkeit",
              "revolutions"),
    "frequency": ("frequency", "freq", "hz", "frequenz", "frequence", "frecuencia"),
    "power": ("power", "heat duty", "kw", "leistung", "puissance", "potencia", "wirkleistung"),
    "position": ("position", "pos", "opening", "stellung", "oeffnung", "ouverture",
                 "apertura", "posicion", "stroke", "hub", "carrera", "course"),
    "concentration": ("concentration", "residual", "chlorine", "ph", "conductivity",
                      "turbidity", "konzentration", "chlor", "leitfaehigkeit", "truebung",
                      "chlore", "cloro", "residuel", "residual", "oxygen", "sauerstoff"),
    "load": ("capacity", "load", "duty cycle", "auslastung", "charge", "carga", "belastung"),
    "volume": ("volume", "volumen", "inhalt"),
    "mass": ("mass", "weight", "gewicht", "masse", "peso", "masa"),
    "torque": ("torque", "drehmoment", "couple", "par motor"),
    "voltage": ("voltage", "spannung", "tension electrique", "tension", "voltaje"),
    "force": ("belt tension", "pull", "force", "kraft", "zugkraft", "fuerza"),
    "state": ("status", "running", "run", "state", "betrieb", "betriebsmeldung", "laeuft",
              "marche", "en marche", "funcionamiento", "estado", "en servicio", "on off"),
}

#: Where on the equipment (or in the stream) a quantity is measured.
PLACE_WORDS: dict[str, tuple[str, ...]] = {
    "bearing": ("bearing", "brg", "lager", "lagerbock", "palier", "rodamiento", "cojinete"),
    "winding": ("winding", "wicklung", "bobinage", "devanado"),
    "discharge": ("discharge", "disch", "dis", "druckseite", "druckseitig", "refoulement",
                  "descarga", "impulsion"),
    "suction": ("suction", "suct", "saugseite", "saugseitig", "aspiration", "aspiracion"),
    "inlet": ("inlet", "entering", "ein", "eintritt", "eintritts", "eingang", "zulauf",
              "entree", "entrada", "upstream"),
    "outlet": ("outlet", "leaving", "aus", "austritt", "austritts", "ausgang", "ablauf",
               "sortie", "salida", "out of", "downstream"),
    "supply": ("supply", "vorlauf", "depart", "impulsion", "suministro", "alimentation"),
    "return": ("return", "ruecklauf", "retour", "retorno"),
    "motor": ("motor", "moteur"),
    "oil": ("oil", "oel", "huile", "aceite"),
    "air": ("air", "luft", "aire"),
    "evaporator": ("evaporator", "verdampfer", "evaporateur", "evaporador"),
    "condenser": ("condenser", "kondensator", "verfluessiger", "condenseur", "condensador"),
}

#: What the tag does besides measuring: a setpoint, a controller output, a command.
FUNCTION_WORDS: dict[str, tuple[str, ...]] = {
    "setpoint": ("setpoint", "set point", "sp", "sollwert", "soll", "consigne", "csg",
                 "consigna", "punto de ajuste", "target"),
    "output": ("output", "out", "stellgrad", "stellsignal", "ausgang signal",
               "command", "cmd", "sortie regulateur", "salida", "demand"),
}

# -- equipment classes --------------------------------------------------------------------

#: Equipment classes and the words (and stems of compounds) that name them.
CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "pump": ("pump", "pumps", "pumpe", "pumpen", "pompe", "pompes", "bomba", "bombas"),
    "fan": ("fan", "fans", "blower", "ventilator", "luefter", "geblaese", "ventilateur",
            "ventilador", "supply fan", "exhaust fan"),
    "compressor": ("compressor", "compressors", "kompressor", "verdichter", "compresseur",
                   "compresor"),
    "motor": ("motor", "motors", "moteur", "drive motor", "antriebsmotor", "elektromotor"),
    "filter": ("filter", "filters", "strainer", "strainers", "sieb", "filtre", "crepine",
               "filtro", "colador", "rueckspuelfilter", "screen"),
    "heat_exchanger": ("heat exchanger", "exchanger", "cooler", "heater", "waermetauscher",
                       "waermeuebertrager", "echangeur", "intercambiador", "hx",
                       "plattenwaermetauscher"),
    "tank": ("tank", "tanks", "vessel", "reservoir", "well", "sump", "basin", "behaelter",
             "tankbehaelter", "speicher", "becken", "cuve", "bac", "deposito", "tanque",
             "receiver", "silo"),
    "conveyor": ("conveyor", "conveyors", "belt conveyor", "foerderband", "foerderer",
                 "band", "convoyeur", "transportador", "cinta"),
    "valve": ("valve", "valves", "ventil", "regelventil", "klappe", "vanne", "valvula",
              "damper"),
    "cooling_tower": ("cooling tower", "cooling towers", "kuehlturm", "tour de refroidissement",
                      "torre de refrigeracion", "torre de enfriamiento"),
    "chiller": ("chiller", "chillers", "kaltwassersatz", "kaeltemaschine", "refroidisseur",
                "groupe froid", "enfriadora", "enfriador"),
    "boiler": ("boiler", "boilers", "kessel", "dampfkessel", "chaudiere", "caldera"),
    "dosing_skid": ("dosing skid", "dosing", "dosing pump", "dosing unit", "dosieranlage",
                    "dosierpumpe", "dosierung", "dosage", "dosificacion", "dosificadora"),
    "air_handler": ("air handler", "air handling unit", "ahu", "lueftungsanlage",
                    "raumlufttechnische anlage", "centrale de traitement d air", "climatizadora"),
}

#: Equipment name prefixes (before the number) that name a class by convention.
CLASS_PREFIXES: dict[str, str] = {
    "p": "pump", "pu": "pump", "pmp": "pump", "cwp": "pump", "chwp": "pump", "hwp": "pump",
    "fan": "fan", "sf": "fan", "ef": "fan", "rf": "fan",
    "c": "compressor", "k": "compressor", "comp": "compressor",
    "m": "motor", "mot": "motor",
    "f": "filter", "str": "filter",
    "hx": "heat_exchanger", "e": "heat_exchanger", "wt": "heat_exchanger",
    "t": "tank", "tk": "tank", "v": "tank", "tb": "tank",
    "cv": "conveyor", "bc": "conveyor",
    "lv": "valve", "fv": "valve", "pv": "valve", "tv": "valve", "xv": "valve", "hv": "valve",
    "ct": "cooling_tower", "ch": "chiller", "b": "boiler", "blr": "boiler",
    "ds": "dosing_skid", "ahu": "air_handler",
}

#: Every equipment class a site file may name.
EQUIPMENT_CLASSES: tuple[str, ...] = (*CLASS_WORDS, "instrument", "other")

#: Quantities an equipment of a class usually carries (a tie-breaker when a tag with no
#: words of its own could belong to either of two equipment).
CLASS_QUANTITIES: dict[str, frozenset[str]] = {
    "pump": frozenset({"flow", "pressure", "differential_pressure", "temperature", "vibration",
                       "current", "speed", "power", "state", "frequency"}),
    "fan": frozenset({"flow", "pressure", "differential_pressure", "temperature", "vibration",
                      "current", "speed", "power", "state", "frequency"}),
    "compressor": frozenset({"pressure", "temperature", "vibration", "current", "flow",
                             "load", "power", "state", "speed"}),
    "motor": frozenset({"current", "temperature", "vibration", "speed", "torque", "power",
                        "voltage", "state", "frequency"}),
    "filter": frozenset({"differential_pressure", "pressure", "flow"}),
    "heat_exchanger": frozenset({"temperature", "flow", "power", "position", "pressure",
                                 "differential_pressure"}),
    "tank": frozenset({"level", "temperature", "volume", "pressure", "flow", "mass"}),
    "conveyor": frozenset({"speed", "load", "force", "mass", "current", "state"}),
    "valve": frozenset({"position", "output", "state"}),
    "cooling_tower": frozenset({"temperature", "speed", "power", "vibration", "flow",
                                "state"}),
    "chiller": frozenset({"temperature", "pressure", "load", "power", "current", "flow",
                          "state"}),
    "boiler": frozenset({"temperature", "pressure", "level", "flow", "power", "state",
                         "concentration"}),
    "dosing_skid": frozenset({"flow", "output", "position", "level", "concentration",
                              "state", "pressure"}),
    "air_handler": frozenset({"temperature", "flow", "speed", "differential_pressure",
                              "current", "state", "pressure"}),
}

#: Names of objects that only group the variables of an equipment (BMS point lists,
#: gateway item folders): the equipment is the object above.
CONTAINER_NAMES = frozenset({"points", "point", "values", "data", "tags", "signals",
                             "variables", "io", "items", "datapoints", "messwerte",
                             "datenpunkte", "signale", "variablen", "points de donnees",
                             "parameters", "status", "pv"})

#: Words that say nothing about quantity or equipment.
STOP_WORDS = frozenset({"the", "of", "to", "from", "a", "an", "and", "at", "on", "for",
                        "with", "in", "by", "per", "der", "die", "das", "des", "dem", "den",
                        "und", "im", "am", "vom", "zum", "zur", "ueber", "le", "la", "les",
                        "du", "de", "et", "el", "los", "las", "del", "y", "en",
                        "percent", "full", "after", "before", "effektiv", "rms"})

# -- ISA-5.1 --------------------------------------------------------------------------------

#: First letter: the measured or initiating variable (ISA-5.1 table 4.1).
ISA_FIRST: dict[str, str] = {
    "A": "concentration", "B": "state", "C": "concentration", "D": "mass", "E": "voltage",
    "F": "flow", "G": "position", "I": "current", "J": "power", "L": "level",
    "M": "concentration", "P": "pressure", "Q": "mass", "S": "speed", "T": "temperature",
    "U": "state", "V": "vibration", "W": "force", "Y": "state", "Z": "position",
}
#: A variable modifier after the first letter turning it into another quantity.
ISA_MODIFIED: dict[str, str] = {"PD": "differential_pressure", "TD": "temperature",
                                "FQ": "flow", "FF": "flow"}
#: Succeeding letters: readout or function.
ISA_FUNCTION: dict[str, str] = {
    "T": "transmitter", "I": "indicator", "C": "controller", "V": "valve", "Y": "relay",
    "S": "switch", "A": "alarm", "E": "element", "R": "recorder", "H": "high", "L": "low",
    "G": "gauge", "Z": "final element", "K": "control station",
}
#: Item suffixes of a loop (DCS/PLC block parameters).
LOOP_ITEMS: dict[str, str] = {"pv": "measurement", "sp": "setpoint", "out": "output",
                              "op": "output", "mv": "output", "cv": "output", "sv": "setpoint",
                              "ws": "setpoint", "csp": "setpoint"}

ISA_TAG = re.compile(r"^(?P<letters>[A-Z]{1,5})[-_ ]?(?P<loop>\d{2,6})(?P<suffix>[A-Z]?)$")

# -- units -----------------------------------------------------------------------------------

#: Engineering units (normalised, see :func:`unit_key`) by the quantity they measure, with
#: the confidence a unit alone gives (a percent says little, a mm/s a lot). A unit also
#: agrees with the quantities of :data:`UNIT_ALSO` (a pressure unit with a differential
#: pressure) without voting for them.
UNIT_QUANTITIES: dict[str, tuple[str, float]] = {
    **{u: ("temperature", 0.9) for u in ("°c", "degc", "c", "°f", "degf", "k", "°k")},
    **{u: ("pressure", 0.8) for u in ("bar", "barg", "bara", "mbar", "pa", "kpa", "mpa",
                                       "hpa", "psi", "psig", "psia", "mmh2o", "mwc", "inh2o",
                                       "mmhg")},
    **{u: ("flow", 0.9) for u in ("m³/h", "m3/h", "m3_per_h", "l/h", "l_per_h", "l/min",
                                   "l/s", "kg/h", "t/h", "gpm", "cfm", "m³/s", "m3/s",
                                   "nm³/h", "nm3/h", "kg/s")},
    **{u: ("vibration", 0.9) for u in ("mm/s", "mm_per_s", "in/s", "ips", "µm", "um",
                                        "g", "m/s²", "mils")},
    **{u: ("current", 0.95) for u in ("a", "amp", "amps", "ma")},
    **{u: ("speed", 0.9) for u in ("r/min", "rpm", "u/min", "tr/min")},
    **{u: ("power", 0.9) for u in ("kw", "w", "mw", "hp", "kva")},
    **{u: ("frequency", 0.9) for u in ("hz", "khz")},
    **{u: ("concentration", 0.9) for u in ("mg/l", "mg_per_l", "ppm", "ppb", "ph",
                                            "µs/cm", "us/cm", "ntu", "%o2", "mg/m³")},
    **{u: ("voltage", 0.9) for u in ("v", "kv", "mv")},
    **{u: ("torque", 0.9) for u in ("n·m", "nm", "n m", "knm", "n.m")},
    **{u: ("force", 0.8) for u in ("n", "kn")},
    **{u: ("mass", 0.7) for u in ("kg", "t", "lb")},
    **{u: ("volume", 0.8) for u in ("m³", "m3", "l", "hl")},
    "m": ("level", 0.4), "mm": ("level", 0.3), "cm": ("level", 0.3),
    "m/s": ("speed", 0.5),
    "%": ("position", 0.1), "percent": ("position", 0.1),
    "1/min": ("speed", 0.3), "1/h": ("flow", 0.2),
}
#: Other quantities a unit's dimension fits.
UNIT_ALSO: dict[str, frozenset[str]] = {
    "pressure": frozenset({"differential_pressure"}),
    "temperature": frozenset(),
    "position": frozenset({"output", "level", "load", "speed", "concentration", "position"}),
    "speed": frozenset({"flow", "frequency"}),
    "level": frozenset({"position"}),
    "mass": frozenset({"load"}),
    "power": frozenset({"load"}),
    "flow": frozenset({"speed"}),
}


def unit_key(unit: str) -> str:
    """A unit as the table above spells it ('°C' -> '°c', 'm³/h' -> 'm³/h')."""
    return unit.strip().lower().replace(" ", "")


# -- normalising text ------------------------------------------------------------------------

_TRANSLIT = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "o"}
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SPLIT = re.compile(r"[^\w°³²µ]+|_")


def normalise(word: str) -> str:
    """Lower case, German umlauts transliterated, other accents dropped."""
    low = word.lower()
    low = "".join(_TRANSLIT.get(ch, ch) for ch in low)
    return "".join(ch for ch in unicodedata.normalize("NFKD", low)
                   if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    """Umlauts transliterated and accents dropped, the case kept (for camel case)."""
    text = "".join(_TRANSLIT.get(ch.lower(), ch) if ch.lower() in _TRANSLIT and ch.islower()
                   else _TRANSLIT.get(ch.lower(), ch).capitalize() if ch.lower() in _TRANSLIT
                   else ch for ch in text)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch))


def tokens(text: str, *, camel: bool = True) -> list[str]:
    """The normalised words of ``text``: split at spaces, punctuation, underscores and (in
    names) camel case and letter/digit boundaries."""
    out: list[str] = []
    for chunk in _SPLIT.split(_fold(text)):
        if not chunk:
            continue
        if camel and not chunk.isupper():
            out += [normalise(p) for p in _CAMEL.findall(chunk)]
        else:
            out += [normalise(p) for p in re.findall(r"[^\W\d_]+|\d+", chunk)]
    return [t for t in out if t]


def _index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalise(w): key for key, words in table.items() for w in words}


QUANTITY_INDEX = _index(QUANTITY_WORDS)
PLACE_INDEX = _index(PLACE_WORDS)
FUNCTION_INDEX = _index(FUNCTION_WORDS)
CLASS_INDEX = _index(CLASS_WORDS)
