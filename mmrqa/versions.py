"""The installed versions of Python packages, as their distribution metadata states them (what a model file or a card
records about the environment that produced it)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def installed_versions(packages: tuple[str, ...]) -> dict[str, str | None]:
    """Distribution name -> installed version, None for a package that is not installed."""
    found: dict[str, str | None] = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found
