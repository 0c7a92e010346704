import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ViaductError } from '../../src/errors.js';
import { compile, evaluate } from '../../src/service/loader.js';
import * as viaduct from '../../src/index.js';
import { Service } from '../../src/index.js';
import { bootWorkers, HELLO_SOURCE, type TestCluster } from '../helpers/runtime.js';

type ErrorBody = { error: { code: string; message: string; details?: { file: string; line: number; column: number } } };

describe('loader', () => {
  test('a syntax error is reported with file:line:column', async () => {
    await assert.rejects(
      compile('broken.ts', 'import { Service } from "viaduct";\n\nconst x = ;\n'),
      (error: ViaductError) => {
        assert.equal(error.code, 'VIA_ERR_DEPLOY_COMPILE');
        assert.match(error.message, /^broken\.ts:3:11: /);
        return true;
      },
    );
  });

  test("an error thrown while loading points at the author's line, not the compiled one", async () => {
    const source =
      'import { Service } from "viaduct";\ninterface Unused { a: number }\n\n\nthrow new Error("no config");\n';
    const compiled = await compile('throws.ts', source);
    assert.throws(
      () => evaluate(compiled, process.cwd(), { platformModule: viaduct }),
      (error: ViaductError) => {
        assert.equal(error.code, 'VIA_ERR_DEPLOY_LOAD');
        assert.match(error.message, /^throws\.ts:5:\d+: no config$/);
        return true;
      },
    );
  });

  test('a file without a Service subclass, a reserved name and duplicate names are refused', async () => {
    assert.throws(
      () =>
        evaluate({ file: 'none.js', source: '', hash: '', code: 'exports.x = 1;' }, process.cwd(), {
          platformModule: viaduct,
        }),
      { code: 'VIA_ERR_DEPLOY_NO_SERVICES' },
    );
    const reserved = await compile(
      'r.ts',
      'import { Service } from "viaduct";\nexport default class X extends Service { static serviceName = "viaduct.mine"; handle() {} }\n',
    );
    assert.throws(() => evaluate(reserved, process.cwd(), { platformModule: viaduct }), {
      code: 'VIA_ERR_SERVICE_NAME_RESERVED',
    });
    const twice = await compile(
      't.ts',
      'import { Service } from "viaduct";\nexport class A extends Service { static serviceName = "same"; handle() {} }\nexport class B extends Service { static serviceName = "same"; handle() {} }\n',
    );
    assert.throws(() => evaluate(twice, process.cwd(), { platformModule: viaduct }), { code: 'VIA_ERR_DEPLOY_LOAD' });
  });

  test('"viaduct" resolves to the running platform, so instanceof holds; several services per file', async () => {
    const compiled = await compile(
      'two.ts',
      'import { Service } from "viaduct";\nexport class A extends Service { handle() {} }\nexport default class B extends Service { static serviceName = "b.named"; handle() {} }\n',
    );
    const entries = evaluate(compiled, process.cwd(), { platformModule: viaduct });
    assert.deepEqual(entries.map((e) => e.name).sort(), ['A', 'b.named']);
    for (const entry of entries) assert.ok(new entry.cls() instanceof Service);
  });

  test('the Hello service deploys as .js without the type assertion', async () => {
    const js = HELLO_SOURCE.replace(' as { name?: string } | undefined', '');
    const entries = evaluate(await compile('hello.js', js), process.cwd(), { platformModule: viaduct });
    assert.deepEqual(
      entries.map((e) => e.name),
      ['demo.hello'],
    );
  });
});

describe('hot deployment', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await bootWorkers(2);
  });
  after(() => cluster.close());

  const version = (n: number, delayMs = 0) => `import { Service } from 'viaduct';
export default class Versioned extends Service {
  static serviceName = 'test.versioned';
  async handle() {
    await new Promise((r) => setTimeout(r, ${delayMs}));
    this.response.payload = { version: ${n} };
  }
}
`;

  test('a new version replaces the old on every worker without a restart; requests in flight finish on the old one', async () => {
    assert.equal(
      (await cluster.admin('viaduct.service.deploy', { file: 'versioned.ts', source: version(1, 400) })).status,
      200,
    );
    assert.equal(
      (
        await cluster.admin('viaduct.channel.rest.create', {
          name: 'versioned',
          path: '/versioned',
          service: 'test.versioned',
        })
      ).status,
      200,
    );
    const inFlight = fetch(`${cluster.urls[1]}/versioned`).then((r) => r.json());
    await new Promise((r) => setTimeout(r, 100));
    const deployed = await cluster.admin<{ changed: boolean; services: string[] }>('viaduct.service.deploy', {
      file: 'versioned.ts',
      source: version(2),
    });
    assert.equal(deployed.status, 200);
    assert.deepEqual(deployed.body.services, ['test.versioned']);
    for (const url of cluster.urls) assert.deepEqual(await (await fetch(`${url}/versioned`)).json(), { version: 2 });
    assert.deepEqual(await inFlight, { version: 1 });
  });

  test('a broken file is refused with its location and the previous version keeps serving', async () => {
    const broken = await cluster.admin<ErrorBody>('viaduct.service.deploy', {
      file: 'versioned.ts',
      source: version(3).replace('version: 3', 'version: 3,,'),
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.code, 'VIA_ERR_DEPLOY_COMPILE');
    assert.match(broken.body.error.message, /^versioned\.ts:6:\d+: /);
    assert.equal(broken.body.error.details?.line, 6);
    const failsToLoad = await cluster.admin<ErrorBody>('viaduct.service.deploy', {
      file: 'versioned.ts',
      source: `${version(3)}\nrequire('no-such-package-anywhere');\n`,
    });
    assert.equal(failsToLoad.status, 400);
    assert.equal(failsToLoad.body.error.code, 'VIA_ERR_DEPLOY_LOAD');
    assert.match(failsToLoad.body.error.message, /no-such-package-anywhere/);
    for (const url of cluster.urls) assert.deepEqual(await (await fetch(`${url}/versioned`)).json(), { version: 2 });
  });

  test('services can import packages installed in the environment', async () => {
    const pkg = path.join(cluster.dir, 'node_modules', 'greeting-lib');
    await mkdir(pkg, { recursive: true });
    await writeFile(
      path.join(pkg, 'package.json'),
      JSON.stringify({ name: 'greeting-lib', version: '1.0.0', main: 'index.js' }),
    );
    await writeFile(path.join(pkg, 'index.js'), 'exports.greet = (n) => `hi ${n}`;\n');
    const source =
      `import { Service } from 'viaduct';\nimport { greet } from 'greeting-lib';\n` +
      `export default class G extends Service { static serviceName = 'test.greet'; handle() { this.response.payload = greet('env'); } }\n`;
    assert.equal((await cluster.admin('viaduct.service.deploy', { file: 'greet.ts', source })).status, 200);
    assert.deepEqual((await cluster.admin('test.greet', {}, 1)).body, 'hi env');
  });

  test('undeploy by name; refused while a channel uses the service', async () => {
    const inUse = await cluster.admin<ErrorBody>('viaduct.service.undeploy', { name: 'test.versioned' });
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error.code, 'VIA_ERR_OBJECT_IN_USE');
    assert.match(inUse.body.error.message, /REST channel versioned/);
    assert.equal((await cluster.admin('viaduct.channel.rest.delete', { name: 'versioned' })).status, 200);
    assert.equal((await cluster.admin('viaduct.service.undeploy', { name: 'test.versioned' })).status, 200);
    const gone = await cluster.admin<ErrorBody>('test.versioned', {}, 1);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'VIA_ERR_SERVICE_NOT_FOUND');
    const list = await cluster.admin<Array<{ name: string }>>('viaduct.service.get-list');
    assert.ok(!list.body.some((s) => s.name === 'test.versioned'));
  });

  test('a new version of a file that drops a service a channel uses is refused; the old version keeps serving', async () => {
    const a = `export class A extends Service { static serviceName = 'pair.a'; handle() { this.response.payload = 'a'; } }\n`;
    const b = `export class B extends Service { static serviceName = 'pair.b'; handle() { this.response.payload = 'b'; } }\n`;
    const two = (withB: boolean) => `import { Service } from 'viaduct';\n${a}${withB ? b : ''}`;
    assert.equal((await cluster.admin('viaduct.service.deploy', { file: 'pair.ts', source: two(true) })).status, 200);
    assert.equal(
      (await cluster.admin('viaduct.channel.rest.create', { name: 'pair-b', path: '/pair-b', service: 'pair.b' }))
        .status,
      200,
    );
    const refused = await cluster.admin<ErrorBody>('viaduct.service.deploy', { file: 'pair.ts', source: two(false) });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'VIA_ERR_OBJECT_IN_USE');
    assert.match(refused.body.error.message, /pair\.b.*REST channel pair-b/);
    assert.equal(await (await fetch(`${cluster.urls[1]}/pair-b`)).json(), 'b');
  });

  test("the platform's own viaduct.* services cannot be put on a channel", async () => {
    const refused = await cluster.admin<ErrorBody>('viaduct.channel.rest.create', {
      name: 'leak',
      path: '/leak',
      service: 'viaduct.service.deploy',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'VIA_ERR_VALIDATION');
  });

  test('a channel naming an undeployed service is refused and nothing is stored', async () => {
    const refused = await cluster.admin<ErrorBody>('viaduct.channel.rest.create', {
      name: 'orphan',
      path: '/orphan',
      service: 'no.such.service',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'VIA_ERR_UNKNOWN_REFERENCE');
    assert.match(refused.body.error.message, /orphan.*no\.such\.service/);
    const list = await cluster.admin<Array<{ name: string }>>('viaduct.channel.rest.get-list');
    assert.ok(!list.body.some((c) => c.name === 'orphan'));
  });
});
