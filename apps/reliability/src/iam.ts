/**
 * IAM as the local runtime enforced it (the policies Terraform renders): every AWS call of each
 * function checked against its role, each invocation against the state machine's role, each start
 * against the EventBridge rule's. On the runs that must pass without one, a denial is a failed check.
 */
export interface IamCheck {
  checked: number;
  denied: number;
  /** AWS's message for each refusal (at most the first 20). */
  denials: string[];
}

/** The IAM counts of one local runtime, from `stack.iam`. */
export function iamCheck(iam: { stats(): { checked: number; denied: number }; denials(): ReadonlyArray<{ message: string }> }): IamCheck {
  const { checked, denied } = iam.stats();
  return { checked, denied, denials: iam.denials().map((denial) => denial.message).slice(0, 20) };
}

export function sumIamChecks(checks: readonly IamCheck[]): IamCheck {
  return {
    checked: checks.reduce((sum, check) => sum + check.checked, 0),
    denied: checks.reduce((sum, check) => sum + check.denied, 0),
    denials: checks.flatMap((check) => check.denials).slice(0, 20),
  };
}
