"""The lowered program: a checked policy as column expressions, built once, read by every engine.

    rules (checked Policy) --lower--> Program --> SQL (DuckDB, Spark, any dialect), ...

`lower(policy)` is the only place that reads the policy model for evaluation order,
silencing, repeat, ladders, derived fields, aggregates and money formulas; an engine
translates the program's expressions (see `ir.py`) and never looks at the policy again.
"""

from arrears.program.ir import Program
from arrears.program.lower import lower

__all__ = ["Program", "lower"]
