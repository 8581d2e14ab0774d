import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FaultInjector } from '../faults.js';
import type { IamEnforcer } from '../iam/enforcer.js';
import type { RoleKey } from '../iam/policies.js';
import { type ChildMessage, type ParentMessage, SANDBOX_SPEC_VARIABLE, type SandboxSpec } from './protocol.js';

/** Lambda's default concurrency limit of an account: what a function without reserved concurrency may use. */
export const UNRESERVED_CONCURRENCY = 1000;

/** One Lambda function as the sandbox runs it. */
export interface LambdaFunctionSpec {
  /** The function's name, e.g. imgflow-resize. */
  functionName: string;
  /** The package exporting the handler factory (resolvable from @imgflow/local-runtime), e.g. @imgflow/fn-resize. */
  package: string;
  /** The factory's export: `(getDeps: () => StepDeps) => (input) => Promise<output>`, e.g. createResizeHandler. */
  factory: string;
  /** The IAM role (rendered-policies.json) its SDK clients are checked against. */
  role: RoleKey;
  memoryMb: number;
  timeoutSeconds: number;
  /** Reserved concurrency; absent: unreserved (the account's UNRESERVED_CONCURRENCY). */
  concurrency?: number;
  /** The function's environment variables (IMGFLOW_*, AWS_REGION, credentials, endpoints). */
  environment: Record<string, string>;
}

/** What the environments share with the stack: IAM to report to, faults to ask. */
export interface SandboxLinks {
  iam: IamEnforcer;
  faults: FaultInjector;
}

/** The error an invocation fails with, as Step Functions sees it (Error = name, Cause = message). */
export function lambdaError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** What Lambda does to an invocation that outlives its timeout: `Sandbox.Timedout`, "Task timed out after N.NN seconds". */
export function timedOutError(seconds: number): Error {
  return lambdaError('Sandbox.Timedout', `Task timed out after ${seconds.toFixed(2)} seconds`);
}

/**
 * The built entry the environments run (dist/lambda-entry.js): tests run the TypeScript sources,
 * which do not fork as they are, so from src/ the build is used too.
 */
export function sandboxEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = here.endsWith(join('src', 'lambda')) ? join(here, '..', '..', 'dist', 'lambda-entry.js') : join(here, 'lambda-entry.js');
  if (!existsSync(entry)) throw new Error(`The Lambda sandbox entry ${entry} is missing: run pnpm --filter @imgflow/local-runtime build`);
  return entry;
}

/** Copies a child's output to one of this process's streams, a line per write; it keeps nothing alive. */
function forwardLines(from: Readable | null, to: NodeJS.WritableStream): void {
  if (!from) return;
  (from as Readable & { unref?: () => void }).unref?.();
  createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => to.write(`${line}\n`));
}

interface Pending {
  requestId: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One execution environment: a child process running one invocation at a time, kept warm between them. */
class ExecutionEnvironment {
  readonly child: ChildProcess;
  /** Resolves with the cold start (fork to ready) in milliseconds. */
  readonly ready: Promise<number>;
  private pending: Pending | undefined;
  private outOfMemory: { rssMb: number; limitMb: number } | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  constructor(
    spec: LambdaFunctionSpec,
    private readonly links: SandboxLinks,
    onExit: (environment: ExecutionEnvironment) => void,
  ) {
    const started = performance.now();
    const sandbox: SandboxSpec = {
      functionName: spec.functionName,
      package: spec.package,
      factory: spec.factory,
      role: spec.role,
      memoryMb: spec.memoryMb,
      removals: links.iam.removed,
    };
    this.child = fork(sandboxEntry(), [], {
      serialization: 'advanced',
      // Not the parent's flags (vitest's, a debugger's): the V8 heap within the function's memory.
      execArgv: [`--max-old-space-size=${Math.max(16, Math.floor(spec.memoryMb * 0.9))}`],
      env: { ...spec.environment, [SANDBOX_SPEC_VARIABLE]: JSON.stringify(sandbox) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // The function's log lines go out through this process's streams, as Lambda sends them to
    // CloudWatch: whoever reads this process's output (the CLI, a log scan) reads them too.
    forwardLines(this.child.stdout, process.stdout);
    forwardLines(this.child.stderr, process.stderr);
    this.idle();
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        onExit(this);
        this.fail(this.crash());
        resolve();
      });
    });
    this.ready = new Promise<number>((resolve, reject) => {
      this.child.once('message', (message: ChildMessage) => {
        if (message.type === 'ready') resolve(Math.round(performance.now() - started));
      });
      this.exited.then(() => reject(lambdaError('Lambda.Unknown', `Error: Runtime exited with error: ${this.exitText()} (during init)`)));
    });
    this.ready.catch(() => undefined);
    this.child.on('message', (message: ChildMessage) => this.receive(message));
  }

  get alive(): boolean {
    return this.exit === undefined && !this.child.killed;
  }

  /** Runs one invocation; rejects as Lambda's invocation fails when the environment dies during it. */
  invoke(input: unknown, deadline: number): Promise<unknown> {
    if (!this.alive) return Promise.reject(this.crash());
    const requestId = randomUUID();
    this.child.channel?.ref();
    return new Promise((resolve, reject) => {
      this.pending = { requestId, resolve, reject };
      this.post({ type: 'invoke', id: requestId, input, deadline, removals: this.links.iam.removed });
    });
  }

  /** Kills the environment (SIGKILL): nothing it started can write afterwards. */
  kill(): void {
    this.pending = undefined;
    if (this.alive) this.child.kill('SIGKILL');
  }

  private idle(): void {
    // An idle environment does not keep the parent alive (a warm Lambda costs nothing either).
    this.child.unref();
    this.child.channel?.unref();
  }

  private post(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  private receive(message: ChildMessage): void {
    switch (message.type) {
      case 'result': {
        const pending = this.pending;
        if (!pending || pending.requestId !== message.id) return;
        this.pending = undefined;
        this.idle();
        if (message.ok) pending.resolve(message.value);
        else pending.reject(lambdaError(message.error.name, message.error.message));
        return;
      }
      case 'iam':
        this.links.iam.absorb(message.record);
        return;
      case 'fault': {
        const { question } = message;
        if (question.kind === 'command') {
          this.post({ type: 'fault', id: message.id, answer: this.links.faults.answerCommand(question.service, question.command, question.layer) });
        } else {
          this.post({ type: 'fault', id: message.id, answer: {}, deleteErrors: this.links.faults.answerDeleteKeys(question.keys) });
        }
        return;
      }
      case 'oom':
        this.outOfMemory = { rssMb: message.rssMb, limitMb: message.limitMb };
        this.child.kill('SIGKILL');
        return;
      default:
        return;
    }
  }

  private exitText(): string {
    if (this.exit?.signal) return `signal: ${this.exit.signal === 'SIGKILL' ? 'killed' : this.exit.signal.toLowerCase()}`;
    return `exit status ${String(this.exit?.code)}`;
  }

  /** How the invocation under way fails when the environment dies: Lambda.Unknown, with AWS's "Runtime exited" cause. */
  private crash(): Error {
    const requestId = this.pending?.requestId ?? randomUUID();
    const memory = this.outOfMemory
      ? ` (out of memory: ${this.outOfMemory.rssMb} MB used, more than the function's ${this.outOfMemory.limitMb} MB)`
      : '';
    return lambdaError('Lambda.Unknown', `RequestId: ${requestId} Error: Runtime exited with error: ${this.exitText()}${memory}`);
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}

/**
 * One Lambda function on this machine, as Lambda runs it: a pool of execution environments
 * (child processes), each started on demand and kept warm, one invocation at a time each; at
 * most `concurrency` at once (beyond: `Lambda.TooManyRequestsException`, as Lambda throttles);
 * killed at the function's timeout (`Sandbox.Timedout`) or over its memory (`Lambda.Unknown`),
 * and replaced for the next invocation.
 */
export class LambdaSandbox {
  private readonly warm: ExecutionEnvironment[] = [];
  private readonly environments = new Set<ExecutionEnvironment>();
  private running = 0;
  private stopped = false;
  /** Each environment's cold start (fork until the handler is built), in milliseconds. */
  readonly coldStarts: number[] = [];
  /** Invocations refused at the concurrency limit. */
  throttles = 0;

  constructor(
    readonly spec: LambdaFunctionSpec,
    private readonly links: SandboxLinks,
  ) {}

  /** Environments alive now (busy or warm). */
  get size(): number {
    return this.environments.size;
  }

  /**
   * Invokes the function with `input`. `before` runs inside the invocation, in this process,
   * once the environment is ready (the stack's handler faults: a delay there counts against the
   * timeout as the handler's own time would).
   */
  async invoke(input: unknown, before?: () => Promise<void>): Promise<unknown> {
    if (this.stopped) throw lambdaError('Lambda.ServiceException', `The local runtime is stopping: ${this.spec.functionName} takes no invocation`);
    const limit = this.spec.concurrency ?? UNRESERVED_CONCURRENCY;
    if (this.running >= limit) {
      this.throttles += 1;
      throw lambdaError('Lambda.TooManyRequestsException', 'Rate Exceeded.');
    }
    this.running += 1;
    const environment = this.warm.pop() ?? this.start();
    try {
      // Lambda times the invocation, not the environment's init.
      await environment.ready;
      let killed = false;
      const deadline = Date.now() + this.spec.timeoutSeconds * 1000;
      return await withTimeout(
        this.spec.timeoutSeconds,
        async () => {
          await before?.();
          if (killed) throw timedOutError(this.spec.timeoutSeconds);
          return environment.invoke(input, deadline);
        },
        () => {
          killed = true;
          environment.kill();
        },
      );
    } finally {
      this.running -= 1;
      if (environment.alive && !this.stopped) this.warm.push(environment);
    }
  }

  /**
   * Starts environments until `count` are warm, and waits for them (Lambda's provisioned
   * concurrency): the next invocations skip the cold start. Tests with a timeout shorter than a
   * cold start on a busy machine use it.
   */
  async provision(count = 1): Promise<void> {
    const starting: ExecutionEnvironment[] = [];
    while (this.warm.length + starting.length < count) starting.push(this.start());
    await Promise.all(starting.map((environment) => environment.ready));
    for (const environment of starting) if (environment.alive && !this.stopped) this.warm.push(environment);
  }

  /** Kills every environment. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.environments];
    for (const environment of all) environment.kill();
    await Promise.all(all.map((environment) => environment.exited));
    this.warm.length = 0;
  }

  private start(): ExecutionEnvironment {
    const environment = new ExecutionEnvironment(this.spec, this.links, (gone) => {
      this.environments.delete(gone);
      const index = this.warm.indexOf(gone);
      if (index >= 0) this.warm.splice(index, 1);
    });
    this.environments.add(environment);
    environment.ready.then((ms) => this.coldStarts.push(ms)).catch(() => undefined);
    return environment;
  }
}

/**
 * Runs `run` under a Lambda timeout: past `seconds` the invocation fails with `Sandbox.Timedout`
 * and `onTimeout` runs (the sandbox kills the environment there).
 */
export function withTimeout<T>(seconds: number, run: () => Promise<T>, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(timedOutError(seconds));
    }, seconds * 1000);
    timer.unref();
  });
  return Promise.race([run(), timeout]).finally(() => clearTimeout(timer));
}
