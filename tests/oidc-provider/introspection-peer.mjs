// panva's oidc-provider (the version the end-to-end test runs) as the peer of Leash's
// introspection benchmark (`cargo bench --bench introspection`): RFC 7662 introspection
// of opaque access tokens over plain HTTP on 127.0.0.1, one Node process.
//
// It stores TOKENS access tokens (default 1,000,000) of 1,000 grants, as Leash's
// benchmark stores as many sessions of 1,000 users, in a `Map` (the package's own memory
// adapter keeps only 1,000 entries; any database adapter would be slower than a Map).
// Their values go to TOKENS_FILE, one per line. The resource server introspecting them is
// the confidential client `resource-server` (client_secret_basic, CLIENT_SECRET).
// Prints `listening <url>` once the tokens are stored and it accepts requests.

import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const TOKENS = Number(process.env.TOKENS ?? 1_000_000);
const GRANTS = 1_000;
const { TOKENS_FILE, CLIENT_SECRET } = process.env;

const storage = new Map();

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload) {
    storage.set(this.key(id), payload);
  }

  async find(id) {
    return storage.get(this.key(id));
  }

  async findByUid(uid) {
    return storage.get(`uid:${uid}`);
  }

  async findByUserCode(userCode) {
    return storage.get(`userCode:${userCode}`);
  }

  async consume(id) {
    storage.get(this.key(id)).consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    storage.delete(this.key(id));
  }

  async revokeByGrantId() {}
}

const provider = new Provider('http://127.0.0.1', {
  adapter: MapAdapter,
  clients: [
    {
      client_id: 'agent',
      client_secret: 'unused-agent-secret',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    {
      client_id: 'resource-server',
      client_secret: CLIENT_SECRET,
      redirect_uris: [],
      grant_types: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['openid', 'api'],
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
  },
  ttl: { AccessToken: 86400, Grant: 86400 },
  cookies: { keys: ['leash-bench-cookie-key'] },
});

const client = await provider.Client.find('agent');
const grants = [];
for (let g = 0; g < GRANTS; g += 1) {
  const grant = new provider.Grant({ accountId: `person-${g}`, clientId: 'agent' });
  grant.addOIDCScope('openid api');
  grants.push({ id: await grant.save(), accountId: `person-${g}` });
}
const out = fs.createWriteStream(TOKENS_FILE);
for (let i = 0; i < TOKENS; i += 1) {
  const { id, accountId } = grants[i % GRANTS];
  const token = new provider.AccessToken({
    accountId,
    client,
    grantId: id,
    scope: 'openid api',
  });
  const value = await token.save();
  if (!out.write(`${value}\n`)) {
    await new Promise((resolve) => { out.once('drain', resolve); });
  }
}
await new Promise((resolve) => { out.end(resolve); });

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`);
});
