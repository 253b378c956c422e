"""What the processes name, for ``manage.py check`` (``engine.checks``): the deadline
definitions, the agent steps of the flows and the agent's side actions."""

from __future__ import annotations

from django.core import checks

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
        for state in (step.state, *step.also_in):
            refs.append(Reference(where, STATE, state, step.subject))
        refs.extend(Reference(where, TRANSITION, name, step.subject) for name in step.transitions)
    return refs


def task_coverage_errors(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every transition an agent may apply to a dossier or a funding request is, from each
    of its source states, either a step of the flows (an agent task) or a side action:
    a transition added to a machine without its place in the agent's work fails here."""
    from cases.models import Case, FundingRequest, User
    from engine.transitions import registration_for

    from .flows import AGENT_STEPS, CASE, REQUEST, SIDE_ACTIONS

    covered = {
        (s.subject, state, name)
        for s in AGENT_STEPS
        for state in (s.state, *s.also_in)
        for name in s.transitions
    }
    errors = []
    for subject, model in ((CASE, Case), (REQUEST, FundingRequest)):
        reg = registration_for(model)
        field = model._meta.get_field(reg.state_field)
        every_state = [str(code) for code, _ in field.choices]
        for t in field.get_all_transitions(model):
            spec = reg.specs.get(t.name)
            if spec is None or User.Role.AGENT not in spec.roles:
                continue  # an undeclared transition is engine.E004's
            if (subject, t.name) in SIDE_ACTIONS:
                continue
            for source in every_state if t.source in ("*", "+") else [str(t.source)]:
                if (subject, source, t.name) not in covered:
                    errors.append(
                        checks.Error(
                            f"{model._meta.label} : « {t.name} » depuis « {source} » est "
                            "ouverte aux agents mais n'est ni une étape des circuits "
                            "(workflows.flows.AGENT_STEPS) ni une action annexe "
                            "(SIDE_ACTIONS).",
                            id="workflows.E001",
                        )
                    )
    return errors


def connect() -> None:
    checks.register(task_coverage_errors)
    register_references(definitions.references)
    register_references(agent_step_references)
