"""``manage.py check`` guards the descriptors (issue 10): the project passes, and each way
of forgetting one (a state without descriptor, a transition without wording, a definition
or template naming an undeclared state, transition or deadline kind) is an error."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from cases.models import Case, FundingRequest
from engine import checks
from engine.checks import DEADLINE_KIND, STATE, TRANSITION, Reference
from engine.transitions import registration_for


def ids(messages) -> set[str]:
    return {m.id for m in messages}


def test_the_project_passes_its_checks():
    assert checks.descriptors_check() == []
    call_command("check")  # raises SystemCheckError on any error


@pytest.fixture
def case_registration():
    reg = registration_for(Case)
    states, specs = dict(reg.states), dict(reg.specs)
    yield reg
    reg.states, reg.specs = states, specs


def test_a_state_without_descriptor_fails(case_registration):
    del case_registration.states["incomplete"]
    errors = checks.machine_errors()
    assert "engine.E001" in ids(errors)
    assert any("incomplete" in m.msg for m in errors)
    with pytest.raises(SystemCheckError):
        call_command("check")


def test_a_transition_without_descriptor_or_wording_fails(case_registration):
    spec = case_registration.specs.pop("withdraw")
    assert "engine.E004" in ids(checks.machine_errors())
    case_registration.specs["withdraw"] = dataclasses.replace(spec, event="")
    assert "engine.E006" in ids(checks.machine_errors())


def test_a_descriptor_for_no_transition_or_an_unknown_badge_fails(case_registration):
    spec = case_registration.specs["withdraw"]
    case_registration.specs["teleport"] = dataclasses.replace(spec, name="teleport")
    case_registration.states["draft"] = dataclasses.replace(
        case_registration.states["draft"], badge="purple"
    )
    assert {"engine.E005", "engine.E003"} <= ids(checks.machine_errors())


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        (Reference("t", STATE, "frozen", FundingRequest), "engine.E011"),
        (Reference("t", STATE, "frozen"), "engine.E011"),
        (Reference("t", TRANSITION, "freeze", "fundingrequest"), "engine.E012"),
        (Reference("t", DEADLINE_KIND, "hibernation"), "engine.E013"),
        (Reference("t", STATE, "draft", "vote"), "engine.E010"),
    ],
)
def test_a_reference_to_an_undeclared_name_fails(reference, code):
    assert ids(checks._reference_errors([reference])) == {code}


def test_declared_names_pass():
    refs = [
        Reference("t", STATE, "awaiting_committee", FundingRequest),
        Reference("t", TRANSITION, "grant", "fundingrequest"),
        Reference("t", DEADLINE_KIND, "works_start"),
    ]
    assert checks._reference_errors(refs) == []


def test_templates_naming_an_undeclared_state_fail(tmp_path, settings):
    (tmp_path / "page.html").write_text(
        "{% if case.state == 'draft' %}ok{% endif %}\n"
        '{% if fr.state == "frozen" %}no{% endif %}\n',
        encoding="utf-8",
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    refs = checks.template_references()
    assert [(r.where, r.name) for r in refs] == [
        ("page.html:1", "draft"),
        ("page.html:2", "frozen"),
    ]
    errors = checks._reference_errors(refs)
    assert ids(errors) == {"engine.E011"} and "page.html:2" in errors[0].msg


def test_definitions_and_agent_steps_are_checked(monkeypatch):
    from workflows import checks as workflow_checks
    from workflows import definitions

    broken = dataclasses.replace(
        definitions.COMMON,
        opens=(
            *definitions.COMMON.opens,
            definitions.Open("case.freeze", "hibernation", "agent", "case"),
        ),
    )
    monkeypatch.setattr(definitions, "COMMON", broken)
    errors = checks._reference_errors(definitions.references())
    assert {"engine.E012", "engine.E013"} <= ids(errors)
    assert checks._reference_errors(workflow_checks.agent_step_references()) == []


def test_side_actions_are_checked(monkeypatch):
    from workflows import checks as workflow_checks
    from workflows import flows

    assert checks._reference_errors(workflow_checks.agent_step_references()) == []
    monkeypatch.setattr(flows, "SIDE_ACTIONS", flows.SIDE_ACTIONS | {(flows.REQUEST, "freeze")})
    errors = checks._reference_errors(workflow_checks.agent_step_references())
    assert ids(errors) == {"engine.E012"}
    assert "SIDE_ACTIONS" in errors[0].msg and "freeze" in errors[0].msg


def test_an_agent_transition_without_task_or_side_action_fails(monkeypatch):
    from workflows import checks as workflow_checks
    from workflows import flows

    assert workflow_checks.task_coverage_errors() == []
    monkeypatch.setattr(flows, "SIDE_ACTIONS", flows.SIDE_ACTIONS - {(flows.CASE, "withdraw")})
    errors = workflow_checks.task_coverage_errors()
    assert ids(errors) == {"workflows.E001"}
    assert all("withdraw" in m.msg for m in errors) and len(errors) >= 5  # each live state
    # a step dropped from the flows: its transitions are no one's task any more
    monkeypatch.setattr(flows, "AGENT_STEPS", flows.AGENT_STEPS[1:])
    assert len(workflow_checks.task_coverage_errors()) > len(errors)


def test_state_groups_must_agree_with_the_descriptors(monkeypatch):
    from cases import models as m
    from cases.lifecycle import groups

    assert groups.group_errors() == []
    monkeypatch.setattr(
        m, "REQUEST_UNDECIDED", [s for s in m.REQUEST_UNDECIDED if s != "adjourned"]
    )
    errors = groups.group_errors()
    assert ids(errors) == {"cases.E001"} and "adjourned" in errors[0].msg
    monkeypatch.setattr(m, "REQUEST_GRANTED", [*m.REQUEST_GRANTED, "requested"])
    assert any("« requested »" in e.msg for e in groups.group_errors())
    monkeypatch.setattr(m, "CASE_TERMINAL", m.CASE_TERMINAL - {"lapsed"})
    assert "cases.E002" in ids(groups.group_errors())
