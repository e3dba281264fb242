"""Rebuild the shipped Kubernetes schemas: one self-contained file per kind, descriptions dropped.

Input is a ``*-local-strict`` folder of yannh/kubernetes-json-schema as the ``kubernetes-validate`` wheel ships
it (``kubernetes_validate/kubernetes-json-schema/v1.30.0-local-strict``). Every ``$ref`` into its
``_definitions.json`` is replaced by a local ``#/$defs/...`` reference, and only the definitions a kind reaches
are kept. Run::

    python tests/deploy/schemas/bundle_k8s.py SOURCE_DIR tests/deploy/schemas/k8s-v1.30.0 \\
        deployment-apps-v1 statefulset-apps-v1 service-v1 secret-v1 configmap-v1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFS_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")  # from a kind file, and within the definitions
DROPPED_KEYS = frozenset({"description", "$id"})


def bundle(kind_schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """``kind_schema`` with the definitions it reaches inlined under ``$defs``."""
    needed: dict[str, Any] = {}
    body = _rewrite(kind_schema, definitions, needed)
    body["$defs"] = dict(sorted(needed.items()))
    return body


def _rewrite(node: Any, definitions: dict[str, Any], needed: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, definitions, needed) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key in DROPPED_KEYS or key.startswith("x-kubernetes"):
            continue
        if key == "$ref" and value.startswith(DEFS_PREFIXES):
            name = value.rpartition("/")[2]
            if name not in needed:
                needed[name] = {}  # placeholder first: definitions may refer to themselves
                needed[name] = _rewrite(definitions[name], definitions, needed)
            value = f"#/$defs/{name}"
        result[key] = _rewrite(value, definitions, needed)
    return result


def main(argv: list[str]) -> int:
    source, target, *kinds = argv
    definitions = json.loads((Path(source) / "_definitions.json").read_text())["$defs"]
    Path(target).mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        schema = json.loads((Path(source) / f"{kind}.json").read_text())
        bundled = bundle(schema, definitions)
        (Path(target) / f"{kind}.json").write_text(json.dumps(bundled, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
