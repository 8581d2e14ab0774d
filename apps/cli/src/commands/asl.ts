import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type AslDefinition,
  type AslVariables,
  FaultInjector,
  localAslVariables,
  localHandlers,
  renderDefinition,
  taskStates,
  validateDefinition,
} from '@imgflow/local-runtime';
import type { StepDeps } from '@imgflow/pipeline';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../errors.js';
import { type Io, println, withExitCode } from '../io.js';

export interface AslRenderOptions {
  out?: string;
  /** `name=value` overrides of the template variables (e.g. function ARNs). */
  vars?: string[];
  cwd?: string;
}

export interface AslValidateOptions {
  /** A definition (JSON) to validate; absent: the template rendered with local ARNs. */
  file?: string;
  vars?: string[];
  cwd?: string;
}

const NUMERIC = new Set(['retry_interval_seconds', 'retry_max_attempts', 'retry_backoff_rate', 'retry_max_delay_seconds']);

/** Parses repeated `--var name=value`; names are the template's, numbers stay numbers. */
export function parseVars(vars: readonly string[] = []): Partial<AslVariables> {
  const known = Object.keys(localAslVariables());
  const overrides: Record<string, string | number> = {};
  for (const entry of vars) {
    const equals = entry.indexOf('=');
    const name = equals > 0 ? entry.slice(0, equals) : '';
    if (!name) throw new UsageError(`--var must be name=value, got ${JSON.stringify(entry)}`);
    if (!known.includes(name)) throw new UsageError(`--var ${name}: unknown variable; the template's variables are ${known.join(', ')}`);
    const value = entry.slice(equals + 1);
    if (NUMERIC.has(name)) {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new UsageError(`--var ${name} must be a number >= 0, got ${JSON.stringify(value)}`);
      overrides[name] = number;
    } else {
      if (value === '') throw new UsageError(`--var ${name} must not be empty`);
      overrides[name] = value;
    }
  }
  return overrides as Partial<AslVariables>;
}

/** `imgflow asl render`: the workflow template rendered with local ARNs (or the given values). */
export async function renderAsl(options: AslRenderOptions, io: Io): Promise<number> {
  return withExitCode('asl render', io, async () => {
    const definition = await renderDefinition(localAslVariables(parseVars(options.vars)));
    const text = `${JSON.stringify(definition, null, 2)}\n`;
    if (options.out) {
      const path = resolve(options.cwd ?? process.cwd(), options.out);
      await writeFile(path, text);
      println(io.stderr, `wrote ${options.out}`);
    } else {
      io.stdout.write(text);
    }
    return EXIT_OK;
  });
}

/** Task states whose Resource no local handler implements, each as one message. */
export function tasksWithoutHandler(definition: AslDefinition): string[] {
  const faults = new FaultInjector();
  // Handlers build their dependencies lazily: mapping a state never touches them.
  const noDeps = undefined as unknown as StepDeps;
  return taskStates(definition).flatMap(({ name, resource }) => {
    try {
      localHandlers({ StartAt: name, States: { [name]: { Type: 'Task', Resource: resource } } }, noDeps, faults);
      return [];
    } catch (error) {
      return [(error as Error).message];
    }
  });
}

/** `imgflow asl validate`: the rendered template (or a file) against the ASL spec, and every Task against the local handlers. */
export async function validateAsl(options: AslValidateOptions, io: Io): Promise<number> {
  return withExitCode('asl validate', io, async () => {
    let definition: AslDefinition;
    if (options.file) {
      if (options.vars && options.vars.length > 0) throw new UsageError('--var applies to the rendered template, not to a file');
      let text: string;
      try {
        text = await readFile(resolve(options.cwd ?? process.cwd(), options.file), 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${options.file}: ${(error as Error).message}`);
      }
      try {
        definition = JSON.parse(text) as AslDefinition;
      } catch (error) {
        println(io.stdout, `invalid: ${options.file} is not JSON: ${(error as Error).message}`);
        return EXIT_FAILED;
      }
    } else {
      definition = await renderDefinition(localAslVariables(parseVars(options.vars)));
    }
    const { valid, errors } = validateDefinition(definition);
    const problems = [...errors];
    if (valid && definition && typeof definition.States === 'object') problems.push(...tasksWithoutHandler(definition));
    if (!valid || problems.length > 0) {
      println(io.stdout, 'invalid');
      for (const problem of problems) println(io.stdout, `  ${problem}`);
      return EXIT_FAILED;
    }
    println(io.stdout, 'valid');
    return EXIT_OK;
  });
}
