"""What the processes name, for ``manage.py check`` (``engine.checks``): the deadline
definitions, the agent steps of the flows and the agent's side actions."""

from __future__ import annotations

from engine.checks import STATE, TRANSITION, Reference, register_references

from . import definitions


def agent_step_references() -> list[Reference]:
    from .flows import AGENT_STEPS, SIDE_ACTIONS

    refs = [
        Reference("workflows.flows.SIDE_ACTIONS", TRANSITION, name, subject)
        for subject, name in sorted(SIDE_ACTIONS)
    ]
    for step in AGENT_STEPS:
        where = f"workflows.flows.{step.node}"
        refs.append(Reference(where, STATE, step.state, step.subject))
        refs.extend(Reference(where, TRANSITION, name, step.subject) for name in step.transitions)
    return refs


def connect() -> None:
    register_references(definitions.references)
    register_references(agent_step_references)
