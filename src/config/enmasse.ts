import { ViaductError } from '../errors.js';
import type { ConfigRegistry } from './config-registry.js';
import type { ConfigSnapshot } from './config-snapshot.js';

/**
 * Enmasse: configuration as code. A YAML document with one list per object type
 * (`channels: rest: [...]`, `security: basic_auth: [...]`) or a section that is a list itself
 * (`scheduler: [...]`); secrets as ${ENV_VAR} placeholders.
 */
export interface EnmasseItem {
  readonly type: string;
  readonly input: Record<string, unknown>;
}

/** Replaces every ${NAME} in every string; all missing variables are reported at once. */
export function substituteEnv(document: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  const missing = new Set<string>();
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
        const found = env[name];
        if (found === undefined) missing.add(name);
        return found ?? '';
      });
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const result = walk(document);
  if (missing.size > 0) {
    throw new ViaductError(
      'VIA_ERR_MISSING_ENV_VAR',
      `Environment variables not set: ${[...missing].sort().join(', ')}`,
      { details: { missing: [...missing].sort() } },
    );
  }
  return result;
}

/** The document's objects in the registry's order (what is referred to comes first). */
export function enmasseItems(document: unknown, registry: ConfigRegistry): EnmasseItem[] {
  if (document === null || document === undefined) return [];
  if (typeof document !== 'object' || Array.isArray(document))
    throw new ViaductError('VIA_ERR_ENMASSE', 'The enmasse document must be a mapping of sections');
  const kinds = registry.all().filter((k) => k.internal !== true);
  // A section holds named lists (`channels: rest: [...]`), or is a list itself (`scheduler: [...]`).
  const sections = new Map<string, Set<string>>();
  const listSections = new Set<string>();
  for (const kind of kinds) {
    const [section, list] = kind.enmasse;
    if (list === undefined) listSections.add(section);
    else sections.set(section, (sections.get(section) ?? new Set()).add(list));
  }
  for (const [section, body] of Object.entries(document)) {
    const lists = sections.get(section);
    if (lists === undefined && !listSections.has(section)) {
      throw new ViaductError(
        'VIA_ERR_ENMASSE',
        `Unknown section "${section}"; known: ${[...sections.keys(), ...listSections].join(', ')}`,
      );
    }
    if (body === null || lists === undefined) continue;
    if (typeof body !== 'object' || Array.isArray(body))
      throw new ViaductError('VIA_ERR_ENMASSE', `Section "${section}" must be a mapping of lists`);
    for (const key of Object.keys(body)) {
      if (!lists.has(key))
        throw new ViaductError(
          'VIA_ERR_ENMASSE',
          `Unknown list "${section}.${key}"; known: ${[...lists].map((l) => `${section}.${l}`).join(', ')}`,
        );
    }
  }
  const items: EnmasseItem[] = [];
  for (const kind of kinds) {
    const [section, list] = kind.enmasse;
    const body = (document as Record<string, unknown>)[section];
    const entries = list === undefined ? body : (body as Record<string, unknown> | null | undefined)?.[list];
    if (entries === undefined || entries === null) continue;
    if (!Array.isArray(entries))
      throw new ViaductError('VIA_ERR_ENMASSE', `"${kind.enmasse.join('.')}" must be a list`);
    const names = new Set<unknown>();
    entries.forEach((entry, index) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new ViaductError('VIA_ERR_ENMASSE', `"${kind.enmasse.join('.')}[${index}]" must be a mapping`);
      }
      const name = (entry as { name?: unknown }).name;
      if (names.has(name))
        throw new ViaductError('VIA_ERR_ENMASSE', `"${kind.enmasse.join('.')}" names ${String(name)} twice`);
      names.add(name);
      items.push({ type: kind.type, input: entry as Record<string, unknown> });
    });
  }
  return items;
}

/** `hello-auth` + `password` → HELLO_AUTH_PASSWORD */
export function placeholderName(objectName: string, field: string): string {
  return `${objectName}_${field}`.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** The configuration as an enmasse document, secrets replaced by ${...} placeholders. */
export function exportDocument(
  snapshot: ConfigSnapshot,
  registry: ConfigRegistry,
): Record<string, Record<string, unknown[]> | unknown[]> {
  const document: Record<string, Record<string, unknown[]> | unknown[]> = {};
  for (const kind of registry.all()) {
    if (kind.internal === true) continue;
    const objects = snapshot.list(kind.type).sort((a, b) => a.name.localeCompare(b.name));
    if (objects.length === 0) continue;
    const [section, list] = kind.enmasse;
    const entries = objects.map((object) => {
      const entry: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(object.data)) {
        if (value === undefined) continue;
        entry[key] = kind.secretFields.includes(key) ? `\${${placeholderName(object.name, key)}}` : value;
      }
      return entry;
    });
    if (list === undefined) document[section] = entries;
    else ((document[section] ??= {}) as Record<string, unknown[]>)[list] = entries;
  }
  return document;
}
