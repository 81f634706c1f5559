"""The expression language: grammar, parser facade, AST, types, checker and compiler."""
