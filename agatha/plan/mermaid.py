"""A Mermaid picture of the layers, their main resources and how they connect.

Connections come from the real graph: resource A points at B when one of A's inputs
mentions B's id, ARN, URL or name. Paths through plumbing (roles, task definitions,
policies) are contracted so the picture shows service -> queue, not service -> role.
"""

from __future__ import annotations

import re
from collections import deque

from agatha.plan.graph import PlannedResource, ResourceGraph

MAIN_TYPES: dict[str, str] = {
    "cloudflare:index/dnsRecord:DnsRecord": "DNS (proxied)",
    "cloudflare:index/ruleset:Ruleset": "WAF / rules",
    "aws:ec2/vpc:Vpc": "VPC",
    "aws:ec2/natGateway:NatGateway": "NAT gateway",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "VPC endpoint",
    "aws:ec2clientvpn/endpoint:Endpoint": "Client VPN",
    "aws:lb/loadBalancer:LoadBalancer": "ALB",
    "aws:ecs/service:Service": "ECS gateway service",
    "aws:lambda/function:Function": "Lambda worker",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "SQS trigger",
    "aws:ecr/repository:Repository": "ECR",
    "aws:rds/cluster:Cluster": "Aurora PostgreSQL",
    "aws:elasticache/replicationGroup:ReplicationGroup": "Redis",
    "aws:s3/bucket:Bucket": "S3 bucket",
    "aws:sqs/queue:Queue": "SQS queue",
    "aws:sns/topic:Topic": "SNS topic",
    "aws:cloudtrail/trail:Trail": "CloudTrail",
    "aws:cloudwatch/dashboard:Dashboard": "CloudWatch dashboard",
    "aws:amp/workspace:Workspace": "Managed Prometheus",
    "aws:grafana/workspace:Workspace": "Managed Grafana",
    "datadog:index/serviceLevelObjective:ServiceLevelObjective": "Datadog SLO",
}
LAYER_ORDER = ("edge", "network", "compute", "data", "alerting", "monitoring")
_TOKEN = re.compile(r"[A-Za-z0-9:/._\-!@+=]{6,}")
_MAX_HOPS = 3


def render_mermaid(graph: ResourceGraph) -> str:
    """Mermaid `flowchart LR` source with one subgraph per layer."""
    order = list(MAIN_TYPES)
    main = sorted(
        (r for r in graph if r.type in MAIN_TYPES), key=lambda r: (order.index(r.type), r.name)
    )
    edges = _main_edges(graph, {r.urn for r in main})
    node_id = {r.urn: f"n{i}" for i, r in enumerate(main)}
    lines = ["flowchart LR"]
    for layer, members in _by_layer(graph, main).items():
        lines.append(f'  subgraph {layer}["{layer}"]')
        lines.extend(f'    {node_id[r.urn]}["{MAIN_TYPES[r.type]}<br/>{r.name}"]' for r in members)
        lines.append("  end")
    lines.extend(f"  {node_id[a]} --> {node_id[b]}" for a, b in sorted(edges))
    return "\n".join(lines) + "\n"


def _by_layer(
    graph: ResourceGraph, main: list[PlannedResource]
) -> dict[str, list[PlannedResource]]:
    layers: dict[str, list[PlannedResource]] = {layer: [] for layer in LAYER_ORDER}
    for resource in main:
        layers.setdefault(graph.layer_of(resource), []).append(resource)
    return {layer: members for layer, members in layers.items() if members}


def _main_edges(graph: ResourceGraph, main: set[str]) -> set[tuple[str, str]]:
    refs = _reference_edges(graph)
    edges: set[tuple[str, str]] = set()
    for start in main:
        seen = {start}
        queue = deque((target, 1) for target in refs.get(start, ()))
        while queue:
            urn, hops = queue.popleft()
            if urn in seen:
                continue
            seen.add(urn)
            if urn in main:
                edges.add((start, urn))
            elif hops < _MAX_HOPS:
                queue.extend((t, hops + 1) for t in refs.get(urn, ()))
    return edges


def _reference_edges(graph: ResourceGraph) -> dict[str, set[str]]:
    owners: dict[str, str] = {}
    # Own identities first: an output echoing an input of the same name (an EventTarget's
    # ``arn`` is the function it invokes) names another resource, so it only counts when
    # nothing else claims the value.
    for echoes in (False, True):
        for resource in graph:
            for key, value in _identity_values(resource):
                if (resource.inputs.get(key) == value) is echoes:
                    owners.setdefault(value, resource.urn)
    refs: dict[str, set[str]] = {}
    for resource in graph:
        for token in _tokens(resource.inputs):
            owner = owners.get(token)
            if owner is not None and owner != resource.urn:
                refs.setdefault(resource.urn, set()).add(owner)
    return refs


def _identity_values(resource: PlannedResource) -> list[tuple[str, str]]:
    keys = ("arn", "url", "dnsName", "bucket", "endpoint", "primaryEndpointAddress")
    values = [("id", resource.id)] + [(k, resource.outputs.get(k)) for k in keys]
    return [(k, v) for k, v in values if isinstance(v, str) and len(v) >= 6]


def _tokens(value: object) -> list[str]:
    if isinstance(value, str):
        return [value, *_TOKEN.findall(value)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tokens(v)]
    if isinstance(value, list):
        return [t for v in value for t in _tokens(v)]
    return []
