import type { AwsClients } from '@imgflow/pipeline';

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
  private readonly s3Faults = new Map<string, Fault[]>();
  /** How many faults fired, by target ("state:ResizeImage", "s3:PutObjectCommand"). */
  readonly fired = new Map<string, number>();

  failState(state: string, fault: Fault): void {
    this.handlerFaults.set(state, [...(this.handlerFaults.get(state) ?? []), fault]);
  }

  failS3(command: string, fault: Fault): void {
    this.s3Faults.set(command, [...(this.s3Faults.get(command) ?? []), fault]);
  }

  clear(): void {
    this.handlerFaults.clear();
    this.s3Faults.clear();
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

  async aroundHandler<T>(state: string, run: () => Promise<T>): Promise<T> {
    await this.take(this.handlerFaults, state, `state:${state}`);
    return run();
  }

  attachTo(clients: AwsClients): void {
    clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        await this.take(this.s3Faults, context.commandName ?? '', `s3:${context.commandName ?? ''}`);
        return next(args);
      },
      { step: 'initialize', name: 'imgflowFaultInjection' },
    );
  }
}
