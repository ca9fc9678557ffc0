"""Checking database credentials by logging in with them (psycopg, imported on use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runbooks.errors import VerificationFailed

CredentialTester = Callable[[dict[str, Any]], None]


def postgres_tester(*, default_host: str, default_port: int = 5432) -> CredentialTester:
    """A tester that opens a connection with the credentials and runs ``SELECT 1``.

    ``default_host`` is used when the secret has no ``host`` (RDS-managed secrets hold only
    username and password); pass a tunnel address (``--test-host``) when the operator's
    machine cannot reach the VPC.
    """

    def test(credentials: dict[str, Any]) -> None:
        import psycopg

        host, _, port = default_host.partition(":")
        try:
            with psycopg.connect(
                host=host or str(credentials.get("host", "")),
                port=int(port or credentials.get("port") or default_port),
                dbname=str(credentials.get("dbname", "postgres")),
                user=str(credentials["username"]),
                password=str(credentials["password"]),
                connect_timeout=10,
            ) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise VerificationFailed(
                f"login to {default_host} as {credentials.get('username')} with the new "
                f"credentials failed: {first_line}. What to do: check that this machine can "
                "reach the database (use --test-host with a tunnel) and that the password was set."
            ) from exc

    return test
