"""Templates: Jinja2 in its immutable sandbox, looked up as SPEC section 10 says.

This is the only module that imports Jinja2. A template can read the context
(`context.py`) and call the formatting filters; the sandbox refuses attributes that
start with an underscore, Python internals (`__class__`, `mro`, `__globals__`,
`func_globals`...), format-string tricks and any method that changes a value.
Undefined names fail (StrictUndefined) instead of printing nothing. Every failure
becomes a diagnostic naming the template and its line (exit 1).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplatesNotFound,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    pass_context,
)
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.utils import Namespace

from arrears.diagnostics import ArrearsError, Diagnostic, Location, Position
from arrears.letters import formatting
from arrears.letters.context import Charge, CustomerView, InvoiceLine, NextStep, NoticeView, PolicyView, Sender
from arrears.letters.sandbox import Sandbox

FORMATS = ("md", "html", "eml")


class TemplateProblem(ArrearsError):
    """A template is missing, broken, reaches for something forbidden or names an undefined value (exit 1)."""

    exit_code = 1


def default_folder() -> Path:
    """The project's templates, shipped as package data."""
    return Path(str(resources.files("arrears.letters") / "defaults"))


def candidates(tone: str, channel: str, language: str | None, fmt: str, template: str | None = None) -> list[str]:
    """File names to try, first found wins (SPEC 10): `{tone}.{channel}.{language}.{format}`,
    `{tone}.{channel}.{format}`, `{tone}.{language}.{format}`, `{tone}.{format}`.

    A language with a region (`de-AT`) tries itself, then its language (`de`), in each
    place. A reminder's `template` name (`remind(template="pre-due")`) is tried first,
    in the same four forms, then the tone's.
    """
    languages = _languages(language)
    names: list[str] = []
    # A template name is a plain name: not a path, not a partial (`_layout`), not hidden.
    named = [template] if template and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", template) else []
    for stem in [*named, tone]:
        names += [f"{stem}.{channel}.{lang}.{fmt}" for lang in languages]
        names.append(f"{stem}.{channel}.{fmt}")
        names += [f"{stem}.{lang}.{fmt}" for lang in languages]
        names.append(f"{stem}.{fmt}")
    return names


def _languages(language: str | None) -> list[str]:
    """`de-AT` gives `de-AT`, `de`. Tags are case-insensitive (BCP 47), file names are not: the
    language is written in lower case, a region in upper case (`DE_at` is `de-AT`)."""
    parts = re.split(r"[-_]", (language or "").strip())
    if not parts[0] or not all(re.fullmatch(r"[A-Za-z0-9]{1,8}", part) for part in parts):
        return []
    primary = parts[0].lower()
    rest = [p.upper() if len(p) == 2 and p.isalpha() else p.title() if len(p) == 4 else p for p in parts[1:]]
    return ["-".join([primary, *rest]), primary] if rest else [primary]


class _FolderLoader(FileSystemLoader):
    """Templates of one folder only: a template, or a link to one, whose file lies outside
    the folder (`../x`, an absolute path, a symbolic link pointing out) is not found."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder), encoding="utf-8", followlinks=False)
        self.root = folder.resolve()

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self.root):
            # Not located at the link itself: the error would print a line of the file it points to.
            raise SecurityError(f"{filename} is a link to a file outside the templates folder")
        return source, filename, uptodate


class Templates:
    """A folder of templates in a sandboxed Jinja2 environment."""

    def __init__(self, folder: Path, *, html: bool) -> None:
        self.folder = folder
        self.env = Sandbox(
            loader=_FolderLoader(folder),
            undefined=StrictUndefined,
            autoescape=html,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters.update(
            money=_money,
            date=_date,
            number=_number,
            percent=_percent,
            md=markdown_text,
        )
        # Only what letters need: no lipsum(), cycler(), joiner(), dict() (fewer doors to try).
        self.env.globals.clear()
        self.env.globals.update(range=self.env.globals_range, namespace=Namespace)
        self.env.guard_filters()

    def find(self, names: list[str], what: str = "this notice") -> Template:
        with located(self.folder, None):
            try:
                return self.env.select_template(names)
            except TemplatesNotFound:
                raise TemplateProblem(
                    Diagnostic(
                        f"no template for {what} in {self.folder}",
                        hint="tried " + ", ".join(names),
                        code="template-missing",
                    )
                ) from None

    def render(self, template: Template, variables: dict[str, Any]) -> str:
        with located(self.folder, template):
            self.env.budget.reset()
            return template.render(variables)

    def render_first(self, names: list[str], variables: dict[str, Any], what: str = "this notice") -> Rendering:
        """The first of `names` that exists, rendered."""
        template = self.find(names, what)
        name = template.name or names[-1]
        return Rendering(self.render(template, variables), name, Path(template.filename or self.folder / name))


@dataclass(frozen=True)
class Rendering:
    """A rendered template: its text, its name in the folder, its file."""

    text: str
    name: str
    file: Path


@contextmanager
def located(folder: Path, template: Template | None) -> Iterator[None]:
    """Jinja2's errors as diagnostics with the template file and line."""
    try:
        yield
    except TemplateSyntaxError as error:
        where = _location(error.filename or error.name, error.lineno)
        raise TemplateProblem(Diagnostic(f"template syntax: {error.message}", where, code="template-syntax")) from None
    except TemplateNotFound as error:
        file, line = _template_frame(error.__traceback__, folder, template)
        raise TemplateProblem(
            Diagnostic(f"no such template: {error.name}", _location(file, line), code="template-missing")
        ) from None
    except SecurityError as error:
        file, line = _template_frame(error.__traceback__, folder, template)
        raise TemplateProblem(
            Diagnostic(f"forbidden in a template: {error}", _location(file, line), code="template-sandbox")
        ) from None
    except UndefinedError as error:
        file, line = _template_frame(error.__traceback__, folder, template)
        raise TemplateProblem(
            Diagnostic(
                f"undefined in the template: {_readable(error.message)}",
                _location(file, line),
                code="template-undefined",
                hint=_did_you_mean(error.message) + "the names a template can read are listed in docs/letters.md",
            )
        ) from None
    except TemplateError as error:
        file, line = _template_frame(error.__traceback__, folder, template)
        raise TemplateProblem(Diagnostic(f"template error: {error}", _location(file, line), code="template")) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError, RecursionError) as error:
        # A template that calls a filter wrongly or divides by zero: its mistake, not ours.
        file, line = _template_frame(error.__traceback__, folder, template)
        raise TemplateProblem(
            Diagnostic(f"template failed: {type(error).__name__}: {error}", _location(file, line), code="template")
        ) from None


# What a template can read (NoticeContext.variables, which a test keeps equal, and the globals).
NAMES: tuple[str, ...] = ("notice", "customer", "invoices", "fees", "interest", "policy", "sender", "as_of")
NAMES += ("language", "locale", "format", "range", "namespace")
_VIEWS = {cls.__name__: cls for cls in (NoticeView, InvoiceLine, Charge, NextStep, CustomerView, PolicyView, Sender)}
_NO_ATTRIBUTE = re.compile(r"^'(?:[\w.]+\.)?(\w+) object' has no attribute '([^']*)'$")
_NO_NAME = re.compile(r"^'([^']*)' is undefined$")


def _readable(message: str | None) -> str:
    """`'arrears.letters.context.NoticeView object' has no attribute 'totl'` without the module path."""
    found = _NO_ATTRIBUTE.match(message or "")
    if found and found.group(1) in _VIEWS:
        return f"{found.group(1)} has no attribute '{found.group(2)}'"
    return message or "undefined"


def _did_you_mean(message: str | None) -> str:
    """`did you mean total?` for a misspelt name or attribute of the context, else nothing."""
    text = message or ""
    attribute, name = _NO_ATTRIBUTE.match(text), _NO_NAME.match(text)
    if attribute and attribute.group(1) in _VIEWS:
        view = _VIEWS[attribute.group(1)]
        known = [f.name for f in fields(view)] + [n for n, v in vars(view).items() if isinstance(v, property)]
        wanted = attribute.group(2)
    elif name:
        known, wanted = list(NAMES), name.group(1)
    else:
        return ""
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def _template_frame(tb: TracebackType | None, folder: Path, template: Template | None) -> tuple[str | None, int | None]:
    """The innermost traceback frame that is template code: Jinja2 rewrites those frames to
    the template's file and line, so a frame whose file lies in the templates folder is one."""
    found: tuple[str | None, int | None] = (template.filename if template else None, None)
    root = str(folder.resolve())
    while tb is not None:
        file = tb.tb_frame.f_code.co_filename
        if str(Path(file).resolve()).startswith(root):
            found = (file, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _location(file: str | None, line: int | None) -> Location | None:
    if file is None:
        return None
    return Location(file, Position(line or 1, 1))


_MARKDOWN = re.compile(r"([\\`*_\[\]<>|#~])")


def markdown_text(value: object) -> str:
    """Text shown as itself in Markdown: the characters that make markup are escaped."""
    _defined(value)
    return _MARKDOWN.sub(r"\\\1", str(value))


def _locale(context: Context) -> str:
    value = context.get("locale")
    return value if isinstance(value, str) else formatting.ENGLISH


def _defined(*values: object) -> None:
    """An undefined value given to a filter fails as undefined (StrictUndefined raises when printed)."""
    for value in values:
        if isinstance(value, Undefined):
            str(value)


@pass_context
def _money(context: Context, amount: Decimal | int, currency: str | None = None) -> str:
    _defined(amount, currency)
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError(f"money: expects an amount, got {type(amount).__name__}")
    return formatting.money(Decimal(amount), currency, _locale(context))


@pass_context
def _date(context: Context, value: dt.date, style: str = "medium") -> str:
    _defined(value, style)
    if not isinstance(value, dt.date):
        raise TypeError(f"date: expects a date, got {type(value).__name__}")
    return formatting.date(value, _locale(context), style)


@pass_context
def _number(context: Context, value: Decimal | int) -> str:
    _defined(value)
    return formatting.number(value, _locale(context))


@pass_context
def _percent(context: Context, rate: Decimal) -> str:
    _defined(rate)
    return formatting.percent(Decimal(rate), _locale(context))
