#!/usr/bin/env python3
"""Validates JSON Lines records against docs/record-schema.json.

usage: validate_records.py SCHEMA RECORDS.jsonl
Prints one line per record that does not validate (its line number, its type
and the first error) and exits 1 if there was any; exits 0 otherwise.
"""
import json
import sys

import jsonschema


def main():
    schema_path, records_path = sys.argv[1], sys.argv[2]
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    kinds = {d["properties"]["type"]["const"]: name for name, d in schema["$defs"].items()
             if isinstance(d.get("properties", {}).get("type"), dict) and "const" in d["properties"]["type"]}
    failures = 0
    with open(records_path) as f:
        for number, line in enumerate(f, 1):
            record = json.loads(line)
            kind = kinds.get(record.get("type"))
            if kind is None:
                print(f"line {number}: no schema for type {record.get('type')!r}")
                failures += 1
                continue
            # against its own kind, for a precise message, and against the whole schema
            own = {key: value for key, value in schema.items() if key != "oneOf"}
            own["$ref"] = f"#/$defs/{kind}"
            error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(own).iter_errors(record))
            if error is None:
                error = jsonschema.exceptions.best_match(validator.iter_errors(record))
            if error is not None:
                print(f"line {number} ({record.get('type')}): {error.json_path}: {error.message}")
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
