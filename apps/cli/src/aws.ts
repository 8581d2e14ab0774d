/**
 * What the CLI needs to say about AWS: ARNs taken apart, and SDK errors turned into one line that
 * names what to fix (the missing credentials or region, the IAM action denied, the unknown ARN).
 */

/** An AWS call that failed for a reason the caller can act on; `action` is the IAM action, e.g. `states:DescribeStateMachine`. */
export class AwsCallError extends Error {
  constructor(
    message: string,
    readonly action: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AwsCallError';
  }
}

/** A call that Step Functions serves for Standard executions only, given an Express execution. */
export class StandardOnlyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StandardOnlyError';
  }
}

const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'AccessDeniedError', 'UnauthorizedOperation']);
const MISSING = new Set(['ExecutionDoesNotExist', 'StateMachineDoesNotExist', 'ResourceNotFoundException', 'ResourceNotFound', 'NoSuchBucket']);
const BAD_CREDENTIALS = new Set(['UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException', 'ExpiredToken', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // The ledger wraps DynamoDB's AccessDeniedException in its own error (written for a function's role): AWS's words are in the cause.
  return error.cause instanceof Error ? error.cause.message : error.message;
}

/** One line naming what to fix for a failed AWS call, or the error as it was when there is nothing to add. */
export function explainAwsError(error: unknown, action: string, resource: string): Error {
  const name = error instanceof Error ? error.name : '';
  const message = messageOf(error);
  const options = { cause: error };
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new AwsCallError(
      `no AWS credentials for ${action}: set AWS_PROFILE (after \`aws sso login\` for an SSO profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      action,
      options,
    );
  }
  if (/region is missing/i.test(message)) return new AwsCallError(`no AWS region for ${action}: give --region or set AWS_REGION`, action, options);
  if (BAD_CREDENTIALS.has(name)) return new AwsCallError(`AWS refused the credentials for ${action} (${name}): ${message}`, action, options);
  if (DENIED.has(name)) return new AwsCallError(`AWS denied ${action} on ${resource}: the caller's identity needs permission ${action} (${message})`, action, options);
  if (MISSING.has(name)) return new AwsCallError(`${resource} does not exist (${action}: ${message}); check the ARN or name, and the region`, action, options);
  if (name === 'InvalidArn') return new AwsCallError(`${resource} is not an ARN ${action} accepts: ${message}`, action, options);
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs one AWS call; its failure comes back explained (see explainAwsError). */
export async function awsCall<T>(action: string, resource: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainAwsError(error, action, resource);
  }
}

export type WorkflowType = 'STANDARD' | 'EXPRESS';

export interface StateMachineArn {
  arn: string;
  partition: string;
  region: string;
  account: string;
  name: string;
}

export interface ExecutionArn {
  arn: string;
  region: string;
  /** `:execution:` ARNs are Standard executions, `:express:` ones Express. */
  type: WorkflowType;
  stateMachineArn: string;
  stateMachineName: string;
}

const STATE_MACHINE_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})(?::[A-Za-z0-9_.-]+)?$/;
const EXECUTION_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):(execution|express):([A-Za-z0-9_-]{1,80}):[^:]+(?::[^:]+)?$/;
const LOG_GROUP_ARN = /^arn:aws[a-z-]*:logs:([a-z0-9-]+):\d{12}:log-group:([^:]+)(?::\*)?$/;

/** A state machine ARN (a version or alias suffix is allowed), or undefined. */
export function parseStateMachineArn(arn: string): StateMachineArn | undefined {
  const match = STATE_MACHINE_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, name] = match as unknown as [string, string, string, string, string];
  return { arn, partition, region, account, name };
}

/** An execution ARN, Standard (`execution:<machine>:<name>`) or Express (`express:<machine>:<name>:<id>`), or undefined. */
export function parseExecutionArn(arn: string): ExecutionArn | undefined {
  const match = EXECUTION_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, kind, name] = match as unknown as [string, string, string, string, string, string];
  return {
    arn,
    region,
    type: kind === 'express' ? 'EXPRESS' : 'STANDARD',
    stateMachineName: name,
    stateMachineArn: `arn:${partition}:states:${region}:${account}:stateMachine:${name}`,
  };
}

/** The name and region of a log group from its ARN (with or without the `:*` Step Functions requires). */
export function parseLogGroupArn(arn: string): { name: string; region: string } | undefined {
  const match = LOG_GROUP_ARN.exec(arn);
  return match ? { region: match[1] as string, name: match[2] as string } : undefined;
}
