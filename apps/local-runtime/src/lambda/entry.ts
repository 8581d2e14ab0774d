/**
 * One Lambda execution environment of the local runtime (a child process, see sandbox.ts). It
 * builds the function as Lambda does: the handler factory of the function's package over deps
 * from `configFromEnv(process.env)` and `createDeps(...)`, its SDK clients at the SDK's default
 * retries; then it runs one invocation at a time for the parent. Its resident memory is sampled
 * and the process killed over the function's memory, as Lambda kills an environment.
 */
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SNSServiceException } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { type StepDeps, configFromEnv, createClients, createDeps } from '@imgflow/pipeline';
import { type FaultAnswer, type SerializedError, type Service, attachFaultMiddleware, serializeError } from '../faults.js';
import { IamEnforcer } from '../iam/enforcer.js';
import { attachIam, objectTagReader } from '../iam/middleware.js';
import { type ChildMessage, type FaultQuestion, MEMORY_SAMPLE_MS, type ParentMessage, SANDBOX_SPEC_VARIABLE, type SandboxSpec } from './protocol.js';

/** As the step handlers take it: the input and the slice of Lambda's context they use. */
type Handler = (input: unknown, context: { awsRequestId: string; getRemainingTimeInMillis: () => number }) => Promise<unknown>;
type Factory = (getDeps: () => StepDeps) => Handler;

const spec = JSON.parse(process.env[SANDBOX_SPEC_VARIABLE] ?? '{}') as SandboxSpec;
delete process.env[SANDBOX_SPEC_VARIABLE];

function send(message: ChildMessage, then?: () => void): void {
  if (process.connected) process.send?.(message, undefined, undefined, then);
}

// The memory watchdog: sharp's pixels live outside the V8 heap, so only the RSS tells.
const limitBytes = spec.memoryMb * 1024 * 1024;
setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss <= limitBytes) return;
  const kill = () => process.kill(process.pid, 'SIGKILL');
  send({ type: 'oom', rssMb: Math.ceil(rss / 1024 / 1024), limitMb: spec.memoryMb }, kill);
  setTimeout(kill, 50);
}, MEMORY_SAMPLE_MS).unref();

// The parent is gone (stopped, or killed): so is this environment.
process.on('disconnect', () => process.exit(0));

let questions = 0;
const asked = new Map<number, (message: Extract<ParentMessage, { type: 'fault' }>) => void>();
function ask(question: FaultQuestion): Promise<Extract<ParentMessage, { type: 'fault' }>> {
  questions += 1;
  const id = questions;
  return new Promise((resolve) => {
    asked.set(id, resolve);
    send({ type: 'fault', id, question });
  });
}

const EXCEPTIONS = { s3: S3ServiceException, dynamodb: DynamoDBServiceException, sns: SNSServiceException } as const;

/** A planned fault's error as the SDK would have thrown it: the service's exception class when it came with an HTTP status. */
function rebuild(service: Service, error: SerializedError): Error {
  const extra = error.code ? { code: error.code } : {};
  if (error.httpStatusCode === undefined) return Object.assign(new Error(error.message), { name: error.name }, extra);
  const fault = error.fault ?? (error.httpStatusCode >= 500 ? 'server' : 'client');
  return Object.assign(
    new EXCEPTIONS[service]({ name: error.name, message: error.message, $fault: fault, $metadata: { httpStatusCode: error.httpStatusCode } }),
    extra,
  );
}

const endpoints = {
  ...(process.env.AWS_ENDPOINT_URL_S3 ? { s3: process.env.AWS_ENDPOINT_URL_S3 } : {}),
  ...(process.env.AWS_ENDPOINT_URL_DYNAMODB ? { dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB } : {}),
  ...(process.env.AWS_ENDPOINT_URL_SNS ? { sns: process.env.AWS_ENDPOINT_URL_SNS } : {}),
};
// Region and credentials from the environment, retries as the SDK's default (3 attempts,
// standard mode). The endpoints are the SDK's own variables; they are passed on so that S3
// addresses the emulator path-style.
const clients = createClients({ endpoints });
const enforcer = new IamEnforcer({ remove: spec.removals, onRecord: (record) => send({ type: 'iam', record }) });
let removals = JSON.stringify(spec.removals);
// Whether a CopyObject's source has tags is read with no role, as the stack reads it.
attachIam(clients, spec.role, enforcer, { sourceTagged: objectTagReader(createClients({ endpoints }).s3) });
attachFaultMiddleware(
  clients,
  {
    command: async (service, command, layer): Promise<FaultAnswer> => (await ask({ kind: 'command', service, command, layer })).answer,
    deleteKeys: async (keys) => (await ask({ kind: 'delete-keys', keys: [...keys] })).deleteErrors ?? [],
  },
  rebuild,
);

const module = (await import(spec.package)) as Record<string, unknown>;
const factory = module[spec.factory];
if (typeof factory !== 'function') throw new Error(`${spec.package} exports no handler factory ${spec.factory}`);
let deps: StepDeps | undefined;
const handler = (factory as Factory)(() => {
  deps ??= createDeps(configFromEnv(process.env), clients, new Logger({ serviceName: spec.functionName }));
  return deps;
});

process.on('message', (message: ParentMessage) => {
  if (message.type === 'fault') {
    asked.get(message.id)?.(message);
    asked.delete(message.id);
    return;
  }
  const current = JSON.stringify(message.removals);
  if (current !== removals) {
    enforcer.setRemovals(message.removals);
    removals = current;
  }
  const { id, deadline } = message;
  handler(message.input, { awsRequestId: id, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) }).then(
    (value) => send({ type: 'result', id: message.id, ok: true, value }),
    (error: unknown) => send({ type: 'result', id: message.id, ok: false, error: serializeError(error) }),
  );
});

send({ type: 'ready' });
