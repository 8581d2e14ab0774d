import { type LocalStack, type Service, awsError } from '@imgflow/local-runtime';
import { UsageError } from './errors.js';

/**
 * One fault of `IMGFLOW_FAULTS`, to see how `imgflow run` and `imgflow dev` behave when a step is
 * slow or fails (the reliability report injects the same faults through the API):
 * - `{ "state": "OptimizeImage", "delayMs": 30000 }` makes the state's handler wait 30 s first;
 * - `{ "state": "ResizeImage", "error": "ImageProcessingError", "times": 3 }` fails it 3 times;
 * - `{ "service": "s3", "command": "PutObjectCommand", "error": "SlowDown", "status": 503 }` fails an AWS call of the functions.
 */
export interface FaultSpec {
  state?: string;
  service?: Service;
  command?: string;
  /** How many times it fires (default 1). */
  times?: number;
  /** Wait this long first; without `error`, the call then goes on. */
  delayMs?: number;
  /** The error's name; absent: a delay only. */
  error?: string;
  message?: string;
  /** HTTP status of an AWS fault (default 500). */
  status?: number;
}

function invalid(detail: string): UsageError {
  return new UsageError(`IMGFLOW_FAULTS ${detail}`);
}

export function parseFaults(text: string): FaultSpec[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`is not valid JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, index) => {
    const at = `[${index}]`;
    if (typeof item !== 'object' || item === null) throw invalid(`${at}: expected an object`);
    const spec = item as FaultSpec;
    if ((spec.state === undefined) === (spec.service === undefined)) throw invalid(`${at}: give either "state" or "service" and "command"`);
    if (spec.service !== undefined && !['s3', 'dynamodb', 'sns'].includes(spec.service)) throw invalid(`${at}: "service" must be s3, dynamodb or sns`);
    if (spec.service !== undefined && typeof spec.command !== 'string') throw invalid(`${at}: "command" (e.g. PutObjectCommand) is required with "service"`);
    for (const name of ['times', 'delayMs', 'status'] as const) {
      const number = spec[name];
      if (number !== undefined && (!Number.isSafeInteger(number) || number < 0)) throw invalid(`${at}: "${name}" must be a non-negative integer`);
    }
    if (spec.error === undefined && spec.delayMs === undefined) throw invalid(`${at}: give "error", "delayMs" or both`);
    return spec;
  });
}

/** The faults `IMGFLOW_FAULTS` asks for (none when unset); a bad value is a usage error. */
export function faultsFromEnv(env: NodeJS.ProcessEnv | undefined): FaultSpec[] {
  const text = env?.IMGFLOW_FAULTS;
  return text ? parseFaults(text) : [];
}

/** Plans faults into the runtime's fault injector. */
export function planFaults(stack: LocalStack, specs: readonly FaultSpec[]): void {
  for (const spec of specs) {
    const name = spec.error ?? 'InjectedFault';
    const fault = {
      times: spec.times ?? 1,
      ...(spec.delayMs !== undefined ? { delayMs: spec.delayMs } : {}),
      ...(spec.error === undefined ? { delayOnly: true } : {}),
      error: () =>
        spec.service
          ? awsError(name, spec.status ?? 500, spec.message ?? `${name} (injected by IMGFLOW_FAULTS)`)
          : Object.assign(new Error(spec.message ?? `${name} (injected by IMGFLOW_FAULTS)`), { name }),
    };
    if (spec.state !== undefined) stack.faults.failState(spec.state, fault);
    else stack.faults.failAws(spec.service as Service, spec.command as string, fault);
  }
}
