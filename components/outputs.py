"""Publishes the stack's tool-facing identifiers as SSM parameters under one prefix."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.published_outputs import PUBLISHED_KEYS, PUBLISHED_OUTPUTS


@dataclass
class OutputsArgs:
    """What to publish and where."""

    ssm_prefix: str
    values: dict[str, pulumi.Input[str]]
    tags: dict[str, str] = field(default_factory=dict)


class Outputs(pulumi.ComponentResource):
    """One SSM String parameter per published key, so `agatha` needs no Pulumi CLI."""

    values: dict[str, pulumi.Input[str]]

    def __init__(
        self, name: str, args: OutputsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:outputs:Outputs", name, None, opts)
        missing = PUBLISHED_KEYS - set(args.values)
        extra = set(args.values) - PUBLISHED_KEYS
        if missing or extra:
            # A drift here would break the ops CLI at 3 a.m.; fail the preview instead.
            raise ValueError(
                f"published outputs drifted from components/published_outputs.py: "
                f"missing {sorted(missing)}, undeclared {sorted(extra)}"
            )
        self.values = dict(args.values)
        descriptions = {o.key: o.description for o in PUBLISHED_OUTPUTS}
        for key in sorted(args.values):
            aws.ssm.Parameter(
                f"{name}-param-{key}",
                name=f"{args.ssm_prefix}{key}",
                type=aws.ssm.ParameterType.STRING,
                value=args.values[key],
                description=descriptions[key],
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"ssmPrefix": args.ssm_prefix})
