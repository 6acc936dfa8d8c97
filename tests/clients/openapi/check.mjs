// Replays every example oee's OpenAPI document gives against a running server and validates
// each response against the schema documented for its status:
//   node check.mjs http://127.0.0.1:<port> [openapi.json]
// Cases: each operation with its parameters' `example`s; one more per named example of a
// parameter or of the request body; one per `x-refused` entry (input the server must refuse,
// with the status and the field it must name). `x-replay` marks values that must be live:
// an order id (orderId: a confirmed order; cancellableOrderId: a resting one) or a fresh token
// symbol. The documented response examples are validated too. Exit 1 on any mismatch.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { readFileSync } from 'node:fs';

const base = process.argv[2];
// The server's own document, or a draft of it (a file) checked against the server.
const spec = process.argv[3] ? JSON.parse(readFileSync(process.argv[3], 'utf8'))
                             : await (await fetch(`${base}/api/openapi.json`)).json();
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema({ $id: 'oas', components: spec.components });
const validators = new Map();
function validator(schema) {
  const text = JSON.stringify(schema).replaceAll('"#/components/', '"oas#/components/');
  if (!validators.has(text)) validators.set(text, ajv.compile(JSON.parse(text)));
  return validators.get(text);
}

const failures = [];
let checked = 0;
const fail = (what, detail) => failures.push(`${what}: ${detail}`);

async function post(path, body) {
  const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return r.json();
}
async function waitFor(id, done) {
  for (let i = 0; i < 300; i++) {
    const o = await (await fetch(`${base}/api/orders/${id}`)).json();
    if (done(o.status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`order ${id} did not get there`);
}
const live = {};
live.orderId = (await post('/api/orders/execute', { tokenIn: 'SOL', tokenOut: 'USDC', amount: 0.5 })).orderId;
await waitFor(live.orderId, (s) => s === 'confirmed' || s === 'failed');
live.cancellableOrderId = (await post('/api/orders/execute',
  { orderType: 'limit', tokenIn: 'SOL', tokenOut: 'USDC', amount: '1', limitPrice: '100000' })).orderId;
await waitFor(live.cancellableOrderId, (s) => s === 'open');
const freshSymbol = () => 'T' + Math.random().toString(36).slice(2, 8).toUpperCase().replace(/[^A-Z]/g, 'X');

function documented(op, status) {
  const r = op.responses;
  return r[String(status)] ?? r[`${String(status)[0]}XX`] ?? r.default;
}

async function replay(path, method, op, c) {
  const label = `${method.toUpperCase()} ${path} [${c.name}]`;
  let url = path;
  const query = new URLSearchParams();
  for (const [name, { value, where }] of Object.entries(c.params)) {
    if (where === 'path') url = url.replace(`{${name}}`, encodeURIComponent(value));
    else if (where === 'query') query.append(name, value);
  }
  const qs = query.toString();
  const init = { method: method.toUpperCase(), headers: {} };
  if (c.rawBody !== undefined || c.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = c.rawBody ?? JSON.stringify(c.body);
  }
  const res = await fetch(`${base}${url}${qs ? '?' + qs : ''}`, init);
  const text = await res.text();
  checked++;
  if (c.status !== undefined && res.status !== c.status)
    return fail(label, `answered ${res.status}, the document says ${c.status}: ${text.slice(0, 200)}`);
  const response = documented(op, res.status);
  if (!response) return fail(label, `answered ${res.status}, which is not documented: ${text.slice(0, 200)}`);
  const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
  const content = response.content ?? {};
  if (Object.keys(content).length === 0) return;
  if (!content[type]) return fail(label, `Content-Type ${type}, documented ${Object.keys(content).join(', ')}`);
  if (type !== 'application/json') {
    if (!text.length) fail(label, 'an empty body');
    return;
  }
  let body;
  try { body = JSON.parse(text); } catch { return fail(label, `not JSON: ${text.slice(0, 200)}`); }
  const validate = validator(content[type].schema);
  if (!validate(body)) fail(label, `${res.status} does not match its schema: ${ajv.errorsText(validate.errors)}`);
  if (c.field !== undefined && body.field !== c.field) fail(label, `names field ${body.field}, expected ${c.field}`);
}

for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    const params = {};
    for (const p of op.parameters ?? []) {
      if (p.in !== 'path' && p.in !== 'query') continue;
      if (p.example === undefined && !p.required) continue;
      params[p.name] = { where: p.in, value: p['x-replay'] ? live[p['x-replay']] : p.example };
    }
    const cases = [];
    const bodies = op.requestBody?.content?.['application/json']?.examples;
    if (bodies) {
      for (const [name, ex] of Object.entries(bodies)) {
        const body = structuredClone(ex.value);
        if (ex['x-replay'] === 'freshSymbol') body.symbol = freshSymbol();
        cases.push({ name, params, body, status: ex['x-expect-status'] });
      }
    } else {
      cases.push({ name: 'example', params });
    }
    for (const p of op.parameters ?? []) {
      for (const [name, ex] of Object.entries(p.examples ?? {})) {
        const value = ex['x-replay'] ? live[ex['x-replay']] : ex.value;
        cases.push({ name: `${p.name}=${name}`, params: { ...params, [p.name]: { where: p.in, value } },
                     body: cases[0].body, status: ex['x-expect-status'] });
      }
    }
    for (const r of op['x-refused'] ?? []) {
      const merged = { ...params };
      for (const [k, v] of Object.entries(r.query ?? {})) merged[k] = { where: 'query', value: v };
      cases.push({ name: r.summary, params: merged, body: r.body, rawBody: r.rawBody, status: r.status, field: r.field });
    }
    for (const c of cases) await replay(path, method, op, c);
    // The documented response examples match their own schemas.
    for (const [status, response] of Object.entries(op.responses)) {
      for (const [type, content] of Object.entries(response.content ?? {})) {
        for (const [name, ex] of Object.entries(content.examples ?? {})) {
          const validate = validator(content.schema);
          if (!validate(ex.value)) fail(`${method.toUpperCase()} ${path} ${status} example ${name}`, ajv.errorsText(validate.errors));
        }
      }
    }
  }
}

console.log(JSON.stringify({ replayed: checked, failures }, null, 1));
process.exit(failures.length ? 1 : 0);
