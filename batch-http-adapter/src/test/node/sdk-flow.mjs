// The batch flow through the official openai npm package, unchanged: upload → create → poll →
// download the output and error files → list with auto-paging → cancel (and 409 on a finished
// batch). NodeSdkTest starts the server and runs this with OPENAI_BASE_URL set; exit code 0 = pass.
import OpenAI, { toFile } from 'openai';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const client = new OpenAI({ apiKey: 'x', maxRetries: 0 });

const line = (id, content, extra = {}) => JSON.stringify({
  custom_id: id, method: 'POST', url: '/v1/chat/completions',
  body: { model: 'test-model', messages: [{ role: 'user', content }], ...extra },
}) + '\n';

async function upload(text) {
  return client.files.create({ file: await toFile(Buffer.from(text), 'requests.jsonl'), purpose: 'batch' });
}

async function poll(id) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const b = await client.batches.retrieve(id);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status) || Date.now() > deadline) return b;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function lines(fileId) {
  const res = await client.files.content(fileId);
  return (await res.text()).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

const input = await upload(line('ok-1', 'hello') + line('ok-2', 'world') + line('bad', 'x', { test_status: 400 }));
assert.equal(input.status, 'processed');
assert.equal(input.filename, 'requests.jsonl');

const created = await client.batches.create({
  input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'node' },
});
assert.equal(created.status, 'validating');

const done = await poll(created.id);
assert.equal(done.status, 'completed');
assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
assert.equal(Number.isInteger(done.completed_at), true);

const out = await lines(done.output_file_id);
assert.deepEqual(new Set(out.map((l) => l.custom_id)), new Set(['ok-1', 'ok-2']));
assert.ok(out.some((l) => l.response.body.choices[0].message.content === 'echo: hello'));
const err = await lines(done.error_file_id);
assert.equal(err.length, 1);
assert.equal(err[0].response.status_code, 400);

// Auto-paging: two per page, every file and batch once.
for (let i = 0; i < 3; i++) await upload(line('p' + i, 'page'));
const fileIds = [];
for await (const f of client.files.list({ limit: 2 })) fileIds.push(f.id);
assert.equal(new Set(fileIds).size, fileIds.length);
assert.ok(fileIds.includes(input.id) && fileIds.includes(done.output_file_id));
const batchIds = [];
for await (const b of client.batches.list({ limit: 1 })) batchIds.push(b.id);
assert.ok(batchIds.includes(created.id));

// Cancel a batch whose only line the test backend holds, then the 409 on the cancelled batch.
const held = await client.batches.create({
  input_file_id: (await upload(line('held', 'wait', { test_hold: true }))).id,
  endpoint: '/v1/chat/completions', completion_window: '24h',
});
const cancelling = await client.batches.cancel(held.id);
assert.ok(['cancelling', 'cancelled'].includes(cancelling.status));
const cancelled = await poll(held.id);
assert.equal(cancelled.status, 'cancelled');
await assert.rejects(client.batches.cancel(held.id), (e) => e instanceof OpenAI.ConflictError && e.status === 409
    && e.headers.get('x-should-retry') === 'false');

// Uploads from a read stream, three loops in parallel: every File answered 200 must be readable
// afterwards (the server once answered 200 and then deleted a few of them).
const streamDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-flow-'));
const streamed = path.join(streamDir, 'stream.jsonl');
fs.writeFileSync(streamed, line('s', 'streamed'));
const uploadLoop = async () => {
  for (let i = 0; i < 40; i++) {
    const f = await client.files.create({ file: fs.createReadStream(streamed), purpose: 'batch' });
    const again = await client.files.retrieve(f.id);
    assert.equal(again.id, f.id);
    assert.equal(await (await client.files.content(f.id)).text(), line('s', 'streamed'));
  }
};
await Promise.all([uploadLoop(), uploadLoop(), uploadLoop()]);

// expires_after as the SDK encodes it (expires_after[anchor], expires_after[seconds], after the file).
const expiring = await client.files.create({
  file: fs.createReadStream(streamed), purpose: 'batch', expires_after: { anchor: 'created_at', seconds: 3600 },
});
assert.equal(expiring.expires_at, expiring.created_at + 3600);
fs.rmSync(streamDir, { recursive: true });

await assert.rejects(client.files.retrieve('file-nope'), (e) => e instanceof OpenAI.NotFoundError);
console.log('sdk-flow: ok');
