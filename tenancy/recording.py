"""Run the real Pulumi program in-process under mocks and record every resource it registers.

Pulumi's mock monitor sees each resource's inputs; a stack transformation sees its options (parent, protect,
dependencies). Together they are what `pulumi up` would send to the engine, without a CLI or a cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import pulumi
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

# How the Python SDK marks a secret value on the wire (sdk/python/lib/pulumi/runtime/rpc.py).
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"
PROJECT = "tenancy"


def clean(value: Any) -> Any:
    """Wire values back to plain YAML-able data: secrets redacted, integral floats (all numbers travel as
    doubles) back to ints."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG_KEY) == _SECRET_SIG:
            return REDACTED
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Recorded:
    type: str
    name: str
    custom: bool
    inputs: dict = field(default_factory=dict)
    parent: str | None = None  # name of the parent resource (None for the stack's direct children)
    parent_type: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    depends_on: list[str] = field(default_factory=list)  # "type::name" of each explicit dependency

    @property
    def key(self) -> str:
        return f"{self.type}::{self.name}"


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.inputs[f"{args.typ}::{args.name}"] = clean(args.inputs)
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        # No failures as [], not None: MockMonitor iterates the second item whenever it is handed a tuple.
        return {}, []


@dataclass
class Recording:
    resources: list[Recorded]

    def custom(self) -> list[Recorded]:
        return [r for r in self.resources if r.custom]

    def by_type(self, type_: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> Recorded:
        for r in self.resources:
            if r.type == type_ and r.name == name:
                return r
        raise KeyError(f"{type_}::{name}")


def _dependency_key(resource: Any) -> str:
    return f"{resource._type}::{resource._name}"


def record(program: Callable[[], None], stack: str, config: dict[str, str], secret_keys: Sequence[str] = (),
           on_resource: Callable[[], None] | None = None) -> Recording:
    """Run `program` as stack `stack` of project `tenancy` with `config` (namespaced keys, JSON-encoded values);
    `on_resource` is called as each resource is created (progress)."""
    recorder = _Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    order: list[Recorded] = []

    def observe(args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts
        parent = opts.parent if opts and isinstance(opts.parent, pulumi.Resource) else None
        if parent is not None and parent._type == "pulumi:pulumi:Stack":
            parent = None
        order.append(Recorded(
            type=args.type_, name=args.name, custom=isinstance(args.resource, pulumi.CustomResource),
            parent=parent._name if parent is not None else None,
            parent_type=parent._type if parent is not None else None,
            protect=bool(opts.protect) if opts else False,
            retain_on_delete=bool(opts.retain_on_delete) if opts else False,
            depends_on=[_dependency_key(d) for d in (opts.depends_on or [])] if opts and isinstance(opts.depends_on, list) else [],
        ))
        if on_resource is not None:
            on_resource()
        return None

    # set_mocks keeps the process's root stack across runs, and with it every transformation registered so far.
    root = get_root_resource()
    if root is None:
        raise RuntimeError("pulumi.runtime.set_mocks left no root stack to register the transformation on")
    earlier = root._transformations
    pulumi.runtime.register_stack_transformation(observe)
    try:
        _sync_await(run_pulumi_func(program))
    finally:
        root._transformations = earlier
    for resource in order:
        resource.inputs = recorder.inputs.get(resource.key, {})
    return Recording(order)


def config_for_pulumi(values: dict[str, Any]) -> dict[str, str]:
    """Pulumi keeps every config value as a string; structured ones as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def close_event_loop() -> None:
    """Close the event loop Pulumi's runtime ran on, as `asyncio.run` would: cancel what is left, shut down async
    generators and the default executor. Left open, the loop is collected during interpreter shutdown, where
    `BaseEventLoop.__del__` now and then finds its executor half torn down and prints a traceback (about one
    run in twelve). For the CLI, after its one render; a process that renders again gets a fresh loop."""
    import asyncio

    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if loop.is_running() or loop.is_closed():
        return
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
