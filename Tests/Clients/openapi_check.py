"""Validates the daemon's OpenAPI document with openapi-spec-validator (PyPI).

Usage: openapi_check.py HOST:PORT USERNAME PASSWORD
"""
import json
import sys
import urllib.request

from openapi_spec_validator import validate


def main():
    host = sys.argv[1]
    with urllib.request.urlopen("http://%s/api/v2.0/openapi.json" % host, timeout=10) as response:
        document = json.load(response)
    validate(document)
    print("openapi %s: valid, %d paths" % (document["openapi"], len(document["paths"])))
    print("done")


main()
