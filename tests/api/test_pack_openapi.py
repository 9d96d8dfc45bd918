"""The OpenAPI document covers every endpoint, each with an example, and the submission bodies."""

from __future__ import annotations


def _has_example(node) -> bool:
    if isinstance(node, dict):
        if node.get("example") is not None or node.get("examples"):
            return True
        return any(_has_example(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_example(value) for value in node)
    return False


def _resolve(document: dict, node, depth: int = 0):
    """The node with its $refs into components inlined (a few levels deep)."""
    if depth > 4:
        return node
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(document, document["components"]["schemas"][name], depth + 1)
        return {key: _resolve(document, value, depth) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(document, value, depth) for value in node]
    return node


def test_every_operation_documents_an_example(api):
    document = api.client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]
    assert len(operations) >= 14
    def success(op: dict) -> dict:
        return {code: answer for code, answer in op.get("responses", {}).items() if code.startswith("2")}

    missing = [f"{method.upper()} {path}" for path, method, op in operations
               if not _has_example(_resolve(document, success(op)))
               and not _has_example(_resolve(document, op.get("requestBody", {})))]
    assert missing == []
    submit = document["paths"]["/v1/packs"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("PackSubmission")
    assert "AssetIn" in document["components"]["schemas"]
    assert {"text/csv", "multipart/form-data"} <= set(document["paths"]["/v1/packs/csv"]["post"]["requestBody"]["content"])
    assert api.client.get("/docs").status_code == 200
