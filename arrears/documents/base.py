"""What every document model shares: strict objects, JSON Schema generation, common value types.

Pydantic describes the documents; it never reads them. The loaders keep their own
located errors and exact decimals, so the models exist to generate the JSON Schemas
(for editors) and the OpenAPI components (for clients) from one typed description.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class Closed(BaseModel):
    """An object whose unknown keys are errors, as in a policy or a test file."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """An object that may carry keys of its own, as a snapshot row does (exports carry many columns)."""

    model_config = ConfigDict(extra="allow")


class Answer(BaseModel):
    """A document the engine writes: described as it is, extra keys neither promised nor refused."""

    model_config = ConfigDict(extra="ignore")


class _Generator(GenerateJsonSchema):
    """Schemas as a person would write them: no generated titles, no `default: null`."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if "default" in schema and schema["default"] is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def _tidy(schema: Any) -> Any:
    """Descriptions taken from docstrings, on one line (editors show them as they are)."""
    if isinstance(schema, dict):
        return {
            k: " ".join(v.split()) if k == "description" and isinstance(v, str) else _tidy(v) for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_tidy(v) for v in schema]
    return schema


def document_schema(model: type[BaseModel], schema_id: str, title: str, description: str) -> dict[str, Any]:
    """A stand-alone draft 2020-12 schema of one document, its parts under `$defs`."""
    generated = _tidy(model.model_json_schema(schema_generator=_Generator))
    generated.pop("title", None)
    generated.pop("description", None)
    return {"$schema": DRAFT, "$id": schema_id, "title": title, "description": description, **generated}


def components(models: list[type[BaseModel]]) -> dict[str, Any]:
    """OpenAPI `components/schemas` for some models and every part they use."""
    _, found = models_json_schema(
        [(m, "validation") for m in models],
        ref_template="#/components/schemas/{model}",
        schema_generator=_Generator,
    )
    return dict(sorted(_tidy(found.get("$defs", {})).items()))


def as_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def optional(description: str, **extra: Any) -> Any:
    """An optional field's description (and other JSON Schema keywords) for editors' hover and completion.

    Optional means "may be left out", not "may be null": the default is None only in Python.
    """
    return Field(default=None, description=description, json_schema_extra=extra or None)


def absent() -> Any:
    """An optional field described by its type: it may be left out, not given as null."""
    return Field(default=None)


def required(description: str, **extra: Any) -> Any:
    """A required field's description (and other JSON Schema keywords)."""
    return Field(description=description, json_schema_extra=extra or None)


Date = Annotated[str, Field(json_schema_extra={"format": "date"}, examples=["2026-11-23"])]
Amount = Annotated[
    Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$")] | float,
    Field(description='An exact decimal: a JSON number or, better, a string such as "1200.00".'),
]
NonEmpty = Annotated[str, Field(min_length=1)]

__all__ = [
    "DRAFT",
    "Amount",
    "Answer",
    "Closed",
    "Date",
    "NonEmpty",
    "Open",
    "as_json",
    "components",
    "document_schema",
    "optional",
    "required",
]
