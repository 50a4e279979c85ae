"""Finds protocol drivers by name: `drivers.<name>` with a `create` factory (`build`
makes them from a config)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from typing import Any, cast

import drivers
from drivers.base import DeviceSpec, Driver

DriverFactory = Callable[[dict[str, Any], list[DeviceSpec]], Driver]

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownDriver(LookupError):
    """No usable driver of that name; the message lists the drivers that exist."""


def known_drivers() -> list[str]:
    """Names of the driver packages shipped in `drivers/` (whether or not they import)."""
    return sorted(m.name for m in pkgutil.iter_modules(drivers.__path__) if m.ispkg)


def find_driver(name: str) -> DriverFactory:
    """The `create` factory of driver `name`, or UnknownDriver saying what exists instead."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise UnknownDriver(f"driver name {name!r} is not valid: use lower-case letters, "
                            "digits and '_' (the name of a package in drivers/)")
    module_name = f"drivers.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            # The driver exists but one of its own dependencies is missing.
            raise UnknownDriver(f"driver {name!r} cannot be loaded: {exc}; install the "
                                "edge extra (pip install 'scg[edge]')") from None
        raise UnknownDriver(f"there is no driver {name!r}; known drivers: "
                            f"{', '.join(known_drivers()) or '(none)'}") from None
    except ImportError as exc:
        raise UnknownDriver(f"driver {name!r} cannot be loaded: {exc}") from None
    factory = getattr(module, "create", None)
    if not callable(factory):
        raise UnknownDriver(f"drivers.{name} is not a driver (it has no create(settings, "
                            f"devices) function); known drivers: "
                            f"{', '.join(known_drivers()) or '(none)'}")
    return cast(DriverFactory, factory)
