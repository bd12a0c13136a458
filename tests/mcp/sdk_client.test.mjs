// Drives `dsv4 mcp` with the official MCP TypeScript SDK clients: v1 (@modelcontextprotocol/sdk,
// the initialize handshake of 2025-era revisions) and v2 (@modelcontextprotocol/client, which
// also speaks the stateless 2026-07-28 revision).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioClientTransportV2 } from '@modelcontextprotocol/client/stdio';

const binary = process.env.DSV4_BINARY;
assert.ok(binary, 'DSV4_BINARY must name the dsv4 binary');

function tempRepo(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dsv4-mcp-${name}-`));
  const git = (...args) => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir } });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Test User');
  git('config', 'user.email', 'test@example.com');
  fs.writeFileSync(path.join(dir, 'calc.py'),
    'class Calculator:\n    def add(self, a, b):\n        return a + b\n\n\ndef main():\n    print(Calculator().add(2, 3))\n');
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${name}\n\nA tiny repository.\n`);
  git('add', '-A');
  git('commit', '-q', '-m', 'Initial commit');
  return dir;
}

async function connectV1(root, { roots } = {}) {
  const client = new Client({ name: 'dsv4-test', version: '1.0.0' },
    { capabilities: roots ? { roots: { listChanged: true } } : {} });
  if (roots) client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: roots() }));
  const transport = new StdioClientTransport({ command: binary, args: ['mcp', '--root', root], stderr: 'pipe' });
  await client.connect(transport);
  return client;
}

const text = (result) => result.content.map((c) => c.text).join('\n');

test('v1 client: initialize, list every tool, call each one', async () => {
  const repo = tempRepo('tools');
  const client = await connectV1(repo);
  try {
    assert.equal(client.getServerVersion().name, 'dsv4');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    for (const expected of ['read_file', 'write_file', 'edit_file', 'apply_patch', 'list_files', 'search_text',
      'git_status', 'git_diff', 'git_log', 'git_show', 'git_blame', 'git_commit', 'git_branch',
      'shell', 'shell_status', 'shell_kill', 'outline', 'find_symbol', 'find_references']) {
      assert.ok(names.includes(expected), `tools/list lacks ${expected}: ${names}`);
    }
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', t.name);
      assert.equal(typeof t.annotations.readOnlyHint, 'boolean', t.name);
      assert.ok(t.description.length > 20, t.name);
    }

    const call = async (name, args) => {
      const r = await client.callTool({ name, arguments: args });
      assert.equal(r.isError, false, `${name} failed: ${text(r)}`);
      assert.equal(r.structuredContent.ok, true, name);
      return r;
    };
    assert.match(text(await call('read_file', { path: 'calc.py' })), /class Calculator/);
    await call('write_file', { path: 'notes/todo.txt', content: 'one\ntwo\n' });
    assert.equal(fs.readFileSync(path.join(repo, 'notes/todo.txt'), 'utf8'), 'one\ntwo\n');
    await call('edit_file', { path: 'notes/todo.txt', old_string: 'two', new_string: 'three' });
    assert.equal(fs.readFileSync(path.join(repo, 'notes/todo.txt'), 'utf8'), 'one\nthree\n');
    await call('apply_patch', { patch: '--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n # tools\n \n-A tiny repository.\n+A tiny, patched repository.\n' });
    assert.match(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'), /patched/);
    assert.match(text(await call('list_files', {})), /calc\.py/);
    const found = await call('search_text', { pattern: 'def \\w+' });
    assert.equal(found.structuredContent.matches.length, 2);
    assert.match(text(await call('git_status', {})), /README\.md/);
    assert.match(text(await call('git_diff', {})), /patched/);
    assert.match(text(await call('git_log', {})), /Initial commit/);
    assert.match(text(await call('git_show', { rev: 'HEAD' })), /Initial commit/);
    assert.match(text(await call('git_blame', { path: 'calc.py' })), /Test User/);
    await call('git_commit', { message: 'Patch the readme', paths: ['README.md'] });
    assert.match(execFileSync('git', ['log', '-1', '--format=%s'], { cwd: repo }).toString(), /Patch the readme/);
    await call('git_branch', { action: 'create', name: 'feature' });
    assert.match(text(await call('git_branch', { action: 'list' })), /feature/);
    assert.match(text(await call('shell', { command: 'echo from-shell && pwd' })), /from-shell/);
    const job = await call('shell', { command: 'sleep 20', background: true });
    const jobId = job.structuredContent.job;
    assert.ok(jobId !== undefined, 'background shell returns a job id');
    assert.match(text(await call('shell_status', { job: jobId })), /running/);
    await call('shell_kill', { job: jobId });
    assert.match(text(await call('outline', { path: 'calc.py' })), /Calculator/);
    assert.match(text(await call('find_symbol', { name: 'add' })), /calc\.py/);
    assert.match(text(await call('find_references', { name: 'Calculator' })), /calc\.py/);

    const failed = await client.callTool({ name: 'read_file', arguments: { path: '../../etc/passwd' } });
    assert.equal(failed.isError, true);
    assert.match(text(failed), /outside|leaves the workspace/);
  } finally {
    await client.close();
  }
});

test('v1 client: the client roots set the workspace and follow list_changed', async () => {
  const first = tempRepo('first');
  const second = tempRepo('second');
  const fallback = tempRepo('fallback');
  let current = first;
  const client = await connectV1(fallback, { roots: () => [{ uri: pathToFileURL(current).href, name: 'ws' }] });
  try {
    const readme = async () => text(await client.callTool({ name: 'read_file', arguments: { path: 'README.md' } }));
    let seen = '';
    for (let i = 0; i < 50 && !seen.includes('# first'); i++) {
      seen = await readme();
      if (!seen.includes('# first')) await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(seen, /# first/);
    current = second;
    await client.sendRootsListChanged();
    for (let i = 0; i < 50 && !seen.includes('# second'); i++) {
      seen = await readme();
      if (!seen.includes('# second')) await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(seen, /# second/);
  } finally {
    await client.close();
  }
});

test('v1 client: cancelling a call kills its shell command; progress is reported', async () => {
  const repo = tempRepo('cancel');
  const client = await connectV1(repo);
  try {
    const progress = [];
    const slow = await client.callTool(
      { name: 'shell', arguments: { command: 'for i in 1 2 3; do echo tick $i; sleep 1; done' } },
      undefined, { onprogress: (p) => progress.push(p), timeout: 30000 });
    assert.equal(slow.isError, false, text(slow));
    assert.ok(progress.length >= 1, 'progress notifications arrive for a 3 s command');

    const controller = new AbortController();
    const pending = client.callTool(
      { name: 'shell', arguments: { command: 'echo $$ > victim.pid; exec sleep 60' } },
      undefined, { signal: controller.signal, timeout: 60000 });
    const pidFile = path.join(repo, 'victim.pid');
    for (let i = 0; i < 100 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    controller.abort('test cancels');
    await assert.rejects(pending);
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      try { process.kill(pid, 0); await new Promise((r) => setTimeout(r, 50)); } catch { alive = false; }
    }
    assert.equal(alive, false, 'the cancelled command was killed');
    // The server still answers after the cancellation.
    assert.match(text(await client.callTool({ name: 'read_file', arguments: { path: 'README.md' } })), /cancel/);
  } finally {
    await client.close();
  }
});

test('v2 client: the stateless 2026-07-28 revision, pinned and auto-negotiated', async () => {
  const repo = tempRepo('modern');
  for (const mode of [{ pin: '2026-07-28' }, 'auto']) {
    const client = new ClientV2({ name: 'dsv4-test-v2', version: '2.0.0' }, { versionNegotiation: { mode } });
    await client.connect(new StdioClientTransportV2({ command: binary, args: ['mcp', '--root', repo], stderr: 'pipe' }));
    try {
      assert.equal(client.getProtocolEra(), 'modern', JSON.stringify(mode));
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'read_file'));
      const r = await client.callTool({ name: 'read_file', arguments: { path: 'calc.py' } });
      assert.equal(r.isError, false);
      assert.match(text(r), /Calculator/);
      const bad = await client.callTool({ name: 'read_file', arguments: { path: 'nope.txt' } });
      assert.equal(bad.isError, true);
    } finally {
      await client.close();
    }
  }
});
