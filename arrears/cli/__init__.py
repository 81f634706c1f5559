"""The `arrears` command line. Each module of this package holds commands of one topic;
importing them registers them on the group."""

from arrears.cli import notices, plans, policies, review, serving, sql, timeline
from arrears.cli.base import cli, main

__all__ = ["cli", "main", "notices", "plans", "policies", "review", "serving", "sql", "timeline"]
