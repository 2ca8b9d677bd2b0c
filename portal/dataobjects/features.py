"""Cryptolens' feature tree on a key: its data object `cryptolens_features`, a JSON list such as
`["f1", ["f2", ["voice", "image"]]]` (features f1 and f2, and f2's sub-features f2.voice and f2.image), which the
official clients read with `Helpers.HasFeature(license, "f2.voice")` beside the eight flags. A text they could not
read (not JSON, or a list of another shape) would fail in the vendor's software at its next check, so it is refused
where it is written; the key's page shows the features it names."""

import json

from portal.domain import DomainError

FEATURES = "cryptolens_features"
MAX_DEPTH = 16
EXAMPLE = 'Give a JSON list like ["f1", ["f2", ["voice", "image"]]] (f1, f2, f2.voice and f2.image).'


def feature_paths(text: str) -> list[str]:
    """The features a `cryptolens_features` text names, sub-features joined by dots ("f2.voice"), or DomainError
    saying what is wrong with it. An empty text names none, as the clients read it."""
    if not text.strip():
        return []
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        raise DomainError(f"This is not JSON. {EXAMPLE}", field="string_value") from None
    if not isinstance(tree, list):
        raise DomainError(EXAMPLE, field="string_value")
    paths: list[str] = []
    _walk(tree, "", 1, paths)
    return paths


def _walk(items: list, prefix: str, depth: int, paths: list[str]) -> None:
    if depth > MAX_DEPTH:
        raise DomainError(f"At most {MAX_DEPTH} levels of sub-features.", field="string_value")
    for item in items:
        if isinstance(item, str):
            name, below = item, None
        elif isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], list):
            name, below = item
        else:
            shown = json.dumps(item)
            raise DomainError(f"Each entry is a feature's name, or a list of a name and its sub-features: "
                              f"{shown if len(shown) <= 40 else shown[:40] + '…'} is neither. {EXAMPLE}",
                              field="string_value")
        if not name.strip() or "." in name:
            raise DomainError(f"Name each feature, without dots (a dot joins a feature to its sub-features): "
                              f"{json.dumps(name)} cannot be asked for.", field="string_value")
        paths.append(prefix + name)
        if below is not None:
            _walk(below, f"{prefix}{name}.", depth + 1, paths)


def readable_paths(text: str) -> tuple[list[str], str | None]:
    """For showing a stored text: its features, or none and what is wrong with it (one stored before this check)."""
    try:
        return feature_paths(text), None
    except DomainError as error:
        return [], error.message
