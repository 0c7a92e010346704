import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  readonly name: string;
  /** The synopsis after `viaduct `, e.g. `deploy FILE --env DIR`. */
  readonly usage: string;
  readonly details?: string;
  readonly options: Options;
  /** How many positional arguments: [min, max]. */
  readonly positionals: readonly [number, number];
  /** Said after an unknown option, e.g. where an object's fields go instead. */
  readonly unknownOptionHint?: string;
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: readonly string[];
}

/** A mistake in how the command was called: one line, exit code 2. */
export class UsageError extends Error {}

export function parse(command: Command, argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: command.options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '');
    const unknown = (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    throw new UsageError(
      unknown && command.unknownOptionHint !== undefined ? `${message}; ${command.unknownOptionHint}` : message,
    );
  }
  const [min, max] = command.positionals;
  if (parsed.values.help === true)
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  if (parsed.positionals.length < min) throw new UsageError(`missing argument: usage: viaduct ${command.usage}`);
  if (parsed.positionals.length > max)
    throw new UsageError(`unexpected argument ${parsed.positionals[max]}: usage: viaduct ${command.usage}`);
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

export function helpText(command: Command, summary: string): string {
  const lines = [`Usage: viaduct ${command.usage}`, '', summary];
  if (command.details !== undefined) lines.push('', command.details);
  const options = Object.entries(command.options).filter(([name]) => name !== 'help');
  if (options.length > 0) {
    lines.push('', 'Options:');
    for (const [name, option] of options) lines.push(`  --${name}${option.type === 'string' ? ' VALUE' : ''}`);
  }
  lines.push('  --help    show this help');
  return `${lines.join('\n')}\n`;
}

export const helpOption: Options = { help: { type: 'boolean', short: 'h' } };

export function requireString(args: ParsedArgs, name: string): string {
  const value = args.values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** The --data option: a JSON object, the fields of what is created or edited. */
export function dataOption(args: ParsedArgs): Record<string, unknown> {
  const text = requireString(args, 'data');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--data is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError('--data must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * What an admin action on one named object takes: create and edit the object's fields from
 * --data (--name, when given, overrides its name), get-list nothing, any other action --name.
 */
export function objectPayload(args: ParsedArgs, action: string): Record<string, unknown> {
  if (action === 'create' || action === 'edit') {
    const payload = dataOption(args);
    return typeof args.values.name === 'string' ? { ...payload, name: args.values.name } : payload;
  }
  return action === 'get-list' ? {} : { name: requireString(args, 'name') };
}

export function intOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const value = args.values[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}
