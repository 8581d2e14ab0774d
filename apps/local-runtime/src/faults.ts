import { type AwsClients, asStepError } from '@imgflow/pipeline';

export type Service = 's3' | 'sns' | 'dynamodb';

/** One planned failure: thrown `times` times by the matching state or S3 command, then it goes away. */
export interface Fault {
  times: number;
  error: () => Error;
  /** Milliseconds to wait before failing (or before succeeding, with `delayOnly`). */
  delayMs?: number;
  delayOnly?: boolean;
}

/** Builds an error as an AWS service would send it (name, HTTP status), for S3 faults. */
export function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fault injection for the local runtime: around a Task state's handler, or inside the S3
 * client (SDK middleware) so the handler's own error translation is exercised.
 */
export class FaultInjector {
  private readonly handlerFaults = new Map<string, Fault[]>();
  private readonly serviceFaults = new Map<string, Fault[]>();
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

  clear(): void {
    this.handlerFaults.clear();
    this.serviceFaults.clear();
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
  }
}
