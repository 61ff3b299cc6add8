from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from credit_platform.models import Organization
from credit_platform.roles import Role
from onboarding.services import invitation_create


class Command(BaseCommand):
    help = "Invite a person by e-mail to an organization with a role; prints the link (also e-mailed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email")
        parser.add_argument("--organization", required=True, help="slug")
        parser.add_argument("--role", default=Role.CREDIT_OFFICER, choices=Role.values)
        parser.add_argument("--approval-limit", default="", help="largest limit (base currency) they may approve")
        parser.add_argument("--base-url", default="http://localhost:8000", help="start of the link in the e-mail")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["organization"]).first()
        if org is None:
            raise CommandError(f"No organization '{options['organization']}'.")
        limit = None
        if options["approval_limit"]:
            try:
                limit = Decimal(options["approval_limit"])
            except InvalidOperation:
                raise CommandError(f"--approval-limit: '{options['approval_limit']}' is not an amount.") from None
        try:
            invitation, link = invitation_create(organization=org, email=options["email"], role=options["role"],
                                                 approval_limit=limit, actor=None, base_url=options["base_url"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Invited {invitation.email} to {org.slug} as {invitation.role}. Link: {link}"))
