"""The state machines, from the same `stepfunctions/*.asl.json` files CloudFormation deploys.

The ASL refers to everything deployment-specific through DefinitionSubstitutions placeholders
(`${Name}`), which CloudFormation fills on AWS and `substitute` fills here. Lambda ARNs follow one
convention: `${<CamelCaseHandlerName>FunctionArn}`, e.g. `${WfInitiateFunctionArn}` for `wf_initiate`.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

ASL_SUFFIX = ".asl.json"
NAME_PREFIX = "cms-local"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class SubstitutionError(ValueError):
    """An ASL file names a placeholder the local system has no value for."""


def asl_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{ASL_SUFFIX}")) if folder.is_dir() else []


def stem(path: Path) -> str:
    return path.name[: -len(ASL_SUFFIX)]


def machine_name(asl_stem: str, prefix: str = NAME_PREFIX) -> str:
    return f"{prefix}-{asl_stem.replace('_', '-')}"  # case_workflow -> cms-local-case-workflow


def env_var(asl_stem: str) -> str:
    return f"{asl_stem.upper()}_ARN"  # case_workflow -> CASE_WORKFLOW_ARN


def machine_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def machine_arns(files: list[Path], region: str, account: str, prefix: str = NAME_PREFIX) -> dict[str, str]:
    """{stem: ARN} of the state machines `deploy` will create: known before they exist."""
    return {stem(path): machine_arn(region, account, machine_name(stem(path), prefix)) for path in files}


def function_placeholder(handler_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in handler_name.split("_") if part) + "FunctionArn"


def function_substitutions(function_arns: Mapping[str, str]) -> dict[str, str]:
    """{handler name: ARN} -> {"WfInitiateFunctionArn": ARN, ...}."""
    return {function_placeholder(name): arn for name, arn in function_arns.items()}


def substitute(definition: Any, values: Mapping[str, str], source: str = "definition") -> Any:
    """Replace `${Name}` in every string of a parsed ASL document, as CloudFormation does."""
    missing: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            missing.add(match.group(1))
            return match.group(0)
        return values[match.group(1)]

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return _PLACEHOLDER.sub(fill, node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {walk(key): walk(value) for key, value in node.items()}
        return node

    result = walk(definition)
    if missing:
        raise SubstitutionError(
            f"{source} uses {', '.join('${' + m + '}' for m in sorted(missing))}, which the local system does "
            f"not define (known: {', '.join(sorted(values)) or 'none'}); a Lambda ARN needs a handler of that "
            "name (e.g. ${WfInitiateFunctionArn} -> @app.lambda_function(name='wf_initiate'))"
        )
    return result


def deploy(
    sfn: Any, files: list[Path], values: Mapping[str, str], role_arn: str, prefix: str = NAME_PREFIX,
) -> dict[str, str]:
    """Create or update one state machine per ASL file; returns {stem: state machine ARN}."""
    existing = {
        m["name"]: m["stateMachineArn"]
        for page in sfn.get_paginator("list_state_machines").paginate()
        for m in page["stateMachines"]
    }
    arns: dict[str, str] = {}
    for path in files:
        definition = json.dumps(substitute(json.loads(path.read_text()), values, path.name))
        name = machine_name(stem(path), prefix)
        if name in existing:
            sfn.update_state_machine(stateMachineArn=existing[name], definition=definition, roleArn=role_arn)
            arns[stem(path)] = existing[name]
        else:
            arns[stem(path)] = sfn.create_state_machine(
                name=name, definition=definition, roleArn=role_arn, type="STANDARD",
            )["stateMachineArn"]
    return arns
