from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from credit_platform.roles import Role
from credit_platform.services import membership_grant
from tests.factories import UserFactory


@pytest.fixture
def staff(db: Any) -> Callable[..., Any]:
    """staff(org, role, approval_limit) -> a user with that role and authority."""

    def make(organization: Any, role: str = Role.FINANCE_APPROVER, approval_limit: str | None = None,
             **kwargs: Any) -> Any:
        user = UserFactory(**kwargs)
        membership_grant(organization=organization, user=user, role=role,
                         approval_limit=Decimal(approval_limit) if approval_limit is not None else None)
        user.refresh_from_db()
        return user

    return make
