"""Offline Helm for the tests: lint, render and schema-check the chart with Helm 4's
library (helm-python-sdk). Prints JSON; exits 1 when Helm reports a problem.

    python3 tools/helm/helm_tool.py lint CHART [VALUES.yaml]
    python3 tools/helm/helm_tool.py render CHART VALUES.yaml OUTDIR
    python3 tools/helm/helm_tool.py schema CHART VALUES.yaml
"""
import json
import os
import sys

import helm_python


def values(path):
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        return helm_python.values_from_yaml(f.read()) or {}


def main(argv):
    command, chart = argv[1], argv[2]
    if command == "lint":
        report = helm_python.lint(chart, values(argv[3] if len(argv) > 3 else None), strict=True, kube_version="v1.30.0")
        print(json.dumps(report, indent=2))
        problems = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2] + report.get("errors", [])
        return 1 if problems else 0
    with helm_python.Chart.load(chart) as c:
        if command == "schema":
            try:
                c.validate_schema(values(argv[3]))
            except helm_python.HelmValuesError as e:
                print(json.dumps({"valid": False, "error": str(e)}))
                return 1
            print(json.dumps({"valid": True}))
            return 0
        if command == "render":
            out = argv[4]
            rendered = c.render(values(argv[3]), name="slogate", namespace="monitoring", is_install=True)
            written = []
            for path, text in sorted(rendered.items()):
                if not text.strip() or path.endswith("NOTES.txt"):
                    continue
                target = os.path.join(out, path.replace("/", "__"))
                with open(target, "w", encoding="utf-8") as f:
                    f.write(text)
                written.append(target)
            notes = [t for p, t in rendered.items() if p.endswith("NOTES.txt")]
            print(json.dumps({"files": written, "notes": notes[0] if notes else ""}, indent=2))
            return 0
    print(f"unknown command {command}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
