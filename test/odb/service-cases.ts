import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { serviceRepository } from '../../src/service/service-repository.js';
import { compile } from '../../src/service/loader.js';
import { clearServices, type FixtureOf } from './odb-fixture.js';

/** A service file's source, one class per name. */
export function serviceSource(names: readonly string[], extra = ''): string {
  const classes = names.map(
    (name, i) =>
      `export class S${i} extends Service {\n  static serviceName = ${JSON.stringify(name)};\n  async handle() {\n    this.response.payload = { from: ${JSON.stringify(name)} };\n  }\n}\n`,
  );
  return `import { Service } from 'viaduct';\n${extra}\n${classes.join('\n')}`;
}

export function serviceRepositoryCases(fixture: FixtureOf): void {
  beforeEach(() => clearServices(fixture().db));

  test('save stores a compiled file; names, list, fileHash and loadAll report it', async () => {
    const { db } = fixture();
    const compiled = await compile('billing.ts', serviceSource(['billing.refund', 'billing.charge']));
    await serviceRepository.save(db, compiled, ['billing.refund', 'billing.charge']);

    assert.deepEqual(await serviceRepository.names(db), new Set(['billing.charge', 'billing.refund']));
    const listed = await serviceRepository.list(db);
    assert.deepEqual(
      listed.map(({ name, file, hash }) => ({ name, file, hash })),
      [
        { name: 'billing.charge', file: 'billing.ts', hash: compiled.hash },
        { name: 'billing.refund', file: 'billing.ts', hash: compiled.hash },
      ],
    );
    assert.ok(listed.every((entry) => !Number.isNaN(Date.parse(entry.deployed_at))));
    assert.equal(await serviceRepository.fileHash(db, 'billing.ts'), compiled.hash);

    const [stored, ...more] = await serviceRepository.loadAll(db);
    assert.deepEqual(more, []);
    assert.deepEqual(
      { ...stored, services: [...(stored?.services ?? [])].sort() },
      { file: 'billing.ts', code: compiled.code, hash: compiled.hash, services: ['billing.charge', 'billing.refund'] },
    );
  });

  test('saving a file again replaces its code and the services it provides', async () => {
    const { db } = fixture();
    await serviceRepository.save(db, await compile('billing.ts', serviceSource(['billing.charge', 'billing.refund'])), [
      'billing.charge',
      'billing.refund',
    ]);
    const second = await compile('billing.ts', serviceSource(['billing.charge'], '// v2'));
    await serviceRepository.save(db, second, ['billing.charge']);
    assert.deepEqual(await serviceRepository.names(db), new Set(['billing.charge']));
    assert.equal(await serviceRepository.fileHash(db, 'billing.ts'), second.hash);
    assert.deepEqual(
      (await serviceRepository.loadAll(db)).map((f) => f.code),
      [second.code],
    );
  });

  test('a service moves to the file that saves it last; remove() drops a file left with no services', async () => {
    const { db } = fixture();
    const billing = await compile('billing.ts', serviceSource(['billing.charge', 'billing.refund']));
    const refunds = await compile('refunds.ts', serviceSource(['billing.refund']));
    await serviceRepository.save(db, billing, ['billing.charge', 'billing.refund']);
    await serviceRepository.save(db, refunds, ['billing.refund']);

    const where = async () =>
      Object.fromEntries((await serviceRepository.list(db)).map((entry) => [entry.name, entry.file]));
    assert.deepEqual(await where(), { 'billing.charge': 'billing.ts', 'billing.refund': 'refunds.ts' });

    assert.equal(await serviceRepository.remove(db, 'billing.charge'), 'billing.ts');
    assert.equal(await serviceRepository.fileHash(db, 'billing.ts'), undefined, 'the emptied file must be dropped');
    assert.equal(await serviceRepository.fileHash(db, 'refunds.ts'), refunds.hash);
    assert.deepEqual(await where(), { 'billing.refund': 'refunds.ts' });
    assert.equal(await serviceRepository.remove(db, 'billing.charge'), undefined);

    // Taking every service of a file away drops it at save time.
    await serviceRepository.save(db, billing, ['billing.charge', 'billing.refund']);
    assert.equal(await serviceRepository.fileHash(db, 'refunds.ts'), undefined);
    assert.deepEqual(
      (await serviceRepository.loadAll(db)).map((f) => f.file),
      ['billing.ts'],
    );
  });

  test('service and file names that differ only in case are different', async () => {
    const { db } = fixture();
    const lower = await compile('billing.ts', serviceSource(['billing.charge']));
    const upper = await compile('Billing.ts', serviceSource(['Billing.Charge']));
    await serviceRepository.save(db, lower, ['billing.charge']);
    await serviceRepository.save(db, upper, ['Billing.Charge']);
    assert.deepEqual(await serviceRepository.names(db), new Set(['billing.charge', 'Billing.Charge']));
    assert.equal(await serviceRepository.remove(db, 'Billing.Charge'), 'Billing.ts');
    assert.equal(await serviceRepository.fileHash(db, 'billing.ts'), lower.hash);
    assert.equal(await serviceRepository.fileHash(db, 'Billing.ts'), undefined);
  });

  test('a service file over 64 KB, non-ASCII text included, round-trips unchanged', async () => {
    const { db } = fixture();
    const text = 'Grüße aus Köln, 東京から, emoji 🚀 — '.repeat(4000);
    const compiled = await compile(
      'big.ts',
      serviceSource(['big.one'], `export const TEXT = ${JSON.stringify(text)};`),
    );
    assert.ok(Buffer.byteLength(compiled.source) > 2 * 65_535 && Buffer.byteLength(compiled.code) > 2 * 65_535);
    await serviceRepository.save(db, compiled, ['big.one']);

    const row = await db
      .selectFrom('service_file')
      .select(['source', 'code', 'hash'])
      .where('name', '=', 'big.ts')
      .executeTakeFirstOrThrow();
    assert.equal(row.source.length, compiled.source.length);
    assert.ok(row.source === compiled.source, 'the stored source differs from the saved one');
    assert.ok(row.code === compiled.code, 'the stored code differs from the saved one');
    assert.equal(row.hash, compiled.hash);
  });
}
