import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { cli, startEnv } from '../helpers/env.js';

interface AuditRecord {
  at: string;
  user: string | null;
  cid: string;
  version: number;
  action: string;
  objectType: string;
  objectName: string;
  diff: Record<string, unknown>;
}

test('the audit log: who changed what and when, secrets masked, refused changes absent; the CLI prints it', async () => {
  const env = await startEnv({ workers: 1 });
  try {
    const call = async (service: string, payload: unknown) => {
      const response = await fetch(`${env.url}/viaduct/api/invoke/${service}`, {
        method: 'POST',
        headers: { authorization: env.adminAuth },
        body: JSON.stringify(payload),
      });
      await response.arrayBuffer();
      return { status: response.status, cid: response.headers.get('x-viaduct-cid')! };
    };
    const created = await call('viaduct.security.basic-auth.create', {
      name: 'partner',
      username: 'p',
      password: 'first-secret-value',
    });
    assert.equal(created.status, 200);
    const edited = await call('viaduct.security.basic-auth.edit', {
      name: 'partner',
      username: 'p2',
      password: 'second-secret-value',
    });
    assert.equal(edited.status, 200);
    const refused = await call('viaduct.security.basic-auth.create', { name: 'partner', username: 'x', password: 'y' });
    assert.equal(refused.status, 409);
    assert.equal((await call('viaduct.service.deploy', { file: 'hello.ts', source: HELLO_SOURCE })).status, 200);
    assert.equal((await call('viaduct.security.basic-auth.delete', { name: 'partner' })).status, 200);

    const { status, body } = await env.admin<AuditRecord[]>('viaduct.audit.get-list', {});
    assert.equal(status, 200);
    assert.deepEqual(
      body.map((r) => `${r.action} ${r.objectType} ${r.objectName}`),
      [
        'deleted security.basic-auth partner',
        'deployed service-file hello.ts',
        'updated security.basic-auth partner',
        'created security.basic-auth partner',
      ],
    );
    for (const record of body) assert.equal(record.user, 'admin');
    const [deleted, deployed, updated, first] = body;
    assert.equal(first!.cid, created.cid);
    assert.equal(updated!.cid, edited.cid);
    assert.equal(first!.diff.password, '***');
    assert.equal(first!.diff.username, 'p');
    assert.deepEqual(updated!.diff, { username: ['p', 'p2'], password: ['***', '***'] });
    assert.deepEqual(deployed!.diff.services, ['demo.hello']);
    assert.deepEqual(deleted!.diff, {});
    assert.ok(
      body.every((r, i) => i === 0 || r.version < body[i - 1]!.version),
      'newest first',
    );
    assert.doesNotMatch(JSON.stringify(body), /secret-value/);

    const filtered = await env.admin<AuditRecord[]>('viaduct.audit.get-list', { object_name: 'hello.ts' });
    assert.deepEqual(
      filtered.body.map((r) => r.action),
      ['deployed'],
    );
    const bad = await env.admin<{ error: { code: string } }>('viaduct.audit.get-list', { since: 'yesterday' });
    assert.equal(bad.body.error.code, 'VIA_ERR_VALIDATION');

    const printed = await cli(['audit', '--env', env.dir, '--limit', '2']);
    assert.equal(printed.code, 0, printed.stderr);
    const lines = printed.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /admin\s+deleted\s+security\.basic-auth partner/);
    assert.match(lines[1]!, /deployed\s+service-file hello\.ts\s+\(services, hash\)/);

    // The capture commands: a channel that keeps its requests, one of them listed and resubmitted.
    assert.equal(
      (await call('viaduct.channel.rest.create', { name: 'kept', path: '/kept', service: 'demo.hello', capture: true }))
        .status,
      200,
    );
    const posted = await fetch(`${env.url}/kept`, { method: 'POST', body: '{"name":"again"}' });
    assert.equal(posted.status, 200);
    let listed = '';
    for (let attempt = 0; attempt < 40 && !listed.includes('/kept'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      listed = (await cli(['capture', 'list', '--channel', 'kept', '--env', env.dir])).stdout;
    }
    assert.match(listed, / kept {2}POST \/kept {2}200 /);
    const id = /([0-9a-f-]{36})/.exec(listed)![1]!;
    const resubmitted = await cli(['capture', 'resubmit', id, '--env', env.dir]);
    assert.equal(resubmitted.code, 0, resubmitted.stderr);
    assert.deepEqual((JSON.parse(resubmitted.stdout) as { payload: unknown }).payload, { hello: 'again' });
    assert.equal((await cli(['capture', 'bogus', '--env', env.dir])).code, 2);
  } finally {
    await env.stop();
  }
});
