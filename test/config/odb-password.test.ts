import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  environmentPaths,
  environmentSchema,
  readEnvironment,
  writeEnvironmentConfig,
} from '../../src/config/environment.js';
import { joinOdbPassword, splitOdbPassword } from '../../src/config/odb-password.js';
import { tempDir } from '../helpers/env.js';

test('an ODB password is split off its URL and put back, encoded', () => {
  assert.deepEqual(splitOdbPassword('postgresql://viaduct:s%40cret:x@db:5432/odb'), {
    url: 'postgresql://viaduct@db:5432/odb',
    password: 's@cret:x',
  });
  assert.equal(
    joinOdbPassword('postgresql://viaduct@db:5432/odb', 's@cret:x'),
    'postgresql://viaduct:s%40cret%3Ax@db:5432/odb',
  );
  assert.deepEqual(splitOdbPassword('sqlite:odb.sqlite'), { url: 'sqlite:odb.sqlite', password: undefined });
  assert.deepEqual(splitOdbPassword('mysql://root@db/odb'), { url: 'mysql://root@db/odb', password: undefined });
  // A URL that still has its password (an older environment) is used as it is.
  assert.equal(joinOdbPassword('mysql://root:pw@db/odb', 'other'), 'mysql://root:pw@db/odb');
});

test('viaduct.yaml holds no ODB password: it goes to secrets/odb.password (0600), and is read back', async () => {
  const dir = await tempDir();
  try {
    const paths = environmentPaths(dir);
    const config = environmentSchema.parse({
      odb: 'postgresql://viaduct:Very-Secret-1@db.example:5432/odb',
      servers: [{ name: 'server1', port: 17010 }],
    });
    await writeEnvironmentConfig(paths, config);
    const yaml = await readFile(paths.config, 'utf8');
    assert.doesNotMatch(yaml, /Very-Secret-1/);
    assert.match(yaml, /odb: postgresql:\/\/viaduct@db\.example:5432\/odb/);
    assert.equal((await stat(paths.config)).mode & 0o777, 0o600);
    assert.equal((await readFile(path.join(dir, 'secrets', 'odb.password'), 'utf8')).trim(), 'Very-Secret-1');
    assert.equal((await stat(paths.odbPassword)).mode & 0o777, 0o600);
    assert.equal((await readEnvironment(dir)).config.odb, 'postgresql://viaduct:Very-Secret-1@db.example:5432/odb');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
