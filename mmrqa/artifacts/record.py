"""``ArtifactRecord``: the exact, JSON-serialisable description of one simulated artifact.

A record holds the artifact kind, the severity preset, the seed and every parameter that was sampled (including the
phase-encoding axis and the sub-seeds of random fields such as noise or undersampling masks). Replaying a record on the
same clean volume (``mmrqa.artifacts.replay``) reproduces the corrupted volume bit for bit; labels for training are
read from the record, never guessed from the image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mmrqa.errors import InvalidArgumentError


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into plain JSON types (floats round-trip exactly through JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _plain(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"artifact parameter of type {type(value).__name__} is not JSON-serialisable")


@dataclass(frozen=True)
class ArtifactRecord:
    """What was done to a scan: ``kind``, ``severity``, ``seed`` and the sampled ``params``.

    ``params`` contains only JSON types (numbers, strings, lists, dicts), so ``from_dict(to_dict())`` and a JSON
    round trip give a record that replays to the identical array.
    """

    kind: str
    severity: str
    seed: int
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _plain(dict(self.params)))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "seed": int(self.seed), "params": _plain(self.params)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> ArtifactRecord:
        """Rebuild a record from ``to_dict()`` output; raises ``InvalidArgumentError`` when a field is missing."""
        if not isinstance(payload, dict):
            raise InvalidArgumentError(f"an artifact record must be a dict, got {type(payload).__name__}")
        missing = [key for key in ("kind", "severity", "seed", "params") if key not in payload]
        if missing:
            raise InvalidArgumentError(f"artifact record is missing field(s) {', '.join(missing)}")
        return cls(str(payload["kind"]), str(payload["severity"]), int(payload["seed"]), dict(payload["params"]))

    @classmethod
    def from_json(cls, text: str) -> ArtifactRecord:
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"artifact record is not valid JSON: {exc}") from exc
        return cls.from_dict(payload)
