"""A price's `skm` metadata, Cryptolens' way: the settings of the key a subscriber gets, as JSON.

`{"F1": true, "F3": true, "MaxNoOfMachines": 2, "TrialDays": 14}`: the features on, the machine limit, the days of
a Stripe trial given at Checkout; `Notes` and `ProductId` (a key in another product) are honoured as Cryptolens
passes every entry to CreateKey. What is wrong in it is said in words, never raised: a customer who paid still
gets a key, made from the entries that are right.
"""

import json
from dataclasses import dataclass, field

from portal.billing_models import PROBLEM_MAX
from portal.models import FEATURES, ID_MAX, KEY_NOTES_MAX

MACHINES_MAX = 1_000_000
TRIAL_DAYS_MAX = 730  # Stripe's own limit on trial_period_days
_FEATURE_KEYS = {f"F{n}": f"f{n}" for n in range(1, 9)}


@dataclass
class Skm:
    features: dict[str, bool] = field(default_factory=dict)
    max_no_of_machines: int = 0
    trial_days: int = 0
    notes: str = ""
    product_id: int | None = None

    def to_json(self) -> str:
        values: dict = {f"F{n}": True for n in range(1, 9) if self.features.get(f"f{n}")}
        values["MaxNoOfMachines"] = self.max_no_of_machines
        if self.trial_days:
            values["TrialDays"] = self.trial_days
        if self.notes:
            values["Notes"] = self.notes
        if self.product_id is not None:
            values["ProductId"] = self.product_id
        return json.dumps(values, separators=(",", ":"))


def _whole(value, low: int, high: int) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high else None


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _notes(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= KEY_NOTES_MAX else None


# The settings besides the features: the attribute, how a value is read (None when wrong), what is wrong.
_SETTINGS = {
    "MaxNoOfMachines": ("max_no_of_machines", lambda v: _whole(v, 0, MACHINES_MAX), "is not a whole number from 0"),
    "TrialDays": ("trial_days", lambda v: _whole(v, 0, TRIAL_DAYS_MAX), f"is not 0 to {TRIAL_DAYS_MAX} days"),
    "Notes": ("notes", _notes, f"is not text of at most {KEY_NOTES_MAX} characters"),
    "ProductId": ("product_id", lambda v: _whole(v, 1, ID_MAX), "is not a product id"),
}


def parse_skm(text: str | None) -> tuple[Skm, str]:
    """The settings in `text` and a sentence on what is wrong with it ("" when nothing is)."""
    skm, problems = Skm(), []
    if not text:
        return skm, ""
    try:
        values = json.loads(text)
    except ValueError:
        return skm, "The price's skm metadata is not JSON; keys get no features."
    if not isinstance(values, dict):
        return skm, "The price's skm metadata is not a JSON object; keys get no features."
    for name, value in values.items():
        if name in _FEATURE_KEYS:
            flag = _flag(value)
            if flag is None:
                problems.append(f"{name} is not true or false")
            else:
                skm.features[_FEATURE_KEYS[name]] = flag
        elif name in _SETTINGS:
            attribute, read, wrong = _SETTINGS[name]
            setting = read(value)
            if setting is None:
                problems.append(f"{name} {wrong}")
            else:
                setattr(skm, attribute, setting)
        else:
            problems.append(f"{name} is not a key setting")
    return skm, _said(problems)


def _said(problems: list[str]) -> str:
    """The problems in one sentence that fits its record's column: as many as fit, then how many more (a price's skm
    may name any number of settings, of any length)."""
    if not problems:
        return ""
    start = "The price's skm metadata: "
    for shown in range(len(problems), 0, -1):
        rest = len(problems) - shown
        text = start + "; ".join(problems[:shown]) + (f"; and {rest} more" if rest else "") + "."
        if len(text) <= PROBLEM_MAX:
            return text
    return f"{start}{len(problems)} entries are not key settings it can read."


def features_of(skm: Skm) -> dict[str, bool]:
    return {name: bool(skm.features.get(name)) for name in FEATURES}
