"""Command-line options and documentation generated from a pydantic model's fields.

A setting is declared once, as a field with its type, default, checks and
`Field(description=…)`; the command's options and the Markdown table in the docs are made from
that declaration, so neither can drift from the code. A field may say how it appears on the
command line through `json_schema_extra`:

- `option`: the long option (default: `--` and the field name with dashes, less a unit suffix
  `_s`: `tick_lag_s` is `--tick-lag`, its help says seconds);
- `env`: an environment variable read when the option is not given;
- `metavar`: what the help shows as the value;
- `secret`: the default and any value are never shown.

Every value but a flag reaches the model as the text typed, so the model's own validators do
all parsing and checking, in one place, for the CLI and for Python callers alike.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from limes.errors import UsageError

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., None])


@dataclass(frozen=True)
class OptionSpec:
    """How one field of a model appears on a command line."""

    field: str
    option: str
    help: str
    default_text: str
    env: str | None
    metavar: str
    flag: bool
    repeatable: bool
    secret: bool


def _extra(info: FieldInfo) -> Mapping[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, Mapping) else {}


def _is_flag(annotation: Any) -> bool:
    return annotation is bool


def _is_repeatable(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        return any(_is_repeatable(a) for a in get_args(annotation) if a is not type(None))
    return origin in (tuple, list)


def _metavar(annotation: Any) -> str:
    args = [a for a in get_args(annotation) if a is not type(None)]
    base = args[0] if get_origin(annotation) in (types.UnionType, typing.Union) else annotation
    if get_origin(base) in (tuple, list):
        base = get_args(base)[0]
    if base in (int, float):
        return "NUMBER" if base is float else "INTEGER"
    name = getattr(base, "__name__", "TEXT")
    return {"Path": "PATH", "datetime": "TIME"}.get(name, "TEXT")


def _default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        return "computed"
    if info.default is PydanticUndefined:
        return "required"
    value = info.default
    if value is None:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple | list):
        return "none" if not value else ", ".join(map(str, value))
    return str(value)


def _option_name(field: str) -> str:
    """`--` and the field's name with dashes; a unit suffix `_s` (seconds) is left to the help."""
    return "--" + field.removesuffix("_s").replace("_", "-")


def option_specs(model: type[BaseModel]) -> list[OptionSpec]:
    """One `OptionSpec` per field of `model`, in declaration order."""
    specs = []
    for name, info in model.model_fields.items():
        extra = _extra(info)
        flag = _is_flag(info.annotation)
        env = extra.get("env")
        specs.append(
            OptionSpec(
                field=name,
                option=str(extra.get("option", _option_name(name))),
                help=" ".join((info.description or "").split()),
                default_text=_default_text(info),
                env=str(env) if env else None,
                metavar=str(extra.get("metavar", _metavar(info.annotation))),
                flag=flag,
                repeatable=_is_repeatable(info.annotation),
                secret=bool(extra.get("secret", False)),
            )
        )
    return specs


def _typer_parameter(spec: OptionSpec) -> inspect.Parameter:
    import typer

    shown = "" if spec.secret else f" (default: {spec.default_text})"
    if spec.flag:
        bare = spec.option.removeprefix("--")
        decl = f"{spec.option}/--no-{bare}"
        annotation: Any = Annotated[
            bool | None, typer.Option(decl, help=spec.help + shown, show_default=False)
        ]
    else:
        kind: Any = list[str] | None if spec.repeatable else str | None
        annotation = Annotated[
            kind,
            typer.Option(
                spec.option,
                help=spec.help + shown,
                metavar=spec.metavar,
                envvar=spec.env,
                show_default=False,
                show_envvar=spec.env is not None,
            ),
        ]
    return inspect.Parameter(
        spec.field, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation
    )


def build(model: type[M], given: Mapping[str, Any]) -> M:
    """The model from the options given (None: not given, so the field's default holds).

    A value the model refuses is a `UsageError` naming the option, the reason and the value.
    """
    specs = {s.field: s for s in option_specs(model)}
    values = {k: v for k, v in given.items() if v is not None and k in specs}
    try:
        return model(**values)
    except ValidationError as exc:
        lines = []
        for problem in exc.errors():
            where = str(problem["loc"][0]) if problem["loc"] else ""
            spec = specs.get(where)
            name = spec.option if spec else where
            shown = "" if spec is None or spec.secret else f" (got {problem.get('input')!r})"
            lines.append(f"{name}: {problem['msg']}{shown}")
        raise UsageError("; ".join(lines)) from None


def with_options_of(model: type[BaseModel]) -> Callable[[F], F]:
    """Give a `def command(**given)` one typer option per field of `model`.

    The command receives what was given (None: not given) and builds the model with `build`,
    inside its own error handling, so a refused value is a clear message.
    """

    def decorate(command: F) -> F:
        params = [_typer_parameter(s) for s in option_specs(model)]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate


def markdown_table(model: type[BaseModel]) -> str:
    """The options of `model` as a Markdown table: option, default, environment, meaning."""
    rows = ["| option | default | environment | meaning |", "|---|---|---|---|"]
    for s in option_specs(model):
        option = f"`{s.option}`" if not s.flag else f"`{s.option}` / `--no-{s.option[2:]}`"
        if s.repeatable:
            option += " (repeatable)"
        default = "—" if s.secret else f"`{s.default_text}`"
        env = f"`{s.env}`" if s.env else ""
        meaning = s.help.replace("|", "\\|").replace("<", "&lt;")
        rows.append(f"| {option} | {default} | {env} | {meaning} |")
    return "\n".join(rows) + "\n"
