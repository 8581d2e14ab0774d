import { runSimulation } from '@cloud-copilot/iam-simulate';
import { type PolicyDocument, type PolicyRemovals, ROLE_KEYS, type RenderedRole, type RoleKey, renderedPolicies, withoutStatements } from './policies.js';
import type { IamRequest } from './requests.js';

export interface IamDecision {
  allowed: boolean;
  /** Denied by a Deny statement (rather than by no Allow). */
  explicit: boolean;
}

/** What the caller got for a refused call: the error AWS answers with (or, for a DeleteObjects key, the per-key code in a 200). */
export interface IamAnswer {
  name: string;
  httpStatusCode: number;
}

/** One refused authorization, as AWS would report it. */
export interface IamDenial {
  role: RoleKey;
  /** The call that was refused, e.g. "s3:GetObjectCommand" or "states:StartExecution". */
  call: string;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  explicit: boolean;
  /** AWS's wording: "User: <session> is not authorized to perform: <action> on resource: <arn> because …". */
  message: string;
  /** How the call failed for its caller (set when the call is recorded). */
  answer?: IamAnswer;
}

export interface IamRoleStats {
  /** AWS calls made with this role and checked against its policy. */
  checked: number;
  /** Of those, the calls IAM refused (or refused in part: a key of a DeleteObjects). */
  denied: number;
}

export interface IamStats extends IamRoleStats {
  byRole: Record<RoleKey, IamRoleStats>;
  /** Policy evaluations run by the simulator, and those answered from the decision cache. */
  evaluations: number;
  cacheHits: number;
}

export interface IamEnforcerOptions {
  /** Statements to take out of the rendered policies (tests: one removed permission each). */
  remove?: PolicyRemovals;
  /**
   * Told of every recorded call (a function's sandbox reports them to the stack's enforcer,
   * which `absorb`s them), with the evaluations and cache hits since the previous record.
   */
  onRecord?: (record: IamRecord) => void;
}

/** One checked call as recorded (IamEnforcer.record), as it crosses from a sandbox. */
export interface IamRecord {
  role: RoleKey;
  denials: readonly IamDenial[];
  answer?: IamAnswer;
  evaluations: number;
  cacheHits: number;
}

/** The most decisions kept. */
const CACHE_LIMIT = 20_000;

/** An IAM resource pattern ("*" any run of characters, "?" one) as a regular expression. */
function globExpression(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
}

const S3_OBJECT = /^arn:aws:s3:::([^/]+)\/(.*)$/s;

/**
 * What an S3 object ARN means to one policy: its bucket, and which of the policy's resource
 * patterns match it. Two objects alike in both get the same decision for the same action and
 * context (the evaluator sees a resource only through those matches), so decisions are cached by
 * this instead of by key: a run touches new keys all the time, but few such classes. Undefined
 * for other resources, and for a policy with variables in its resources (cached by ARN instead).
 */
function objectClassifier(policy: PolicyDocument): ((resource: string) => string | undefined) | undefined {
  const patterns = [...new Set(policy.Statement.flatMap((statement) => [statement.Resource ?? [], statement.NotResource ?? []].flat()))];
  if (patterns.some((pattern) => pattern.includes('${'))) return undefined;
  const expressions = patterns.map(globExpression);
  return (resource) => {
    const object = S3_OBJECT.exec(resource);
    if (!object) return undefined;
    return `s3-object ${object[1]} ${expressions.map((expression) => (expression.test(resource) ? 1 : 0)).join('')}`;
  };
}
/** The most denials kept for inspection (the counts are exact regardless). */
const DENIAL_LOG_LIMIT = 1000;

/**
 * Evaluates AWS calls against the roles' rendered identity policies with a real IAM policy
 * evaluator (@cloud-copilot/iam-simulate), caches the decisions and counts every checked call.
 */
export class IamEnforcer {
  private rendered: Record<RoleKey, RenderedRole>;
  readonly region: string;
  readonly accountId: string;
  /** The deployment name the policies were rendered for (imgflow). */
  readonly deployment: string;
  private readonly decisions = new Map<string, Promise<IamDecision>>();
  private classifiers = new Map<RoleKey, ((resource: string) => string | undefined) | undefined>();
  private readonly counts = Object.fromEntries(ROLE_KEYS.map((role) => [role, { checked: 0, denied: 0 }])) as Record<RoleKey, IamRoleStats>;
  private readonly denialLog: IamDenial[] = [];
  private evaluations = 0;
  private cacheHits = 0;
  private removals: PolicyRemovals;
  private readonly onRecord: ((record: IamRecord) => void) | undefined;
  private reported = { evaluations: 0, cacheHits: 0 };

  constructor(options: IamEnforcerOptions = {}) {
    const rendered = renderedPolicies();
    this.removals = options.remove ?? {};
    this.onRecord = options.onRecord;
    this.rendered = withoutStatements(rendered.roles, options.remove);
    this.region = rendered.deployment.region;
    this.accountId = rendered.deployment.accountId;
    this.deployment = rendered.deployment.name;
  }

  /** The statements taken out of the rendered policies now (the constructor's `remove`, or the last `setRemovals`). */
  get removed(): PolicyRemovals {
    return this.removals;
  }

  /** Each role's name, ARN and policy as enforced now. */
  get roles(): Readonly<Record<RoleKey, RenderedRole>> {
    return this.rendered;
  }

  /**
   * Enforces the rendered policies without these statements from now on (none: the policies as
   * rendered), so that one runtime can show what each missing permission does.
   */
  setRemovals(removals: PolicyRemovals = {}): void {
    this.removals = removals;
    this.rendered = withoutStatements(renderedPolicies().roles, removals);
    this.decisions.clear();
    this.classifiers.clear();
  }

  /** The principal AWS names in its errors: the role's session (Lambda's session name is the function's). */
  sessionArn(role: RoleKey): string {
    const { roleName } = this.rendered[role];
    return `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${this.deployment}-${role}`;
  }

  /** The role's decision for one authorization (cached by role, action, resource or its class, and context). */
  decide(role: RoleKey, request: IamRequest): Promise<IamDecision> {
    if (!this.classifiers.has(role)) this.classifiers.set(role, objectClassifier(this.rendered[role].policy));
    const resource = this.classifiers.get(role)?.(request.resource) ?? request.resource;
    const key = `${role}\n${request.action}\n${resource}\n${request.context ? JSON.stringify(request.context) : ''}`;
    const known = this.decisions.get(key);
    if (known) {
      this.cacheHits += 1;
      return known;
    }
    this.evaluations += 1;
    const decision = this.evaluate(role, request);
    if (this.decisions.size >= CACHE_LIMIT) this.decisions.delete(this.decisions.keys().next().value as string);
    this.decisions.set(key, decision);
    decision.catch(() => this.decisions.delete(key));
    return decision;
  }

  /** The first refused authorization of a call, or undefined when IAM allows all of them. */
  async firstDenial(role: RoleKey, call: string, requests: readonly IamRequest[]): Promise<IamDenial | undefined> {
    for (const request of requests) {
      const decision = await this.decide(role, request);
      if (!decision.allowed) return this.denial(role, call, request, decision.explicit);
    }
    return undefined;
  }

  denial(role: RoleKey, call: string, request: IamRequest, explicit: boolean): IamDenial {
    const why = explicit ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${request.action} action`;
    return {
      role,
      call,
      action: request.action,
      resource: request.resource,
      ...(request.context ? { context: request.context } : {}),
      explicit,
      message: `User: ${this.sessionArn(role)} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`,
    };
  }

  /** Counts one checked call, and its denials (none when IAM allowed it) with the answer the caller got. */
  record(role: RoleKey, denials: readonly IamDenial[] = [], answer?: IamAnswer): void {
    if (this.onRecord) {
      const evaluations = this.evaluations - this.reported.evaluations;
      const cacheHits = this.cacheHits - this.reported.cacheHits;
      this.reported = { evaluations: this.evaluations, cacheHits: this.cacheHits };
      this.onRecord({ role, denials, ...(answer ? { answer } : {}), evaluations, cacheHits });
    }
    this.count(role, denials, answer);
  }

  /** Counts a call checked by another enforcer (a function's, in its sandbox) as if checked here. */
  absorb(record: IamRecord): void {
    this.evaluations += record.evaluations;
    this.cacheHits += record.cacheHits;
    this.count(record.role, record.denials, record.answer);
  }

  private count(role: RoleKey, denials: readonly IamDenial[], answer?: IamAnswer): void {
    this.counts[role].checked += 1;
    if (denials.length === 0) return;
    this.counts[role].denied += 1;
    for (const denial of denials) {
      if (this.denialLog.length >= DENIAL_LOG_LIMIT) this.denialLog.shift();
      this.denialLog.push(answer ? { ...denial, answer } : denial);
    }
  }

  stats(): IamStats {
    const byRole = structuredClone(this.counts);
    const total = Object.values(byRole).reduce((sum, role) => ({ checked: sum.checked + role.checked, denied: sum.denied + role.denied }), { checked: 0, denied: 0 });
    return { ...total, byRole, evaluations: this.evaluations, cacheHits: this.cacheHits };
  }

  /** The refused authorizations so far (the latest 1000), oldest first. */
  denials(): readonly IamDenial[] {
    return [...this.denialLog];
  }

  /** Starts the counts (and the denial log) again; the decision cache stays. */
  resetStats(): void {
    for (const role of ROLE_KEYS) this.counts[role] = { checked: 0, denied: 0 };
    this.denialLog.length = 0;
    this.evaluations = 0;
    this.cacheHits = 0;
    this.reported = { evaluations: 0, cacheHits: 0 };
  }

  private async evaluate(role: RoleKey, request: IamRequest): Promise<IamDecision> {
    const { roleArn, policy } = this.rendered[role];
    const result = await runSimulation(
      {
        identityPolicies: [{ name: `${role}-policy`, policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: roleArn,
          action: request.action,
          // The evaluator reads "*" and "?" in a request's resource as wildcards; in an S3 key
          // they are plain characters, which only a policy's wildcards can match: so is U+E000.
          resource: { resource: request.resource.replace(/[*?]/g, '\uE000'), accountId: this.accountId },
          contextVariables: request.context ?? {},
        },
      },
      {},
    );
    if (result.resultType === 'error') {
      throw new Error(`IAM could not evaluate ${request.action} on ${request.resource} for the ${role} role: ${result.errors.message}`);
    }
    return { allowed: result.overallResult === 'Allowed', explicit: result.overallResult === 'ExplicitlyDenied' };
  }
}
