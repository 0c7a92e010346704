import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HELLO_SOURCE } from '../helpers/runtime.js';
import { cli, freePort, tempDir, waitFor } from '../helpers/env.js';

const ENMASSE = `security:
  basic_auth:
    - name: hello-auth
      username: client1
      password: \${HELLO_PASSWORD}
  api_key:
    - name: partner-key
      header: X-API-Key
      key: \${PARTNER_KEY}
channels:
  rest:
    - name: hello
      path: /api/hello
      service: demo.hello
      method: POST        # optional: any method when absent
      security: hello-auth  # optional
    - name: hello-key
      path: /api/key-hello
      service: demo.hello
      security: partner-key
`;

const SECRETS = { HELLO_PASSWORD: 'pw-e2e', PARTNER_KEY: 'key-e2e' };

describe('the viaduct CLI', () => {
  test('--help on every command, usage errors exit 2 with one line', async () => {
    for (const command of [
      'quickstart',
      'start',
      'stop',
      'info',
      'deploy',
      'undeploy',
      'invoke',
      'check-config',
      'enmasse',
    ]) {
      const help = await cli([command, '--help']);
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, new RegExp(`^Usage: viaduct ${command}`), command);
    }
    const overview = await cli(['--help']);
    assert.equal(overview.code, 0);
    for (const [args, pattern] of [
      [['start', '/tmp/x', '--bogus'], /bogus/],
      [['deploy'], /missing argument/],
      [['deploy', 'f.ts'], /--env is required/],
      [['quickstart', '/tmp/x', '--workers', 'many'], /--workers must be a whole number/],
      [['frobnicate'], /unknown command frobnicate/],
      [['invoke', 'x', '--env', '/tmp/x', '--payload', '{bad'], /--payload is not valid JSON/],
      [
        ['outgoing', 'sql', 'create', '--url', 'sqlite:a.db', '--env', '/tmp/x'],
        /Unknown option '--url'; a connection's fields go in --data as one JSON object, e\.g\. --data/,
      ],
      [['outgoing', 'sql', 'create', '--data', '[1]', '--env', '/tmp/x'], /--data must be a JSON object/],
      [
        ['scheduler', 'create', '--service', 'x', '--env', '/tmp/x'],
        /Unknown option '--service'; a job's fields go in --data/,
      ],
      [['scheduler', 'create', '--data', '{bad', '--env', '/tmp/x'], /--data is not valid JSON/],
    ] as const) {
      const result = await cli([...args]);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, pattern);
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}`);
    }
  });

  test('commands on a directory without an environment fail with a clear error', async () => {
    const dir = await tempDir();
    const result = await cli(['info', dir]);
    await rm(dir, { recursive: true, force: true });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /VIA_ERR_ENV_NOT_FOUND.*viaduct quickstart/);
  });
});

describe('an environment, end to end', () => {
  let dir: string;
  let port: number;
  let url: string;

  before(async () => {
    dir = path.join(await tempDir(), 'env');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const created = await cli(['quickstart', dir, '--port', String(port), '--workers', '2']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /admin user: +admin/);
    assert.match(created.stdout, /secrets[/\\]admin\.password/);
    const again = await cli(['quickstart', dir, '--port', String(port)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /VIA_ERR_ENV_EXISTS/);
  });
  after(async () => {
    await cli(['stop', dir]);
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  test('check-config on a good and a broken environment', async () => {
    const good = await cli(['check-config', dir]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    const brokenDir = path.join(await tempDir(), 'broken');
    await cli(['quickstart', brokenDir, '--port', String(await freePort())]);
    await writeFile(
      path.join(brokenDir, 'viaduct.yaml'),
      'odb: sqlite:odb.sqlite\nservers:\n  - name: s1\n    port: nope\n',
    );
    const broken = await cli(['check-config', brokenDir]);
    await rm(path.dirname(brokenDir), { recursive: true, force: true });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /VIA_ERR_ENV_CONFIG.*servers\.0\.port/);
  });

  test('start, deploy, invoke, configure with enmasse, call the channels', async () => {
    const started = await cli(['start', dir]);
    assert.equal(started.code, 0, started.stderr);
    const info = JSON.parse((await cli(['info', dir, '--json'])).stdout) as {
      servers: Array<{ running: boolean; workers: Array<{ pid: number }> }>;
    };
    assert.equal(info.servers[0]!.running, true);
    assert.equal(info.servers[0]!.workers.length, 2);

    const helloTs = path.join(path.dirname(dir), 'hello.ts');
    await writeFile(helloTs, HELLO_SOURCE);
    const deployed = await cli(['deploy', helloTs, '--env', dir]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /Deployed demo\.hello from hello\.ts/);
    // Every worker reports the version it has in force, which the deployment moved to the ODB's.
    await waitFor(async () => {
      const now = JSON.parse((await cli(['info', dir, '--json'])).stdout) as {
        servers: Array<{ odbVersion?: number; workers: Array<{ version: number | null }> }>;
      };
      const server = now.servers[0]!;
      return server.odbVersion !== undefined && server.workers.every((w) => w.version === server.odbVersion);
    }, 5000);
    const invoked = await cli(['invoke', 'demo.hello', '--payload', '{"name":"Ada"}', '--env', dir]);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout), { hello: 'Ada' });
    // A failure prints its code, message, details and cid, the cid as in the server's log.
    const refused = await cli(['invoke', 'viaduct.channel.rest.create', '--payload', '{"name":"x"}', '--env', dir]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^error VIA_ERR_VALIDATION: Invalid REST channel x: .*\n {2}details: \{"problems":\[.*\]\}\n {2}cid: \w+\n$/,
    );

    const yamlFile = path.join(path.dirname(dir), 'config.yaml');
    await writeFile(yamlFile, ENMASSE);
    const imported = await cli(['enmasse', 'import', yamlFile, '--env', dir], { env: SECRETS });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /4 created, 0 updated, 0 unchanged/);
    const reimported = await cli(['enmasse', 'import', yamlFile, '--env', dir], { env: SECRETS });
    assert.match(reimported.stdout, /0 created, 0 updated, 4 unchanged/);

    const basic = `Basic ${Buffer.from('client1:pw-e2e').toString('base64')}`;
    const hello = await fetch(`${url}/api/hello`, {
      method: 'POST',
      headers: { authorization: basic },
      body: '{"name":"Bob"}',
    });
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), { hello: 'Bob' });
    assert.equal((await fetch(`${url}/api/hello`, { method: 'POST', body: '{}' })).status, 401);
    assert.equal((await fetch(`${url}/api/key-hello`, { headers: { 'x-api-key': 'key-e2e' } })).status, 200);

    const exported = await cli(['enmasse', 'export', '--env', dir]);
    assert.equal(exported.code, 0);
    assert.match(exported.stdout, /password: \$\{HELLO_AUTH_PASSWORD\}/);
    assert.match(exported.stdout, /key: \$\{PARTNER_KEY_KEY\}/);
    assert.doesNotMatch(exported.stdout, /pw-e2e|key-e2e/);
  });

  test('the Hello service also deploys as .js; a broken file exits 1 with its location and changes nothing', async () => {
    const js = path.join(path.dirname(dir), 'hello2.js');
    await writeFile(
      js,
      HELLO_SOURCE.replace(' as { name?: string } | undefined', '').replace("'demo.hello'", "'demo.hello-js'"),
    );
    const deployed = await cli(['deploy', js, '--env', dir]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.deepEqual(JSON.parse((await cli(['invoke', 'demo.hello-js', '--env', dir])).stdout), { hello: 'partner' });

    const broken = path.join(path.dirname(dir), 'hello.ts');
    await writeFile(broken, HELLO_SOURCE.replace('{ hello: name }', '{ hello: name ]'));
    const refused = await cli(['deploy', broken, '--env', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error VIA_ERR_DEPLOY_COMPILE: hello\.ts:8:\d+: /);
    const logged = /hello\.ts:8:\d+.*Deployment refused/;
    await waitFor(async () => logged.test(await readFile(path.join(dir, 'logs', 'server1.log'), 'utf8')), 5_000);
    assert.deepEqual(
      JSON.parse((await cli(['invoke', 'demo.hello', '--payload', '{"name":"still"}', '--env', dir])).stdout),
      { hello: 'still' },
    );
  });

  test("invoke: the service's own non-2xx answer prints its status and payload; a coded error its code", async () => {
    const file = path.join(path.dirname(dir), 'answers.ts');
    await writeFile(
      file,
      `import { Service, ViaductError } from 'viaduct';

export default class Answers extends Service {
  static serviceName = 'demo.answers';

  async handle() {
    const { kind } = this.request.payload as { kind: string };
    if (kind === 'coded') throw new ViaductError('VIA_ERR_VALIDATION', 'kind is not good');
    this.response.status = 404;
    // A payload with an error key of its own is still the service's answer, not Viaduct's error.
    this.response.payload = kind === 'error-key' ? { error: 'no such customer' } : undefined;
  }
}
`,
    );
    assert.equal((await cli(['deploy', file, '--env', dir])).code, 0);
    const own = await cli(['invoke', 'demo.answers', '--payload', '{"kind":"error-key"}', '--env', dir]);
    assert.equal(own.code, 1);
    assert.equal(
      own.stderr.trim(),
      'error VIA_ERR_SERVICE_FAILED: demo.answers answered with HTTP 404: {"error":"no such customer"}',
    );
    const empty = await cli(['invoke', 'demo.answers', '--payload', '{"kind":"none"}', '--env', dir]);
    assert.equal(empty.stderr.trim(), 'error VIA_ERR_SERVICE_FAILED: demo.answers answered with HTTP 404: null');
    const coded = await cli(['invoke', 'demo.answers', '--payload', '{"kind":"coded"}', '--env', dir]);
    assert.equal(coded.code, 1);
    assert.match(coded.stderr, /^error VIA_ERR_VALIDATION: kind is not good\n {2}cid: \w+\n$/);
  });

  test('bad enmasse files: invalid YAML, a missing variable, an unknown service; nothing half-applied', async () => {
    const base = path.dirname(dir);
    const invalid = path.join(base, 'invalid.yaml');
    await writeFile(invalid, 'channels:\n  rest:\n    - name: a\n     path: /x\n');
    const parsed = await cli(['enmasse', 'import', invalid, '--env', dir]);
    assert.equal(parsed.code, 1);
    assert.match(parsed.stderr, /VIA_ERR_ENMASSE: .*invalid\.yaml/);

    const yamlFile = path.join(base, 'config.yaml');
    const missing = await cli(['enmasse', 'import', yamlFile, '--env', dir], { env: { HELLO_PASSWORD: 'x' } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /VIA_ERR_MISSING_ENV_VAR: .*PARTNER_KEY/);

    const unknown = path.join(base, 'unknown.yaml');
    await writeFile(
      unknown,
      'channels:\n  rest:\n    - name: first-ok\n      path: /first-ok\n      service: demo.hello\n    - name: bad-one\n      path: /bad\n      service: nope.missing\n',
    );
    const refused = await cli(['enmasse', 'import', unknown, '--env', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /VIA_ERR_UNKNOWN_REFERENCE: .*bad-one.*nope\.missing/);
    assert.equal((await fetch(`${url}/first-ok`)).status, 404, 'the valid object before the bad one was not applied');

    const twice = path.join(base, 'twice.yaml');
    await writeFile(
      twice,
      'channels:\n  rest:\n    - name: same\n      path: /same-1\n      service: demo.hello\n    - name: same\n      path: /same-2\n      service: demo.hello\n',
    );
    const named = await cli(['enmasse', 'import', twice, '--env', dir]);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /VIA_ERR_ENMASSE: .*names same twice/);

    const duplicate = path.join(base, 'dup.yaml');
    await writeFile(
      duplicate,
      'channels:\n  rest:\n    - name: dup-a\n      path: /dup/{id}\n      service: demo.hello\n    - name: dup-b\n      path: /dup/{key}\n      service: demo.hello\n',
    );
    const dup = await cli(['enmasse', 'import', duplicate, '--env', dir]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /VIA_ERR_DUPLICATE_PATH: .*dup-/);
  });

  test('start refuses a port another program holds, and leaves nothing running', async () => {
    const other = path.join(await tempDir(), 'other');
    assert.equal(
      (await cli(['quickstart', other, '--port', String(port), '--odb', 'sqlite:data/nested/odb.sqlite'])).code,
      0,
    );
    const refused = await cli(['start', other]);
    await rm(path.dirname(other), { recursive: true, force: true });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`Port ${port} .* in use`));
  });

  test('after a restart every deployed service and channel is back, loaded from the ODB', async () => {
    const stopped = await cli(['stop', dir]);
    assert.equal(stopped.code, 0);
    assert.match(stopped.stdout, /stopped/);
    const info = JSON.parse((await cli(['info', dir, '--json'])).stdout) as { servers: Array<{ running: boolean }> };
    assert.equal(info.servers[0]!.running, false);
    assert.equal((await cli(['start', dir])).code, 0);
    const basic = `Basic ${Buffer.from('client1:pw-e2e').toString('base64')}`;
    const hello = await fetch(`${url}/api/hello`, {
      method: 'POST',
      headers: { authorization: basic },
      body: '{"name":"again"}',
    });
    assert.deepEqual(await hello.json(), { hello: 'again' });
    const text = (await cli(['info', dir])).stdout;
    assert.match(text, /server server1: running, primary pid \d+/);
    assert.match(text, /demo\.hello \(hello\.ts\)/);
    assert.match(text, /worker \d+: pid \d+/);
  });
});
