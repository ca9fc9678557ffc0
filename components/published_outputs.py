"""What a stack publishes for tools: the same keys as stack exports and SSM parameters.

The ops CLI (``runbooks/``) reads ``<ssm_prefix><key>`` with boto3, so it works without
the Pulumi CLI; ``__main__.py`` exports and writes exactly these keys. Pure: no Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedOutput:
    """One identifier a stack publishes."""

    key: str
    description: str
    layer: str


PUBLISHED_OUTPUTS: tuple[PublishedOutput, ...] = (
    PublishedOutput("vpc-id", "VPC id", "network"),
    PublishedOutput("alb-dns-name", "DNS name of the gateway's load balancer", "compute"),
    PublishedOutput("alb-arn-suffix", "ALB ARN suffix (CloudWatch dimension)", "compute"),
    PublishedOutput("ecs-cluster-name", "ECS cluster of the gateway", "compute"),
    PublishedOutput("gateway-service-name", "ECS service name of the gateway", "compute"),
    PublishedOutput("gateway-repository-url", "ECR repository of the gateway image", "compute"),
    PublishedOutput("worker-function-name", "Lambda worker function name", "compute"),
    PublishedOutput("queue-url", "URL of the inference job queue", "data"),
    PublishedOutput("dlq-url", "URL of the inference dead-letter queue", "data"),
    PublishedOutput("archive-bucket", "S3 bucket holding archived prompts and responses", "data"),
    PublishedOutput("db-cluster-id", "Aurora cluster identifier", "data"),
    PublishedOutput("db-endpoint", "Aurora writer endpoint", "data"),
    PublishedOutput("db-master-secret-arn", "RDS-managed master credentials secret", "data"),
    PublishedOutput("cache-replication-group-id", "ElastiCache replication group id", "data"),
    PublishedOutput("cache-auth-secret-arn", "Secret holding the Redis AUTH token", "data"),
    PublishedOutput("jwt-signing-secret-arn", "Secret holding the JWT signing keys", "data"),
    PublishedOutput("events-topic-arn", "SNS topic for platform events", "data"),
    PublishedOutput("secret-arn-openai", "OpenAI API key secret", "data"),
    PublishedOutput("secret-arn-anthropic", "Anthropic API key secret", "data"),
    PublishedOutput("secret-arn-together", "Together AI API key secret", "data"),
    PublishedOutput("secret-arn-google", "Google AI API key secret", "data"),
    PublishedOutput("secret-arn-stripe", "Stripe API key secret", "data"),
    PublishedOutput("secret-arn-paypal", "PayPal credentials secret", "data"),
    PublishedOutput("secret-arn-sendgrid", "SendGrid API key secret", "data"),
    PublishedOutput("secret-arn-twilio", "Twilio credentials secret", "data"),
)

PUBLISHED_KEYS: frozenset[str] = frozenset(o.key for o in PUBLISHED_OUTPUTS)

# Services whose credentials live in one Secrets Manager secret each (data layer).
PROVIDER_SECRETS: tuple[str, ...] = ("openai", "anthropic", "together", "google")
SERVICE_SECRETS: tuple[str, ...] = ("stripe", "paypal", "sendgrid", "twilio")
