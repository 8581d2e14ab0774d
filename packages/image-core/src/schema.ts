import type { z } from 'zod';
import { expectedMessage, typeName } from './check.js';

type Issue = z.core.$ZodIssue;

/** `renditions[1].width` from ['renditions', 1, 'width']. */
export function pathName(root: string, path: readonly PropertyKey[]): string {
  let name = root;
  for (const part of path) {
    name += typeof part === 'number' ? `[${part}]` : name ? `.${String(part)}` : String(part);
  }
  return name;
}

function expectation(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `a value of type ${issue.expected}`;
    case 'too_small': {
      if (issue.origin === 'array') return `at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'string') return `a string of at least ${String(issue.minimum)} character(s)`;
      return `a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    }
    case 'too_big': {
      if (issue.origin === 'array') return `at most ${String(issue.maximum)} item(s)`;
      if (issue.origin === 'string') return `a string of at most ${String(issue.maximum)} character(s)`;
      return `a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    }
    case 'invalid_value':
      return `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `a string matching ${String(issue.pattern)}` : `a string in ${issue.format} format`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return `only known properties (unknown: ${issue.keys.join(', ')})`;
    case 'invalid_union':
      if ('options' in issue && Array.isArray(issue.options)) {
        return `one of ${issue.options.map((option) => JSON.stringify(option)).join(', ')}`;
      }
      return 'a value matching one of the allowed shapes';
    default:
      return issue.message;
  }
}

/**
 * Renders a zod issue in the house message shape:
 * `Expected <what> for <name> but received <value> of type <type>`.
 */
export function formatIssue(root: string, issue: Issue): string {
  const name = pathName(root, issue.path);
  let input = 'input' in issue ? issue.input : undefined;
  if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string' && input && typeof input === 'object') {
    // zod reports the whole object for a bad discriminator; the field named is the discriminator.
    input = (input as Record<string, unknown>)[issue.discriminator];
  }
  if (issue.code === 'custom') {
    return `${issue.message} for ${name}`;
  }
  if (issue.code === 'unrecognized_keys') {
    return `Expected ${expectation(issue)} for ${name} but received an object with ${issue.keys
      .map((key) => JSON.stringify(key))
      .join(', ')}`;
  }
  return expectedMessage(expectation(issue), name, input);
}

/** Parses with a schema; on failure builds the error from the first issue's message (all issues are kept in details). */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  root: string,
  makeError: (message: string, issues: string[]) => Error,
): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => formatIssue(root, issue));
  throw makeError(messages[0] ?? `Invalid ${root}`, messages);
}

export { typeName };
