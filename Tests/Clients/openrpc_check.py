"""Validates the daemon's OpenRPC document against the OpenRPC meta-schema with jsonschema (PyPI).

The OpenRPC meta-schema is draft-07 and names its schema meta-schema by address (https://meta.json-schema.tools);
both files are read from Tests/Clients/openrpc and registered under their addresses, so nothing is fetched.

Usage: openrpc_check.py HOST:PORT USERNAME PASSWORD
"""
import json
import os
import sys
import urllib.request

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7


def main():
    host = sys.argv[1]
    with urllib.request.urlopen("http://%s/api/openrpc.json" % host, timeout=10) as response:
        document = json.load(response)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "openrpc", "meta-schema.json")) as handle:
        meta = json.load(handle)
    with open(os.path.join(here, "openrpc", "json-schema-tools-meta-schema.json")) as handle:
        schema_meta = Resource(contents=json.load(handle), specification=DRAFT7)
    registry = Registry().with_resources([("https://meta.json-schema.tools", schema_meta),
                                          ("https://meta.json-schema.tools/", schema_meta)])
    # Formats stay annotations, as JSON Schema has them by default: the spec lets a server's url be relative.
    validator = jsonschema.Draft7Validator(meta, registry=registry)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors[:20]:
        print("invalid at %s: %s" % ("/".join(str(p) for p in error.absolute_path), error.message[:300]))
    if errors:
        sys.exit(1)
    # Negative controls: documents the meta-schema must refuse, so a validator that accepts anything fails here,
    # down to the parameters' JSON Schemas.
    controls = {
        "a method without params": {"name": "x.y", "result": {"name": "r", "schema": True}},
        "a parameter schema with a bad type": {"name": "x.y", "params": [{"name": "a", "schema": {"type": 5}}]},
    }
    for what, method in controls.items():
        if validator.is_valid(dict(document, methods=[method])):
            print("the meta-schema accepted " + what)
            sys.exit(1)
    names = [method["name"] for method in document["methods"]]
    print("openrpc %s: valid, %d methods, %d event types" % (document["openrpc"], len(names), len(document["x-events"])))
    print("methods: " + " ".join(names))
    print("done")


main()
