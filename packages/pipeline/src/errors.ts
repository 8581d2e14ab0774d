import { type ErrorKind, errorKind } from '@imgflow/contract';

/**
 * Errors of the AWS side of a step. Like image-core's, each is named after its class (Step
 * Functions matches Retry/Catch on the name); its kind (retry, reject, fail) is declared in the
 * workflow contract (infra/modules/workflow/contract.json), not here.
 */
export abstract class PipelineError extends Error {
  /** Stable reason for the ledger and notifications. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The workflow contract's kind for this class (a class missing from the contract is a defect: a test finds it). */
  get kind(): ErrorKind {
    return errorKind(this.name) ?? 'fail';
  }

  /** Not worth a retry: the contract's kind is reject or fail. */
  get permanent(): boolean {
    return this.kind !== 'retry';
  }
}

/** S3 did not answer, throttled or failed on its side: worth a retry. */
export class StorageUnavailableError extends PipelineError {
  readonly code = 'STORAGE_UNAVAILABLE';
}

/** The uploaded object is gone (deleted before it was processed) or cannot be read by us. */
export class SourceMissingError extends PipelineError {
  readonly code = 'SOURCE_MISSING';
}

/**
 * AWS refused the function (S3 AccessDenied, DynamoDB AccessDeniedException, SNS
 * AuthorizationError): its role, a bucket, topic or KMS key policy is wrong. The deployment is at
 * fault, not the upload: the job is FAILED (an alarm sees it), never retried.
 */
export class AccessDeniedError extends PipelineError {
  readonly code = 'ACCESS_DENIED';
}

/** DynamoDB throttled or failed: worth a retry. */
export class LedgerUnavailableError extends PipelineError {
  readonly code = 'LEDGER_UNAVAILABLE';
}

/** SNS refused or failed to take a message: worth a retry. */
export class NotificationFailedError extends PipelineError {
  readonly code = 'NOTIFICATION_FAILED';
}

/** The execution input is not an S3 Object Created event we understand. */
export class InvalidEventError extends PipelineError {
  readonly code = 'INVALID_EVENT';
}

/** A required setting is missing or malformed. Fix the deployment; retrying will not help. */
export class ConfigurationError extends PipelineError {
  readonly code = 'INVALID_CONFIGURATION';
}

/** Classifies SDK errors: throttling, 5xx and network failures are transient. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown }).$metadata;
  const status = meta?.httpStatusCode;
  if ((error as { $retryable?: unknown }).$retryable) return true;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return /Throttl|TooManyRequests|RequestLimitExceeded|ProvisionedThroughputExceeded|SlowDown|ServiceUnavailable|InternalError|TimeoutError|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|NetworkingError/i.test(
    `${error.name} ${error.message} ${(error as { code?: string }).code ?? ''}`,
  );
}

/** "CODE: message" lets the notify step recover a reason code from a Catch's Cause. */
export function causeMessage(code: string, message: string): string {
  return `${code}: ${message}`;
}
