"""Request and response schemas: they validate input and generate /openapi.json. This module
holds what every resource shares (`Out`, `AtField`); each resource's documents sit in its own
`*_schemas.py` beside it (playbook, intake, ticket, task, report).

Inputs reject unknown fields (marshmallow's default), so a misspelt field is a 400 naming it.
Responses are documented with these schemas but returned as built; they declare what is
returned and allow more (`Out`), so adding a field never breaks a client of the document.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

NonEmpty = validate.Length(min=1)


class Out(Schema):
    """A response document; fields beyond the declared ones may appear."""

    class Meta:
        unknown = INCLUDE


class AtField(fields.String):
    """`YYYY-MM-DD` (local midnight) or an ISO timestamp; without an offset, config timezone."""


class HealthOut(Out):
    status = fields.String(required=True)
