"""A stock OAuth client library (authlib) talks to a running Leash as an agent runtime
would: it finds the endpoints by RFC 8414 discovery, exchanges a user's session token
for a delegated agent session (RFC 8693), refreshes it, has it introspected (RFC 7662)
and revokes it (RFC 7009), once with each client authentication method.

Needs LEASH_URL (the server's public URL) and LEASH_ADMIN_KEY (an admin API key).
"""

import os
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"

base = os.environ["LEASH_URL"]
admin = {"Authorization": f"Bearer {os.environ['LEASH_ADMIN_KEY']}"}


class ApiKey(requests.auth.AuthBase):
    """Introspection takes an API key as a bearer token."""

    def __call__(self, request):
        request.headers.update(admin)
        return request


def post(path, body):
    answer = requests.post(f"{base}{path}", json=body, headers=admin, timeout=10)
    assert answer.status_code in (200, 201), (path, answer.status_code, answer.text)
    return answer.json()


def check(method):
    user = post("/v1/users", {"external_id": f"interop-{method}"})
    device = post(f"/v1/users/{user['id']}/sessions", {"user_agent": "interop"})
    registered = post("/v1/agents", {"name": f"authlib {method}", "scopes": ["calendar.read", "mail.send"]})
    post(f"/v1/users/{user['id']}/grants", {"agent_id": registered["agent"]["id"], "scopes": ["calendar.read", "mail.send"]})

    metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == base, metadata
    assert EXCHANGE in metadata["grant_types_supported"], metadata
    assert method in metadata["token_endpoint_auth_methods_supported"], metadata

    client = OAuth2Session(
        registered["client_id"],
        registered["client_secret"],
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
    )
    token = client.fetch_token(
        metadata["token_endpoint"],
        grant_type=EXCHANGE,
        subject_token=device["token"],
        subject_token_type=ACCESS_TOKEN,
        scope="calendar.read",
    )
    assert token["access_token"].startswith("leash_at_"), token
    assert token["token_type"].lower() == "bearer", token
    assert token["scope"] == "calendar.read", token

    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"], refreshed
    assert refreshed["refresh_token"] != token["refresh_token"], refreshed

    def introspect(access_token):
        answer = client.introspect_token(
            metadata["introspection_endpoint"], token=access_token, auth=ApiKey()
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    live = introspect(refreshed["access_token"])
    assert live["active"] is True, live
    assert live["client_id"] == registered["client_id"], live
    assert introspect(token["access_token"]) == {"active": False}, "the rotated token still works"

    revoked = client.revoke_token(
        metadata["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200, revoked.text
    assert introspect(refreshed["access_token"]) == {"active": False}, "revocation left the session alive"
    print(f"oauth interop ({method}): discovery, exchange, refresh, introspection, revocation ok")


for auth_method in ("client_secret_basic", "client_secret_post"):
    check(auth_method)
sys.exit(0)
