"""Prepares a running Leash for schemathesis: an API key of each role other than admin,
and an agent whose client credentials authenticate the OAuth endpoints. Prints them as
shell assignments for `tests/contract/run`.

Needs LEASH_URL and LEASH_ADMIN_KEY.
"""

import base64
import os
import shlex

import requests

base = os.environ["LEASH_URL"]
admin_key = os.environ["LEASH_ADMIN_KEY"]
admin = {"Authorization": f"Bearer {admin_key}"}


def post(path, body):
    answer = requests.post(f"{base}{path}", json=body, headers=admin, timeout=10)
    assert answer.status_code in (200, 201), (path, answer.status_code, answer.text)
    return answer.json()


agent = post("/v1/agents", {"name": "schemathesis", "scopes": ["calendar.read"]})
basic = base64.b64encode(f"{agent['client_id']}:{agent['client_secret']}".encode()).decode()

assignments = {
    "LEASH_ADMIN_KEY": admin_key,
    "LEASH_RISK_KEY": post("/v1/api-keys", {"role": "risk"})["secret"],
    "LEASH_INTROSPECT_KEY": post("/v1/api-keys", {"role": "introspect"})["secret"],
    "LEASH_SCHEMATHESIS_AGENT_BASIC": basic,
}
for name, value in assignments.items():
    print(f"{name}={shlex.quote(value)}")
