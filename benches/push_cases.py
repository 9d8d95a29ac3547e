#!/usr/bin/env python3
"""Pushes N closed service cases B-0000000… to a kaohe server through POST /api/v1/cases,
1,000 per request, for benches/ratings_intake.sh.

Usage: push_cases.py BASE_URL TOKEN UNIT N
"""

import datetime
import http.client
import json
import sys
import urllib.parse


def main():
    base, token, unit, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    closed = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).isoformat(timespec="seconds")
    for start in range(0, n, 1000):
        cases = [
            {"id": f"B-{i:07d}", "item": "社保卡办理", "unit": unit, "window": "W-01",
             "channel": "window", "accepted_at": closed, "closed_at": closed,
             "phone": f"139{i:08d}"}
            for i in range(start, min(n, start + 1000))
        ]
        conn.request("POST", "/api/v1/cases", json.dumps({"cases": cases}),
                     {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit(f"pushing cases failed: {r.status} {body[:300]!r}")


if __name__ == "__main__":
    main()
