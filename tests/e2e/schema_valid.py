"""Validate JSON text against a JSON schema, for the subset umi supports
(docs/SERVER.md, "Structured output"); written for the tests, no packages.
usage: schema_valid.py SCHEMA_JSON TEXT  -> prints "valid" or why not."""
import json
import sys


def valid(v, s, doc):
    if s is True or s is None or s == {}:
        return True
    if "$ref" in s:
        r = s["$ref"]
        if r == "#":
            return valid(v, doc, doc)
        _, defs, name = r.split("/", 2)
        return valid(v, doc[defs][name], doc)
    for kw, need in (("anyOf", lambda n, k: n >= 1), ("oneOf", lambda n, k: n == 1), ("allOf", lambda n, k: n == k)):
        if kw in s:
            return need(sum(valid(v, a, doc) for a in s[kw]), len(s[kw]))
    if "const" in s and v != s["const"]:
        return False
    if "enum" in s and not any(v == e and type(v) is type(e) for e in s["enum"]):
        return False
    types = s.get("type")
    if isinstance(types, list):
        return any(valid(v, dict(s, type=t), doc) for t in types)
    if types is None:
        return True
    if types == "null":
        return v is None
    if types == "boolean":
        return isinstance(v, bool)
    if types in ("number", "integer"):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        ok = ok and (types == "number" or float(v).is_integer())
        return ok and v >= s.get("minimum", v) and v <= s.get("maximum", v) and \
            ("exclusiveMinimum" not in s or v > s["exclusiveMinimum"]) and \
            ("exclusiveMaximum" not in s or v < s["exclusiveMaximum"])
    if types == "string":
        return isinstance(v, str) and s.get("minLength", 0) <= len(v) <= s.get("maxLength", len(v))
    if types == "array":
        return (isinstance(v, list) and s.get("minItems", 0) <= len(v) <= s.get("maxItems", len(v))
                and all(valid(e, s.get("items"), doc) for e in v))
    if not isinstance(v, dict) or any(k not in v for k in s.get("required", [])):
        return False
    props = s.get("properties", {})
    if s.get("additionalProperties") is False and any(k not in props for k in v):
        return False
    return all(valid(e, props.get(k), doc) for k, e in v.items())


if __name__ == "__main__":
    schema = json.loads(sys.argv[1])
    try:
        value = json.loads(sys.argv[2])
    except ValueError as e:
        print("not JSON: %s" % e)
        sys.exit(0)
    print("valid" if valid(value, schema, schema) else "invalid: %s" % sys.argv[2][:300])
