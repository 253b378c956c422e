"""What the services share: the role names and the reading of a text input."""

from __future__ import annotations

from engine import inputs

from ..models import User

R = User.Role


def clean_text(value, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    return inputs.parse_text(
        value, field=field, label=label, max_length=max_length, required=required
    )
