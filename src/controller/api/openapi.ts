// The OpenAPI 3 document of the REST API, generated from the model's schemas.
import { allTypes } from '../../model/registry.js';
import { API_VERSION } from './routes.js';

export function openApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
  };
  const paths: Record<string, unknown> = {};
  const err = (d: string) => ({ description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const errors = { 400: err('invalid: the message names the field'), 401: err('not logged in'), 403: err('forbidden'), 404: err('no such object'), 409: err('duplicate name or still referenced'), 412: err('stale _last_modified') };
  const listParams = ['name', 'name.contains', 'name.in', 'created_by', 'cloud_ref.name', 'include_name', 'fields', 'page', 'page_size', 'sort', 'label_key', 'label_value', 'vrf_context_ref.name']
    .map((name) => ({ name, in: 'query', required: false, schema: { type: name === 'page' || name === 'page_size' ? 'integer' : 'string' } }));
  for (const info of allTypes) {
    if (info.internalOnly) continue;
    const ref = { $ref: `#/components/schemas/${info.model}` };
    schemas[info.model] = JSON.parse(JSON.stringify(info.schema));
    const one = { 'application/json': { schema: ref } };
    const tag = [info.model];
    paths[`/api/${info.type}`] = {
      get: { tags: tag, summary: `List ${info.model} objects`, parameters: listParams, responses: { 200: { description: '{count, results, next?}', content: { 'application/json': { schema: { type: 'object', properties: { count: { type: 'integer' }, results: { type: 'array', items: ref }, next: { type: 'string' } } } } } }, ...errors } },
      ...(info.singleton ? {} : { post: { tags: tag, summary: `Create a ${info.model}`, requestBody: { content: one }, responses: { 201: { description: 'the stored object', content: one }, ...errors } } }),
    };
    const uuidParam = [{ name: 'uuid', in: 'path', required: true, schema: { type: 'string' } }];
    paths[`/api/${info.type}/{uuid}`] = {
      get: { tags: tag, parameters: uuidParam, responses: { 200: { description: 'the object', content: one }, ...errors } },
      put: { tags: tag, summary: 'Replace', parameters: uuidParam, requestBody: { content: one }, responses: { 200: { description: 'the stored object', content: one }, ...errors } },
      patch: { tags: tag, summary: 'PATCH {add|replace|delete: {fields}}', parameters: uuidParam, requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { add: ref, replace: ref, delete: ref } } } } }, responses: { 200: { description: 'the stored object', content: one }, ...errors } },
      ...(info.singleton ? {} : { delete: { tags: tag, parameters: uuidParam, responses: { 204: { description: 'deleted' }, ...errors } } }),
    };
  }
  paths['/login'] = { post: { summary: 'Log in: sets cookies sessionid and csrftoken', requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string' }, token: { type: 'string', description: 'an API token from POST /api/user-token, instead of the password' } }, required: ['username'] } } } }, responses: { 200: { description: 'logged in' }, 401: err('wrong credentials') }, security: [] } };
  paths['/logout'] = { post: { summary: 'End the session', responses: { 200: { description: 'logged out' } }, security: [] } };
  paths['/metrics'] = { get: { summary: 'Prometheus metrics: a user with access to all tenants, or the metrics token (--metrics-token-file)', security: [{ basic: [] }, { session: [] }, { metricsToken: [] }], responses: { 200: { description: 'Prometheus text format' }, 401: err('no or wrong credentials'), 403: err('a user limited to some tenants') } } };
  paths['/api/user-token'] = {
    get: { summary: "The caller's API tokens (values are shown only when created)", responses: { 200: { description: '{count, results}' } } },
    post: { summary: 'Create an API token for the caller; log in with POST /login {username, token}', requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { hours: { type: 'string', description: 'lifetime in hours (default 24)' } } } } } }, responses: { 201: { description: '{uuid, token, expires_at}' }, 400: err('bad hours') } },
  };
  paths['/api/user-token/{uuid}'] = { delete: { summary: 'Revoke one of the caller\'s API tokens', responses: { 204: { description: 'revoked' }, 404: err('no such token') } } };
  for (const p of ['/api/initial-data', '/api/cluster/runtime', '/api/cluster/status', '/api/ipamdnsproviderprofiledomainlist', '/api/virtualservice/{uuid}/runtime', '/api/pool/{uuid}/runtime']) {
    paths[p] = { get: { responses: { 200: { description: 'see docs/api.md' } } } };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Portico controller API', version: API_VERSION, description: 'The shape of the Avi controller REST API. Refs are written as /api/<type>/<uuid> or /api/<type>?name=<name>.' },
    components: { schemas, securitySchemes: { basic: { type: 'http', scheme: 'basic' }, session: { type: 'apiKey', in: 'cookie', name: 'sessionid' }, metricsToken: { type: 'http', scheme: 'bearer', description: '/metrics only' } } },
    security: [{ basic: [] }, { session: [] }],
    paths,
  };
}
