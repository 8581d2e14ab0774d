import { type AwsClients, asStepError } from '@imgflow/pipeline';
import { DELETE_ERRORS_HEADER } from './s3/strict.js';

export type Service = 's3' | 'sns' | 'dynamodb';

/** One planned failure: thrown `times` times by the matching state or S3 command, then it goes away. */
export interface Fault {
  times: number;
  error: () => Error;
  /** Milliseconds to wait before failing (or before succeeding, with `delayOnly`). */
  delayMs?: number;
  delayOnly?: boolean;
  /**
   * Where an SDK command's fault sits. Absent (the default): it is the call's answer, after the
   * SDK's own retries (before the retry middleware, so one planned failure fails one call: the
   * step's Retry sees it). `perAttempt`: it is one HTTP attempt's answer (after the retry
   * middleware), so the SDK's retry strategy (3 attempts, standard mode, as Lambda's clients
   * have) retries a retryable one before the handler ever sees it.
   */
  perAttempt?: boolean;
}

/** A planned service fault as it crosses to a function's sandbox: what to wait, what to throw. */
export interface FaultAnswer {
  delayMs?: number;
  error?: SerializedError;
}

/** An error reduced to what crosses a process boundary (the service exception is rebuilt from it). */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  httpStatusCode?: number;
  fault?: 'client' | 'server';
}

export function serializeError(error: unknown): SerializedError {
  const failure = error instanceof Error ? error : new Error(String(error));
  const { code, $metadata, $fault } = failure as { code?: unknown; $metadata?: { httpStatusCode?: number }; $fault?: unknown };
  return {
    name: failure.name,
    message: failure.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...($metadata?.httpStatusCode !== undefined ? { httpStatusCode: $metadata.httpStatusCode } : {}),
    ...($fault === 'client' || $fault === 'server' ? { fault: $fault } : {}),
  };
}

/** An error as an AWS service sends it (name, HTTP status): the one the Lambda packages' unit tests use. */
export { awsError } from '@imgflow/pipeline/testing';

/**
 * Keys of a DeleteObjects that S3 reports as not deleted, inside its 200 answer (`Errors[]`), for
 * the next `times` DeleteObjects requests that hold a matching key. The other keys are deleted.
 */
export interface DeleteKeysFault {
  times: number;
  /** Which keys fail: a key prefix, a pattern or a test; every key when absent. */
  keys?: string | RegExp | ((key: string) => boolean);
  /** S3's per-key error code, e.g. 'InternalError', 'SlowDown', 'AccessDenied'. */
  code: string;
  message?: string;
}

function keyMatcher(keys: DeleteKeysFault['keys']): (key: string) => boolean {
  if (keys === undefined) return () => true;
  if (typeof keys === 'string') return (key) => key.startsWith(keys);
  if (keys instanceof RegExp) return (key) => keys.test(key);
  return keys;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fault injection for the local runtime: around a Task state's handler, or inside the S3
 * client (SDK middleware) so the handler's own error translation is exercised.
 */
export class FaultInjector {
  private readonly handlerFaults = new Map<string, Fault[]>();
  private readonly serviceFaults = new Map<string, Fault[]>();
  private readonly deleteKeysFaults: DeleteKeysFault[] = [];
  private readonly resultPadding = new Map<string, Array<{ times: number; bytes: number }>>();
  /** How many faults fired, by target ("state:ResizeImage", "s3:PutObjectCommand"). */
  readonly fired = new Map<string, number>();

  failState(state: string, fault: Fault): void {
    this.handlerFaults.set(state, [...(this.handlerFaults.get(state) ?? []), fault]);
  }

  /** Fails an SDK command of one service, e.g. ('s3', 'PutObjectCommand') or ('sns', 'PublishCommand'). */
  failAws(service: Service, command: string, fault: Fault): void {
    const key = `${service}:${command}`;
    this.serviceFaults.set(key, [...(this.serviceFaults.get(key) ?? []), fault]);
  }

  /**
   * Makes S3 report keys of a DeleteObjects as not deleted (per-key `Errors[]` in a 200, as S3
   * does for a key it could not delete or was refused), e.g.
   * `failDeleteKeys({ times: 1, keys: 'work/', code: 'InternalError' })`. The request goes to
   * the S3 emulator with the fault attached (src/s3/strict.ts answers it), so the SDK parses a
   * real answer and the handler's own handling of it runs. Counted as "s3:DeleteObjects:Errors".
   */
  failDeleteKeys(fault: DeleteKeysFault): void {
    this.deleteKeysFaults.push({ ...fault });
  }

  /**
   * Adds `bytes` of filler (a `padding` field) to the result of a state's next `times`
   * invocations: a Task whose output outgrows Step Functions' 256 KiB (States.DataLimitExceeded).
   * Counted as "result:<state>".
   */
  padResult(state: string, fault: { times: number; bytes: number }): void {
    this.resultPadding.set(state, [...(this.resultPadding.get(state) ?? []), { ...fault }]);
  }

  /** A state's result as the invocation returns it, padded when planned (padResult). */
  afterHandler<T>(state: string, result: T): T {
    const queue = this.resultPadding.get(state);
    const fault = queue?.[0];
    if (!queue || !fault || typeof result !== 'object' || result === null) return result;
    fault.times -= 1;
    if (fault.times <= 0) queue.shift();
    this.fired.set(`result:${state}`, (this.fired.get(`result:${state}`) ?? 0) + 1);
    return { ...result, padding: 'x'.repeat(fault.bytes) };
  }

  clear(): void {
    this.resultPadding.clear();
    this.handlerFaults.clear();
    this.serviceFaults.clear();
    this.deleteKeysFaults.length = 0;
  }

  /** The per-key errors planned for a DeleteObjects of these keys, if any (and counts the fault once). */
  private takeDeleteKeys(keys: readonly string[]): Array<{ Key: string; Code: string; Message: string }> {
    const fault = this.deleteKeysFaults[0];
    if (!fault) return [];
    const matches = keyMatcher(fault.keys);
    const failing = keys.filter(matches);
    if (failing.length === 0) return [];
    fault.times -= 1;
    if (fault.times <= 0) this.deleteKeysFaults.shift();
    this.fired.set('s3:DeleteObjects:Errors', (this.fired.get('s3:DeleteObjects:Errors') ?? 0) + 1);
    return failing.map((Key) => ({ Key, Code: fault.code, Message: fault.message ?? fault.code }));
  }

  /** Takes the next planned fault of `key` (counts it as fired); `perAttempt` picks the layer asking. */
  private plan(faults: Map<string, Fault[]>, key: string, label: string, perAttempt = false): Fault | undefined {
    const queue = faults.get(key);
    const fault = queue?.[0];
    if (!queue || !fault || (fault.perAttempt ?? false) !== perAttempt) return undefined;
    fault.times -= 1;
    if (fault.times <= 0) queue.shift();
    this.fired.set(label, (this.fired.get(label) ?? 0) + 1);
    return fault;
  }

  private async take(faults: Map<string, Fault[]>, key: string, label: string, perAttempt = false): Promise<void> {
    const fault = this.plan(faults, key, label, perAttempt);
    if (!fault) return;
    if (fault.delayMs) await pause(fault.delayMs);
    if (!fault.delayOnly) throw fault.error();
  }

  /**
   * The planned fault of one SDK command (`call`: as the call's answer; `attempt`: as one HTTP
   * attempt's), for a function running in its sandbox: there the waiting and throwing happen.
   */
  answerCommand(service: Service, command: string, layer: 'call' | 'attempt'): FaultAnswer {
    const key = `${service}:${command}`;
    const fault = this.plan(this.serviceFaults, key, key, layer === 'attempt');
    if (!fault) return {};
    return { ...(fault.delayMs ? { delayMs: fault.delayMs } : {}), ...(fault.delayOnly ? {} : { error: serializeError(fault.error()) }) };
  }

  /** The per-key errors planned for a DeleteObjects of these keys (a sandbox's question). */
  answerDeleteKeys(keys: readonly string[]): Array<{ Key: string; Code: string; Message: string }> {
    return this.takeDeleteKeys(keys);
  }

  /** A handler fault fails the invocation as if the handler itself had thrown it. */
  async aroundHandler<T>(state: string, run: () => Promise<T>): Promise<T> {
    try {
      await this.take(this.handlerFaults, state, `state:${state}`);
    } catch (error) {
      throw asStepError(error);
    }
    return run();
  }

  /** Adds the fault middleware to each client (see attachFaultMiddleware), the faults taken here. */
  attachTo(clients: AwsClients): void {
    attachFaultMiddleware(clients, {
      command: async (service, command, layer) => {
        const key = `${service}:${command}`;
        await this.take(this.serviceFaults, key, key, layer === 'attempt');
        return {};
      },
      deleteKeys: async (keys) => this.takeDeleteKeys(keys),
    });
  }
}

/** Where the fault middleware gets its faults: the injector itself, or (in a sandbox) the injector over IPC. */
export interface FaultSource {
  /** Waits and throws as planned, or answers what to wait and throw. */
  command(service: Service, command: string, layer: 'call' | 'attempt'): Promise<FaultAnswer>;
  deleteKeys(keys: readonly string[]): Promise<Array<{ Key: string; Code: string; Message: string }>>;
}

type MiddlewareStack = AwsClients['s3']['middlewareStack'];
type RelativeMiddleware = Parameters<MiddlewareStack['addRelativeTo']>[0];

/**
 * Adds the fault middleware to each client. A call's faults sit in `initialize` (before the
 * retry middleware: the SDK does not retry them, the step's Retry does); an attempt's faults
 * right after the retry middleware (`finalizeRequest`, re-run by the SDK's retry strategy on
 * each attempt); DeleteObjects' per-key errors in `build` (a header the S3 emulator answers).
 * `rebuild` turns an answered error into the exception the SDK would throw.
 */
export function attachFaultMiddleware(clients: AwsClients, source: FaultSource, rebuild?: (service: Service, error: SerializedError) => Error): void {
  const services: Array<[Service, { middlewareStack: MiddlewareStack }]> = [
    ['s3', clients.s3],
    ['sns', clients.sns as unknown as { middlewareStack: MiddlewareStack }],
    ['dynamodb', clients.dynamo as unknown as { middlewareStack: MiddlewareStack }],
  ];
  const apply = async (service: Service, answer: FaultAnswer) => {
    if (answer.delayMs) await pause(answer.delayMs);
    if (answer.error) throw rebuild ? rebuild(service, answer.error) : Object.assign(new Error(answer.error.message), { name: answer.error.name });
  };
  for (const [service, client] of services) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        await apply(service, await source.command(service, context.commandName ?? '', 'call'));
        return next(args);
      },
      { step: 'initialize', name: 'imgflowFaultInjection' },
    );
    const attempt = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      await apply(service, await source.command(service, context.commandName ?? '', 'attempt'));
      return next(args);
    };
    client.middlewareStack.addRelativeTo(attempt as unknown as RelativeMiddleware, {
      relation: 'after',
      toMiddleware: 'retryMiddleware',
      name: 'imgflowAttemptFaultInjection',
    });
  }
  clients.s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'DeleteObjectsCommand') {
        const input = args.input as { Delete?: { Objects?: Array<{ Key?: string }> } };
        const errors = await source.deleteKeys((input.Delete?.Objects ?? []).map((object) => object.Key ?? ''));
        const request = args.request as { headers?: Record<string, string> };
        if (errors.length > 0 && request.headers) request.headers[DELETE_ERRORS_HEADER] = encodeURIComponent(JSON.stringify(errors));
      }
      return next(args);
    },
    { step: 'build', name: 'imgflowDeleteKeysFaults' },
  );
}
