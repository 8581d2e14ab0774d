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

  clear(): void {
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

  private async take(faults: Map<string, Fault[]>, key: string, label: string): Promise<void> {
    const queue = faults.get(key);
    const fault = queue?.[0];
    if (!queue || !fault) return;
    fault.times -= 1;
    if (fault.times <= 0) queue.shift();
    this.fired.set(label, (this.fired.get(label) ?? 0) + 1);
    if (fault.delayMs) await pause(fault.delayMs);
    if (!fault.delayOnly) throw fault.error();
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

  /** Adds a middleware to each client that fails the planned commands before they are sent. */
  attachTo(clients: AwsClients): void {
    const services: Array<[Service, { middlewareStack: AwsClients['s3']['middlewareStack'] }]> = [
      ['s3', clients.s3],
      ['sns', clients.sns as unknown as { middlewareStack: AwsClients['s3']['middlewareStack'] }],
      ['dynamodb', clients.dynamo as unknown as { middlewareStack: AwsClients['s3']['middlewareStack'] }],
    ];
    for (const [service, client] of services) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const key = `${service}:${context.commandName ?? ''}`;
          await this.take(this.serviceFaults, key, key);
          return next(args);
        },
        { step: 'initialize', name: 'imgflowFaultInjection' },
      );
    }
    clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteObjectsCommand') {
          const input = args.input as { Delete?: { Objects?: Array<{ Key?: string }> } };
          const errors = this.takeDeleteKeys((input.Delete?.Objects ?? []).map((object) => object.Key ?? ''));
          const request = args.request as { headers?: Record<string, string> };
          if (errors.length > 0 && request.headers) request.headers[DELETE_ERRORS_HEADER] = encodeURIComponent(JSON.stringify(errors));
        }
        return next(args);
      },
      { step: 'build', name: 'imgflowDeleteKeysFaults' },
    );
  }
}
