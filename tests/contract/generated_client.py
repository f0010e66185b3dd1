"""A client generated from the committed OpenAPI document (openapi-python-client) calls a
running Leash: it creates a user, reads it back and lists its sessions, with typed
request and response models. A document whose bodies a generator cannot read fails here.

Needs LEASH_URL, LEASH_ADMIN_KEY, and the generated package importable as leash_client.
"""

import os

from leash_client import AuthenticatedClient
from leash_client.api.default import get_v1_users_user_id, get_v1_users_user_id_sessions, post_v1_users
from leash_client.models import CreateUserRequest, UserBody, UserSessionList

client = AuthenticatedClient(base_url=os.environ["LEASH_URL"], token=os.environ["LEASH_ADMIN_KEY"])

created = post_v1_users.sync(client=client, body=CreateUserRequest(external_id="generated-client"))
assert isinstance(created, UserBody), created
fetched = get_v1_users_user_id.sync(client=client, user_id=created.id)
assert isinstance(fetched, UserBody) and fetched.external_id == "generated-client", fetched
sessions = get_v1_users_user_id_sessions.sync(client=client, user_id=created.id, limit=10)
assert isinstance(sessions, UserSessionList) and sessions.data == [], sessions
print(f"generated client: created, read and listed user {created.id}")
