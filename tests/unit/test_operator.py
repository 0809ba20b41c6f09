"""Operators from their identity provider's groups: one role group, and one branch group but for platform operators."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.operator import (
    InconsistentGroups,
    Operator,
    Role,
    branch_group,
    groups_of,
    role_group,
    role_groups,
)

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample"
OPERATORS = [Operator.model_validate(raw) for raw in json.loads((SAMPLE / "operators.json").read_text(encoding="utf-8"))]


def test_the_group_names_are_defined_once_here():
    assert role_group(Role.REVIEWER) == "role-REVIEWER"
    assert branch_group("BR_DONGCHENG") == "branch-BR_DONGCHENG"
    assert set(role_groups()) == {"role-PLATFORM", "role-BRANCH_OPERATOR", "role-REVIEWER", "role-AUDITOR"}


@pytest.mark.parametrize("operator", OPERATORS, ids=lambda o: o.operator_id)
def test_every_sample_operator_is_made_again_from_its_groups(operator):
    assert Operator.from_groups(operator.operator_id, operator.name, groups_of(operator)) == operator


def test_the_sample_has_one_operator_per_role_and_branch():
    branches = [raw["branch_code"] for raw in json.loads((SAMPLE / "branches.json").read_text(encoding="utf-8"))]
    made = {(o.role, o.branch_code) for o in OPERATORS}
    assert (Role.PLATFORM, None) in made
    assert {(role, code) for role in Role if role is not Role.PLATFORM for code in branches} <= made


def test_a_platform_operator_is_in_no_branch_group_and_branch_staff_in_exactly_one():
    assert groups_of(Operator(operator_id="admin", name="管理员", role=Role.PLATFORM)) == ("role-PLATFORM",)
    reviewer = Operator(operator_id="reviewer.xicheng", name="西城审核员", role=Role.REVIEWER, branch_code="BR_XICHENG")
    assert groups_of(reviewer) == ("role-REVIEWER", "branch-BR_XICHENG")


def test_groups_that_are_not_ours_are_ignored():
    made = Operator.from_groups("reviewer.xicheng", "西城审核员", ["us-east-1_abc_Google", "role-REVIEWER", "admins", "branch-BR_XICHENG"])
    assert (made.role, made.branch_code) == (Role.REVIEWER, "BR_XICHENG")


@pytest.mark.parametrize(
    "groups, problem",
    [
        ([], "exactly one role group, not 0"),
        (["branch-BR_XICHENG"], "exactly one role group, not 0"),
        (["role-REVIEWER", "role-AUDITOR", "branch-BR_XICHENG"], "exactly one role group, not 2"),
        (["role-SUPERUSER"], "role-SUPERUSER is not a role"),
        (["role-reviewer", "branch-BR_XICHENG"], "is not a role"),
        (["role-PLATFORM", "branch-BR_XICHENG"], "a platform operator is in no branch group"),
        (["role-REVIEWER"], "exactly one branch group, not 0"),
        (["role-REVIEWER", "branch-BR_XICHENG", "branch-BR_DONGCHENG"], "exactly one branch group, not 2"),
        (["role-AUDITOR", "branch-"], "not a valid operator (branch_code)"),
        (["role-AUDITOR", "branch-br_xicheng"], "not a valid operator (branch_code)"),
    ],
)
def test_an_inconsistent_set_of_groups_makes_no_operator(groups, problem):
    with pytest.raises(InconsistentGroups, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Operator.from_groups("someone", "某人", groups)


@pytest.mark.parametrize("operator_id, name", [("Admin", "管理员"), ("a", "管理员"), ("admin", "")])
def test_a_bad_username_or_name_makes_no_operator(operator_id, name):
    with pytest.raises(InconsistentGroups, match="not a valid operator"):
        Operator.from_groups(operator_id, name, ["role-PLATFORM"])


def test_the_same_group_twice_is_one_group():
    made = Operator.from_groups("auditor", "审计", ["role-AUDITOR", "role-AUDITOR", "branch-BR_DONGCHENG", "branch-BR_DONGCHENG"])
    assert (made.role, made.branch_code) == (Role.AUDITOR, "BR_DONGCHENG")


operators = st.builds(
    lambda role, branch, operator_id: Operator(
        operator_id=operator_id, name="某人", role=role, branch_code=None if role is Role.PLATFORM else branch
    ),
    st.sampled_from(list(Role)),
    st.from_regex(r"[A-Z][A-Z0-9_]{1,31}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9_.-]{1,63}", fullmatch=True),
)


@given(operators)
def test_groups_of_and_from_groups_are_inverse(operator):
    assert Operator.from_groups(operator.operator_id, operator.name, reversed(groups_of(operator))) == operator


@given(operators, st.sampled_from(list(Role)), st.from_regex(r"[A-Z][A-Z0-9_]{1,31}", fullmatch=True))
def test_one_more_group_of_ours_never_makes_another_operator(operator, role, branch):
    """A second role, or a branch more (or any branch for a platform operator), is refused, not guessed."""
    for extra in (role_group(role), branch_group(branch)):
        groups = (*groups_of(operator), extra)
        if extra in groups_of(operator):
            continue
        with pytest.raises(InconsistentGroups):
            Operator.from_groups(operator.operator_id, operator.name, groups)
