"""Notices as letters and emails (SPEC section 10): the plan's notices rendered from sandboxed templates.

This package is the only one that imports Jinja2 (in `templates` and `sandbox`, which
bounds what a template may consume) and babel (in
`formatting`). `render_notices` turns a plan into documents; `write_folder` and
`to_stream` put them out; `docs/letters.md` describes the context templates see.
"""

from arrears.letters.context import NoticeContext, Sender, build_contexts
from arrears.letters.render import Document, Rendered, render_notices, resolve_sender, to_stream, write_folder
from arrears.letters.sender import load_sender, parse_sender
from arrears.letters.templates import FORMATS, TemplateProblem, candidates, default_folder

__all__ = [
    "FORMATS",
    "Document",
    "NoticeContext",
    "Rendered",
    "Sender",
    "TemplateProblem",
    "build_contexts",
    "candidates",
    "default_folder",
    "load_sender",
    "parse_sender",
    "render_notices",
    "resolve_sender",
    "to_stream",
    "write_folder",
]
