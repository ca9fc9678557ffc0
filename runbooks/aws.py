"""boto3 client factory and the translation of AWS errors into actionable messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbooks.errors import AwsOperationError

_NOT_FOUND = frozenset(
    {
        "ResourceNotFoundException",
        "ParameterNotFound",
        "DBClusterNotFoundFault",
        "DBInstanceNotFound",
        "ReplicationGroupNotFoundFault",
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
        "ServiceNotFoundException",
        "ClusterNotFoundException",
    }
)
_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
    }
)
_BUSY = frozenset(
    {
        "InvalidDBClusterStateFault",
        "InvalidDBInstanceState",
        "InvalidReplicationGroupState",
        "InvalidCacheClusterState",
        "InvalidRequestException",
        "ServiceNotActiveException",
    }
)
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException"})


def hint_for(code: str) -> str:
    """What the operator should do about an AWS error code."""
    if code in _NOT_FOUND:
        return (
            "check --stack and --region, or run `pulumi up` for the stack if it was never deployed"
        )
    if code in _DENIED:
        return (
            "your AWS identity lacks this permission: check `aws sts get-caller-identity` "
            "and assume the ops role"
        )
    if code in _BUSY:
        return "the resource is busy or in the wrong state: wait until it is available, then re-run"
    if code in _EXPIRED:
        return "your AWS credentials expired: refresh them (for example `aws sso login`) and re-run"
    if code in _THROTTLED:
        return "AWS throttled the request: wait a minute and re-run"
    return "see the AWS message above; fix the cause and re-run (completed steps are skipped)"


class AwsSession:
    """Creates boto3 clients lazily (one per service) and translates their errors."""

    def __init__(
        self,
        *,
        region: str | None,
        endpoint_url: str | None = None,
        clients: Mapping[str, Any] | None = None,
    ) -> None:
        self.region = region
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = dict(clients or {})

    def client(self, service: str) -> Any:
        """The boto3 client for ``service`` (created on first use)."""
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                user_agent_extra="agatha-ops",
            )
            make_client: Any = boto3.client  # the stubs' per-service overloads need literals
            self._clients[service] = make_client(
                service, region_name=self.region, endpoint_url=self._endpoint_url, config=config
            )
        return self._clients[service]

    def call(
        self, service: str, operation: str, /, *, resource: str, **params: Any
    ) -> dict[str, Any]:
        """Call ``service.operation(**params)``; AWS errors become :class:`AwsOperationError`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client(service), operation)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            message = str(error.get("Message", "")).strip() or str(exc)
            raise AwsOperationError(
                f"{service} {operation} on {resource} failed: {code}: {message[:300]}. "
                f"What to do: {hint_for(code)}.",
                code=code,
            ) from exc
        except BotoCoreError as exc:
            raise AwsOperationError(
                f"{service} {operation} on {resource} failed: {exc}. What to do: check AWS "
                "credentials (AWS_PROFILE / `aws sso login`), --region and network access.",
                code=type(exc).__name__,
            ) from exc
        return response
