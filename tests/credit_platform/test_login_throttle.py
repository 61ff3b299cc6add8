"""Sign-in and token brute force: a username is locked out per address after AXES_FAILURE_LIMIT wrong
passwords (login page and admin) until the cool-off; an address sending wrong API tokens is refused."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"  # tests/factories.py UserFactory


def sign_in(client, url, username, password, address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_after_five_wrong_passwords_the_right_one_is_refused_until_the_cool_off(client, org, member, settings,
                                                                               url_name):
    user = member(org, Role.CREDIT_MANAGER, username="victim")
    url = reverse(url_name)
    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, url, "victim", f"guess-{attempt}")
        assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    locking = sign_in(client, url, "victim", "guess-last")  # the 5th wrong password locks
    assert locking.status_code == 429
    right = sign_in(client, url, "victim", PASSWORD)
    assert right.status_code == 429 and not right.wsgi_request.user.is_authenticated
    text = right.content.decode()
    assert "Sign-in locked" in text and "15 minutes" in text and "even with the right password" in text
    # the real user, from another address, is not locked out by someone else's guessing
    elsewhere = sign_in(client, url, "victim", PASSWORD, address="10.0.0.2")
    assert elsewhere.status_code == 302
    client.logout()
    # after the cool-off the right password works again from the first address
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16), tick=True):
        later = sign_in(client, url, "victim", PASSWORD)
        assert later.status_code == 302 and later.wsgi_request.user == user


def test_twenty_wrong_passwords_never_let_the_right_one_in(client, org, member):
    member(org, Role.CREDIT_OFFICER, username="target")
    statuses = {sign_in(client, reverse("login"), "target", f"wrong-{i}").status_code for i in range(20)}
    assert statuses == {200, 429}
    assert sign_in(client, reverse("login"), "target", PASSWORD).status_code == 429


def test_an_address_sending_wrong_api_tokens_is_refused_then_let_in_after_the_window(org, member, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 5
    settings.API_TOKEN_FAILURE_WINDOW = 2
    good = Token.objects.create(user=member(org, Role.INTEGRATOR)).key
    guesser = APIClient(REMOTE_ADDR="10.1.1.1")
    for i in range(5):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token {'0' * 39}{i}")
        assert guesser.get("/api/v1/customers/").status_code == 401
    guesser.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    refused = guesser.get("/api/v1/customers/")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    other = APIClient(REMOTE_ADDR="10.1.1.2")
    other.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    assert other.get("/api/v1/customers/").status_code == 200  # only that address is refused
    time.sleep(2.2)  # the window is kept by the cache (Redis in CI), whose clock time-machine does not move
    assert guesser.get("/api/v1/customers/").status_code == 200
