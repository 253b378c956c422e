"""django-fsm-2's ``ConcurrentTransitionMixin`` with its state fields found once per model.

The mixin records each state field's value when an instance is built (its optimistic
lock), finding those fields by filtering every field of the model — on each instance: a
page of 500 requests and their dossiers spent a tenth of its time there. The fields of a
model do not change once the app registry is ready: here they are found once per class.
"""

from __future__ import annotations

import functools

import django_fsm


@functools.cache
def _state_fields(model: type) -> tuple:
    return tuple(f for f in model._meta.fields if isinstance(f, django_fsm.FSMFieldMixin))


class ConcurrentTransitionMixin(django_fsm.ConcurrentTransitionMixin):
    """The same lock and checks as django-fsm-2's, with the model's state fields cached."""

    @property
    def state_fields(self):
        return _state_fields(type(self))
