#!/usr/bin/env python3
"""Validates the gateway's OpenAPI document against the OpenAPI 3.0 specification.

Uses openapi-spec-validator when it is installed; exits 77 (skip) when it is not, so the
unit suite stays runnable everywhere.
"""
import json
import sys

try:
    from openapi_spec_validator import validate
except ImportError:
    print("openapi-spec-validator is not installed: skipping")
    sys.exit(77)

with open(sys.argv[1], encoding="utf-8") as f:
    document = json.load(f)

if document.get("openapi") != "3.0.3":
    print("not an OpenAPI 3.0.3 document:", document.get("openapi"))
    sys.exit(1)

try:
    validate(document)
except Exception as error:  # the validator raises its own exception types per version
    print("invalid OpenAPI document:", error)
    sys.exit(1)

print("valid OpenAPI", document["openapi"], "with", len(document["paths"]), "paths")
