"""Operators sign in to the local stack over HTTP with the users and passwords it prints.

Over HTTP the app fetches the user pool's keys from the moto server (``AWS_ENDPOINT_URL``), as it
fetches them from Cognito on AWS.
"""
from __future__ import annotations

import re

import pytest
import requests

from local.seed import sample_operators

pytestmark = pytest.mark.e2e


def printed_operators(local_stack) -> dict[str, str]:
    return dict(re.findall(r"^\s+([a-z][a-z0-9_.-]+)\s+password=(\S+)", "\n".join(local_stack.output), re.M))


def test_the_stack_prints_the_console_and_every_operator_with_a_local_password(local_stack):
    assert local_stack.printed(f"Back-office console: {local_stack.api_url}/console/")
    assert set(printed_operators(local_stack)) == {o.operator_id for o in sample_operators()}


def test_an_operator_signs_in_with_the_printed_password_and_the_token_opens_only_their_branch(local_stack):
    passwords = printed_operators(local_stack)
    answer = requests.post(f"{local_stack.api_url}/backoffice/session", json={"username": "reviewer.xicheng", "password": passwords["reviewer.xicheng"]}, timeout=10)
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert session["operator"]["branch_code"] == "BR_XICHENG"
    headers = {"Authorization": f"Bearer {session['id_token']}"}
    me = requests.get(f"{local_stack.api_url}/backoffice/me", headers=headers, timeout=10)
    assert (me.status_code, me.json()["operator_id"]) == (200, "reviewer.xicheng")
    other = requests.get(f"{local_stack.api_url}/backoffice/reviews", params={"branch": "BR_DONGCHENG"}, headers=headers, timeout=10)
    assert (other.status_code, other.json()["code"]) == (403, "BRANCH_FORBIDDEN")
    wrong = requests.post(f"{local_stack.api_url}/backoffice/session", json={"username": "reviewer.xicheng", "password": "wrong"}, timeout=10)
    assert (wrong.status_code, wrong.json()["code"]) == (401, "NOT_AUTHENTICATED")
