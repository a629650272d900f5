// A real OpenID Connect provider for the identity tests: oauth2-mock-server signs tokens
// with keys it generates and serves discovery and JWKS like any provider.
//
// Started by the test harness; prints {"issuer": "..."} once listening. Besides the
// provider's own endpoints:
// - POST /token takes the usual client_credentials form plus `claims`, a JSON object the
//   token's payload is overwritten with (sub, roles, exp, nbf, iss... as a test needs);
// - POST /rotate generates another signing key (`alg` in the query) and answers its kid.
import http from 'node:http';

import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

server.service.on('beforeTokenSigning', (token, req) => {
  const claims = req.body?.claims;
  if (typeof claims === 'string' && claims.length > 0) {
    Object.assign(token.payload, JSON.parse(claims));
  }
});

const rotate = async (req, res) => {
  const alg = new URL(req.url, 'http://localhost').searchParams.get('alg') ?? 'RS256';
  const key = await server.issuer.keys.generate(alg);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kid: key.kid }));
};

const handler = server.service.requestHandler;
const wrapped = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/rotate')) {
    rotate(req, res).catch((e) => { res.writeHead(500); res.end(String(e)); });
    return;
  }
  handler(req, res);
});
await new Promise((resolve) => wrapped.listen(0, '127.0.0.1', resolve));
server.issuer.url = `http://127.0.0.1:${wrapped.address().port}`;
console.log(JSON.stringify({ issuer: server.issuer.url }));

const stop = () => wrapped.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The harness closes stdin when it is done, so a killed test leaves no provider behind.
process.stdin.on('end', stop);
process.stdin.resume();
