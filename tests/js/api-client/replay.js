// Replays @symblai/api-client 1.0.17's calls for issue 20's endpoints against a Parley
// server, unmodified: the token lifecycle (generate, refresh, revoke) and a conversation's
// intents through both generated classes that carry the call. api-client has no entity,
// Management or abstract-topic calls. Prints one JSON object of what the SDK handed back;
// tests/test_sdk_js.py asserts on it.
//
// Usage: PARLEY_URL=... APP_ID=... APP_SECRET=... CONVERSATION_ID=... node replay.js
'use strict';

const Symbl = require('@symblai/api-client');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const client = new Symbl.ApiClient();
client.basePath = env('PARLEY_URL').replace(/\/+$/, '');
const appId = env('APP_ID');
const appSecret = env('APP_SECRET');
const conversationId = env('CONVERSATION_ID');

// Every generated call takes a node-style callback: (error, data, response).
const call = (fn, ...args) =>
  new Promise((resolve) => {
    fn(...args, (error, data, response) => {
      resolve({
        error: error ? { status: error.status, body: error.response && error.response.body } : null,
        data,
        status: response ? response.status : error && error.status,
      });
    });
  });

const useToken = (token) => {
  client.authentications.jwt.apiKey = token;
};

(async () => {
  const out = {};
  const auth = new Symbl.AuthenticationApi(client);
  const intentsApi = new Symbl.IntentsApi(client);
  const conversationsApi = new Symbl.ConversationsApi(client);

  const grant = new Symbl.Grant('application');
  grant.appId = appId;
  grant.appSecret = appSecret;
  const generated = await call(auth.generateToken.bind(auth), grant);
  const token = generated.data;
  out.generate = {
    status: generated.status,
    model: token && token.constructor === Symbl.Token,
    accessToken: token && typeof token.accessToken === 'string' && token.accessToken.length > 0,
    refershToken: token && typeof token.refershToken === 'string' && token.refershToken.length > 0,
    expiresIn: token && token.expiresIn,
  };
  useToken(token.accessToken);

  out.intents = {};
  for (const [name, api] of [['IntentsApi', intentsApi], ['ConversationsApi', conversationsApi]]) {
    const read = await call(api.getIntentsByConversationId.bind(api), conversationId);
    out.intents[name] = {
      status: read.status,
      error: read.error,
      model: read.data && read.data.constructor === Symbl.IntentListResponse,
      intents: read.data && read.data.intents,
    };
    const unknown = await call(api.getIntentsByConversationId.bind(api), '1234567890123459');
    out.intents[name].unknown = unknown.error;
  }

  const request = new Symbl.RefreshTokenRequest();
  request.appId = appId;
  request.appSecret = appSecret;
  request.refreshToken = token.refershToken;
  const refreshed = await call(auth.refreshToken.bind(auth), request);
  const renewed = refreshed.data;
  out.refresh = {
    status: refreshed.status,
    error: refreshed.error,
    model: renewed && renewed.constructor === Symbl.Token,
    newAccessToken: renewed && renewed.accessToken !== token.accessToken,
  };
  useToken(renewed.accessToken);
  const withRenewed = await call(intentsApi.getIntentsByConversationId.bind(intentsApi), conversationId);
  out.refresh.renewedWorks = withRenewed.status;

  const revoke = new Symbl.RevokeTokenRequest();
  revoke.appId = appId;
  revoke.appSecret = appSecret;
  const revoked = await call(auth.revokeToken.bind(auth), revoke);
  out.revoke = { status: revoked.status, error: revoked.error, data: revoked.data };
  const after = await call(intentsApi.getIntentsByConversationId.bind(intentsApi), conversationId);
  out.revoke.afterwards = after.error;

  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
