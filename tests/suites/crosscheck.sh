#!/usr/bin/env bash
# crosscheck.sh - flows against tshark, Zeek's conn.log and ndpiReader on ../shared/pcaps.
exec python3 "$(dirname "$0")/../lib/crosscheck.py"
