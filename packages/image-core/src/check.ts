import { InvalidOptionError } from './errors.js';

/** The one message shape for a bad option: `Expected <what> for <name> but received <value> of type <type>`. */
export function expectedMessage(what: string, name: string, value: unknown): string {
  return `Expected ${what} for ${name} but received ${describe(value)} of type ${typeName(value)}`;
}

export function invalidOption(what: string, name: string, value: unknown): InvalidOptionError {
  return new InvalidOptionError(expectedMessage(what, name, value));
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Buffer.isBuffer(value)) return 'Buffer';
  return typeof value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (value === undefined) return 'undefined';
  try {
    const json = JSON.stringify(value);
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
  } catch {
    return String(value);
  }
}
