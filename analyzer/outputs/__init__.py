"""Outputs: report.html, findings.json, repair.sh and the terminal summary."""
