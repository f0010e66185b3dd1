// panva's oidc-provider as an upstream OAuth provider for Leash's end-to-end test:
// one confidential client (`leash`), authorization code with PKCE, refresh tokens
// rotated on every use, RFC 7009 revocation and RFC 7662 introspection, served over
// HTTPS with a certificate the caller made (its CA generated at run time).
//
// Environment: CERT_FILE and KEY_FILE (PEM), REDIRECT_URI (Leash's callback),
// CLIENT_SECRET, PORT (0: any free port). Prints `issuer <url>` once it listens.
// Its development login and consent pages take any login and password.

import fs from 'node:fs';
import https from 'node:https';

import Provider from 'oidc-provider';

const { CERT_FILE, KEY_FILE, REDIRECT_URI, CLIENT_SECRET } = process.env;
const server = https.createServer({
  cert: fs.readFileSync(CERT_FILE),
  key: fs.readFileSync(KEY_FILE),
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const issuer = `https://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'leash',
      client_secret: CLIENT_SECRET,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    scopes: ['openid', 'api'],
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    issueRefreshToken: () => true,
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      Grant: 86400,
      Interaction: 3600,
      RefreshToken: 86400,
      Session: 86400,
    },
    cookies: { keys: ['leash-e2e-cookie-key'] },
  });
  server.on('request', provider.callback());
  console.log(`issuer ${issuer}`);
});
