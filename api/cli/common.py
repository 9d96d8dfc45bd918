"""What every ``absctl`` command shares: the platform context, error reporting and role names."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from api.errors import PlatformError
from api.platform import Platform
from api.settings import Settings
from chain.errors import ChainError
from chain.roles import Role

console = Console()
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

AS_MEMBER = typer.Option(..., "--as", help="the member whose key signs (a name in the keystore)")


def platform() -> Platform:
    """The platform as the environment describes it (ABS_CHAIN_URL, ABS_MANIFEST_PATH, ...)."""
    return Platform(Settings())  # read anew: one process may run several commands (tests)


def reports_errors(command: F) -> F:
    """Turn the platform's and the chain's errors into one red line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (PlatformError, ChainError) as exc:
            errors.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def parse_role(name: str) -> Role:
    try:
        return Role.from_name(name)
    except ValueError:
        known = ", ".join(role.name for role in Role)
        raise typer.BadParameter(f"{name!r} is not a role (one of {known})") from None
