#!/usr/bin/python3
"""schemacheck.py SCHEMA FILE... - validates every JSON line of the files against
tapline's JSON Schema (--list-fields --json) with Debian's python3-jsonschema.

Each line is checked against the definition its event_type names (for readable
errors) and against the whole schema (oneOf by event_type). Prints one line per
failure (file:line: event_type: message) and, at the end, how many lines of each
type were checked; exits 1 on any failure or when nothing was checked.
"""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    fmt = jsonschema.FormatChecker()
    whole = jsonschema.Draft202012Validator(schema, format_checker=fmt)
    per_type = {}
    for name, sub in schema["$defs"].items():
        jsonschema.Draft202012Validator.check_schema(sub)
        per_type[name] = jsonschema.Draft202012Validator(sub, format_checker=fmt)
    counts, failures = {}, 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                ev = json.loads(line)
                t = ev.get("event_type")
                v = per_type.get(t)
                if v is None:
                    print(f"{path}:{lineno}: unknown event_type {t!r}")
                    failures += 1
                    continue
                errs = sorted(v.iter_errors(ev), key=lambda e: list(e.path))
                if not errs and not whole.is_valid(ev):
                    errs = [jsonschema.ValidationError("valid for its type, not for the whole schema")]
                for e in errs[:3]:
                    where = "/".join(str(p) for p in e.path)
                    print(f"{path}:{lineno}: {t}: {where}: {e.message[:300]}")
                failures += bool(errs)
                counts[t] = counts.get(t, 0) + 1
    print("checked: " + ", ".join(f"{t} {n}" for t, n in sorted(counts.items())))
    return 1 if failures or not counts else 0


if __name__ == "__main__":
    sys.exit(main())
