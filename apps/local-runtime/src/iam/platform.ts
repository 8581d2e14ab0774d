import { randomUUID } from 'node:crypto';
import type { IamDenial, IamEnforcer } from './enforcer.js';

/**
 * Step Functions invokes a Task's function with the state machine's role. Without
 * lambda:InvokeFunction on it, the Task fails with the error Step Functions reports for Lambda's
 * 403: `Lambda.AWSLambdaException` (a platform error: retried, then caught like any other).
 */
export async function authorizeInvoke(enforcer: IamEnforcer, functionArn: string): Promise<void> {
  const denial = await enforcer.firstDenial('workflow', 'lambda:Invoke', [{ action: 'lambda:InvokeFunction', resource: functionArn }]);
  enforcer.record('workflow', denial ? [denial] : [], { name: 'Lambda.AWSLambdaException', httpStatusCode: 403 });
  if (denial) {
    const cause = `${denial.message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`;
    throw Object.assign(new Error(cause), { name: 'Lambda.AWSLambdaException' });
  }
}

/** An event EventBridge could not deliver, as its dead-letter queue receives it (the message attributes). */
export interface DeadLetter<E = unknown> {
  event: E;
  RULE_ARN: string;
  TARGET_ARN: string;
  ERROR_CODE: string;
  ERROR_MESSAGE: string;
}

/**
 * EventBridge starts the execution with the rule's role. Without states:StartExecution on the
 * state machine it does not retry: the event goes straight to the dead-letter queue with
 * ERROR_CODE NO_PERMISSIONS. Answers that dead letter, or undefined when the start is allowed.
 */
export async function authorizeStartExecution<E>(
  enforcer: IamEnforcer,
  event: E,
  target: { stateMachineArn: string; ruleArn: string },
): Promise<DeadLetter<E> | undefined> {
  const denial: IamDenial | undefined = await enforcer.firstDenial('trigger', 'states:StartExecution', [
    { action: 'states:StartExecution', resource: target.stateMachineArn },
  ]);
  enforcer.record('trigger', denial ? [denial] : [], { name: 'AccessDeniedException', httpStatusCode: 400 });
  if (!denial) return undefined;
  return { event, RULE_ARN: target.ruleArn, TARGET_ARN: target.stateMachineArn, ERROR_CODE: 'NO_PERMISSIONS', ERROR_MESSAGE: denial.message };
}
