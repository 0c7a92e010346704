import { createHash } from 'node:crypto';
import Module from 'node:module';
import path from 'node:path';
import type { Message } from 'esbuild';
import { ViaductError } from '../errors.js';
import { invocationScope } from './invocation-scope.js';
import { isServiceClass, serviceNameOf } from './service.js';
import { LOADERS } from './deployable-file.js';
export { isDeployableFile } from './deployable-file.js';
import type { ServiceEntry } from './service-store.js';

export interface CompiledFile {
  readonly file: string;
  readonly source: string;
  readonly code: string;
  readonly hash: string;
}

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

const require = Module.createRequire(import.meta.url);
const RESERVED_PREFIX = 'viaduct.';
let sourceMapsOn = false;

export function hashSource(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

/** TypeScript or JavaScript in, CommonJS with an inline source map out; errors carry file:line:column. */
export async function compile(file: string, source: string): Promise<CompiledFile> {
  const ext = path.extname(file) as keyof typeof LOADERS;
  const loader = LOADERS[ext];
  if (loader === undefined) {
    throw new ViaductError('VIA_ERR_DEPLOY_COMPILE', `${file}: only .ts and .js files can be deployed`);
  }
  // esbuild is loaded on the first deployment, not at start (stored files are compiled already).
  const { transform } = require('esbuild') as typeof import('esbuild');
  try {
    const result = await transform(source, {
      loader,
      format: 'cjs',
      sourcemap: 'inline',
      sourcefile: file,
      target: 'node20',
      logLevel: 'silent',
    });
    return { file, source, code: result.code, hash: hashSource(source) };
  } catch (error) {
    const first = (error as { errors?: Message[] }).errors?.[0];
    if (first === undefined) throw new ViaductError('VIA_ERR_DEPLOY_COMPILE', `${file}: ${String(error)}`);
    const location: SourceLocation = {
      file,
      line: first.location?.line ?? 0,
      column: (first.location?.column ?? 0) + 1,
      message: first.text,
    };
    throw new ViaductError(
      'VIA_ERR_DEPLOY_COMPILE',
      `${location.file}:${location.line}:${location.column}: ${location.message}`,
      { details: location },
    );
  }
}

export interface EvaluateOptions {
  /** What `require('viaduct')` gives: the running platform's own module, so there is one Service class. */
  readonly platformModule: object;
  /** Lets the file define `viaduct.*` services (the platform's own files only). */
  readonly allowReserved?: boolean;
}

/**
 * Evaluates compiled code in a CommonJS module of its own. `require('viaduct')` gives the running
 * platform's module, so there is one Service class; anything else resolves from the environment.
 */
export function evaluate(compiled: CompiledFile, envDir: string, options: EvaluateOptions): ServiceEntry[] {
  // Stack traces of deployed code must point at the author's lines (via the inline source map).
  if (!sourceMapsOn) {
    process.setSourceMapsEnabled(true);
    sourceMapsOn = true;
  }
  const filename = path.join(envDir, 'deployed', compiled.file);
  const mod = new Module(filename);
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(envDir);
  const ownRequire = mod.require.bind(mod);
  mod.require = ((id: string) => (id === 'viaduct' ? options.platformModule : ownRequire(id))) as NodeJS.Require;
  try {
    // In a scope of its own, so that the worker's guards blame the file for what its top-level
    // code does (process.exit, a timer that throws later), as they blame a service.
    const scope = { service: `file ${compiled.file}`, cid: '', startedAt: 0, span: undefined };
    invocationScope.run(scope, () =>
      (mod as unknown as { _compile(code: string, filename: string): void })._compile(compiled.code, filename),
    );
  } catch (error) {
    const location = locate(error, filename, compiled.file);
    throw new ViaductError(
      'VIA_ERR_DEPLOY_LOAD',
      `${location.file}:${location.line}:${location.column}: ${location.message}`,
      { details: location, cause: error },
    );
  }
  return collectServices(mod.exports, compiled.file, options.allowReserved === true);
}

function collectServices(exported: unknown, file: string, allowReserved: boolean): ServiceEntry[] {
  const candidates = new Set<unknown>();
  if (isServiceClass(exported)) candidates.add(exported);
  if (exported !== null && typeof exported === 'object') {
    for (const value of Object.values(exported)) if (isServiceClass(value)) candidates.add(value);
  }
  const entries: ServiceEntry[] = [];
  const seen = new Set<string>();
  for (const cls of candidates) {
    if (!isServiceClass(cls)) continue;
    const name = serviceNameOf(cls);
    if (!allowReserved && name.startsWith(RESERVED_PREFIX)) {
      throw new ViaductError(
        'VIA_ERR_SERVICE_NAME_RESERVED',
        `${file}: service name ${name} is reserved (it starts with "${RESERVED_PREFIX}")`,
      );
    }
    if (seen.has(name)) throw new ViaductError('VIA_ERR_DEPLOY_LOAD', `${file}: two services are named ${name}`);
    seen.add(name);
    const timeout = typeof cls.timeout === 'number' && cls.timeout >= 0 ? cls.timeout : undefined;
    entries.push({ name, cls, file, timeout });
  }
  if (entries.length === 0) {
    throw new ViaductError('VIA_ERR_DEPLOY_NO_SERVICES', `${file}: the file exports no class that extends Service`);
  }
  return entries;
}

/** Finds the author's line in a load error's stack (source maps are applied by Node). */
function locate(error: unknown, filename: string, file: string): SourceLocation {
  // The first line only: Node's "Require stack" lists paths on the server.
  const message = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0]!;
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  return { file, line: match ? Number(match[1]) : 0, column: match ? Number(match[2]) : 0, message };
}
