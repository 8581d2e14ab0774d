import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSServiceException } from '@aws-sdk/client-sns';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { STEP_NAMES } from '@imgflow/contract';
import { type JobRecord, type ObjectRef, jobIdFor } from '@imgflow/pipeline';
import type { RecipeInput } from '@imgflow/image-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecutionReport,
  type IamDenial,
  JOBS_TABLE,
  LocalStack,
  type LocalStackOptions,
  OUTPUT_BUCKET,
  type PolicyRemovals,
  ROLE_KEYS,
  STATE_MACHINE_ARN,
  TRIGGER_RULE_ARN,
  UPLOAD_BUCKET,
  localFunctionArn,
  renderedPolicies,
} from '../src/index.js';
import { listKeys, objectCreatedEvent, photoJpeg } from './helpers.js';

/**
 * IAM as AWS enforces it, from the policies Terraform renders (src/iam/rendered-policies.json,
 * proven equal to Terraform's output by infra/tests/policies.test.ts): never a stub policy.
 */

/** Small renditions, one of them filtered (so ApplyFilters reads and writes), copyright kept (so OptimizeImage reads the upload). */
const RECIPE: RecipeInput = {
  renditions: [
    { name: 'sm', width: 160 },
    { name: 'grey', width: 120, filters: [{ type: 'grayscale' }] },
  ],
  formats: ['webp'],
  metadata: { keep: ['copyright'] },
};

/** Something a test does when an execution enters or leaves a state (e.g. delete the upload). */
interface Hook {
  when: 'entered' | 'exited';
  state: string;
  act: (ref: ObjectRef) => Promise<unknown>;
}

/** Runs uploads through the trigger and waits for their executions. */
class Runs {
  private readonly finished = new Map<string, (report: ExecutionReport) => void>();
  /** Hooks by upload key until the execution starts, then by execution name. */
  private readonly pending = new Map<string, () => Hook>();
  private readonly active = new Map<string, { hook: Hook; ref: () => ObjectRef }>();
  private readonly acting: Promise<unknown>[] = [];

  constructor(readonly stack: LocalStack) {
    stack.enableTrigger((update) => {
      if (update.type === 'started') {
        const hook = this.pending.get(update.event.detail.object.key);
        if (hook) this.active.set(update.name, { hook: hook(), ref: () => this.refs.get(update.event.detail.object.key) as ObjectRef });
      }
      if (update.type === 'entered' || update.type === 'exited') {
        const active = this.active.get(update.name);
        if (active && active.hook.when === update.type && active.hook.state === update.state) this.acting.push(active.hook.act(active.ref()));
      }
      if (update.type === 'finished') this.finished.get(update.report.event.detail.object.key)?.(update.report);
    });
  }

  private readonly refs = new Map<string, ObjectRef>();

  /** Uploads, then waits for the execution and reads the ledger record. */
  async upload(key: string, body: Buffer, hook?: Hook): Promise<{ ref: ObjectRef; report: ExecutionReport; record: JobRecord | undefined }> {
    const report = new Promise<ExecutionReport>((resolve) => this.finished.set(key, resolve));
    if (hook) this.pending.set(key, () => hook);
    const ref = await this.stack.upload(key, body);
    this.refs.set(key, ref);
    const finished = await report;
    await Promise.all(this.acting.splice(0));
    return { ref, report: finished, record: await this.stack.ledger.get(jobIdFor(ref)) };
  }
}

let seed = 1000;
/** A new photo each time: no content-cache hit between tests. */
function image(): Promise<Buffer> {
  seed += 1;
  return photoJpeg(200, 150, seed);
}

/** The denials of one role since the last reset. */
const denialsOf = (stack: LocalStack, role: IamDenial['role']) => stack.iam.denials().filter((denial) => denial.role === role);

describe('IAM enforced from the rendered policies', () => {
  let stack: LocalStack;
  let runs: Runs;

  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5, recipe: RECIPE });
    runs = new Runs(stack);
  });
  afterAll(async () => {
    await stack.stop();
  });
  afterEach(() => {
    stack.iam.setRemovals({});
    stack.iam.resetStats();
  });

  it('applies to the local resources as they are: they have the names Terraform gives them', () => {
    const { deployment, resources, roles } = renderedPolicies();
    expect(deployment).toEqual({ name: 'imgflow', region: 'us-east-1', accountId: '000000000000' });
    expect(Object.keys(roles).sort()).toEqual([...ROLE_KEYS].sort());
    expect({
      upload_bucket: UPLOAD_BUCKET,
      output_bucket: stack.config.outputBucket,
      jobs_table: stack.config.jobsTable,
      success_topic_arn: stack.config.successTopicArn,
      error_topic_arn: stack.config.errorTopicArn,
      state_machine_arn: STATE_MACHINE_ARN,
      event_rule_arn: TRIGGER_RULE_ARN,
      function_arns: Object.fromEntries(STEP_NAMES.map((step) => [step, localFunctionArn(step)])),
    }).toEqual({
      upload_bucket: resources.upload_bucket,
      output_bucket: resources.output_bucket,
      jobs_table: resources.jobs_table,
      success_topic_arn: resources.success_topic_arn,
      error_topic_arn: resources.error_topic_arn,
      state_machine_arn: resources.state_machine_arn,
      event_rule_arn: resources.event_rule_arn,
      function_arns: resources.function_arns,
    });
    expect([OUTPUT_BUCKET, JOBS_TABLE]).toEqual([resources.output_bucket, resources.jobs_table]);
  });

  it('checks every call of a successful upload and of a sweep, with each role, and denies none', async () => {
    const { report, record } = await runs.upload('iam/happy.jpg', await image());
    expect(report?.status).toBe('SUCCEEDED');
    expect(record).toMatchObject({ status: 'SUCCEEDED', notified: true });
    // The sweeper's scheduled run reads the status index and finds nothing to end or notify.
    expect(await stack.sweep()).toMatchObject({ abandoned: [], notified: [], errors: [] });
    const stats = stack.iam.stats();
    expect(stack.iam.denials()).toEqual([]);
    expect(stats.denied).toBe(0);
    for (const role of ROLE_KEYS) expect(stats.byRole[role].checked, role).toBeGreaterThan(0);
    console.info(`one upload: ${stats.checked} AWS calls checked against IAM, ${stats.denied} denied (${stats.evaluations} evaluations, ${stats.cacheHits} from the cache)`);
  });

  describe('a denied call fails as AWS fails it', () => {
    it('S3: S3ServiceException AccessDenied, HTTP 403, in AWS words', async () => {
      const error = await stack.stepClients.resize.s3
        .send(new PutObjectCommand({ Bucket: OUTPUT_BUCKET, Key: 'renditions/x/sm.webp', Body: 'x' }))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(S3ServiceException);
      expect(error).toMatchObject({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
      expect((error as Error).message).toBe(
        `User: arn:aws:sts::000000000000:assumed-role/imgflow-resize-us-east-1/imgflow-resize is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::${OUTPUT_BUCKET}/renditions/x/sm.webp because no identity-based policy allows the s3:PutObject action`,
      );
      // s3:ListBucket only with an s3:prefix the role reads: not the work prefix for validate, not without a prefix.
      for (const input of [{ Bucket: OUTPUT_BUCKET, Prefix: 'work/' }, { Bucket: UPLOAD_BUCKET }]) {
        await expect(stack.stepClients.validate.s3.send(new ListObjectsV2Command(input))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      }
      await expect(stack.stepClients.validate.s3.send(new ListObjectsV2Command({ Bucket: OUTPUT_BUCKET, Prefix: 'renditions/x/' }))).resolves.toBeDefined();
    });

    it('DynamoDB: DynamoDBServiceException AccessDeniedException, HTTP 400 (also through the DocumentClient)', async () => {
      const error = await stack.stepClients.resize.dynamo.send(new GetCommand({ TableName: JOBS_TABLE, Key: { jobId: 'x' } })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DynamoDBServiceException);
      expect(error).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
      expect((error as Error).message).toMatch(/is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/imgflow-jobs because/);
      // No index: the content cache reads its claim item (GetItem), not an index.
      const query = (index: string) =>
        stack.stepClients.validate.dynamo.send(
          new QueryCommand({ TableName: JOBS_TABLE, IndexName: index, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': index === 'byStatus' ? 'statusShard' : 'sourceKey' }, ExpressionAttributeValues: { ':v': 'x' } }),
        );
      await expect(query('byStatus')).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(query('bySourceKey')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });

    it('SNS: SNSServiceException AuthorizationError, HTTP 403', async () => {
      const error = await stack.stepClients.validate.sns.send(new PublishCommand({ TopicArn: stack.config.successTopicArn, Message: '{}' })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SNSServiceException);
      expect(error).toMatchObject({ name: 'AuthorizationError', $metadata: { httpStatusCode: 403 } });
      expect((error as Error).message).toMatch(/is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:000000000000:imgflow-success/);
    });

    it('CopyObject of a tagged source copies its tags by default, which needs s3:GetObjectTagging and s3:PutObjectTagging: AccessDenied; REPLACE does not', async () => {
      await stack.clients.s3.send(new PutObjectCommand({ Bucket: OUTPUT_BUCKET, Key: 'renditions/iam-tags/a.webp', Body: 'x', Tagging: 'owner=alice' }));
      const copy = (extra: object) =>
        stack.stepClients.validate.s3.send(new CopyObjectCommand({ Bucket: OUTPUT_BUCKET, Key: 'renditions/iam-tags/b.webp', CopySource: `${OUTPUT_BUCKET}/renditions/iam-tags/a.webp`, ...extra }));
      await expect(copy({})).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect(denialsOf(stack, 'validate').map((denial) => [denial.action, denial.resource])).toEqual([['s3:GetObjectTagging', `arn:aws:s3:::${OUTPUT_BUCKET}/renditions/iam-tags/a.webp`]]);
      await expect(copy({ TaggingDirective: 'REPLACE' })).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    });

    it('DeleteObjects: each key on its own, the refused ones in Errors[] of a 200', async () => {
      await stack.clients.s3.send(new PutObjectCommand({ Bucket: OUTPUT_BUCKET, Key: 'work/iam-delete/resize.bundle', Body: 'x' }));
      await stack.clients.s3.send(new PutObjectCommand({ Bucket: OUTPUT_BUCKET, Key: 'renditions/iam-delete/sm.webp', Body: 'x' }));
      const result = await stack.stepClients.notify.s3.send(
        new DeleteObjectsCommand({ Bucket: OUTPUT_BUCKET, Delete: { Objects: [{ Key: 'work/iam-delete/resize.bundle' }, { Key: 'renditions/iam-delete/sm.webp' }] } }),
      );
      expect(result.$metadata.httpStatusCode).toBe(200);
      expect(result.Errors).toEqual([{ Key: 'renditions/iam-delete/sm.webp', Code: 'AccessDenied', Message: 'Access Denied' }]);
      expect(await listKeys(stack, OUTPUT_BUCKET, 'work/iam-delete/')).toEqual([]);
      expect(await listKeys(stack, OUTPUT_BUCKET, 'renditions/iam-delete/')).toEqual(['renditions/iam-delete/sm.webp']);
      expect(stack.iam.stats().denied).toBe(1);
    });
  });

  // In an unversioned upload bucket: with versioning, a deleted upload's version stays readable by its id.
  describe('a missing key: 404 with s3:ListBucket on its prefix, 403 without (as S3 answers)', () => {
    let stack: LocalStack;
    let runs: Runs;
    beforeAll(async () => {
      stack = await LocalStack.start({ retryPauseMs: 5, recipe: RECIPE, uploadVersioning: 'Disabled' });
      runs = new Runs(stack);
    });
    afterAll(async () => {
      await stack.stop();
    });
    afterEach(() => {
      stack.iam.setRemovals({});
      stack.iam.resetStats();
    });

    const missing = { Bucket: UPLOAD_BUCKET, Key: 'iam/never-uploaded.jpg' };
    const copyFromMissing = new CopyObjectCommand({ Bucket: OUTPUT_BUCKET, Key: 'renditions/iam/copy.webp', CopySource: `${OUTPUT_BUCKET}/renditions/iam/never.webp` });

    it('GetObject, HeadObject and a CopyObject source answer 404 to a role that may list their prefix', async () => {
      await expect(stack.stepClients.validate.s3.send(new GetObjectCommand(missing))).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      await expect(stack.stepClients.validate.s3.send(new HeadObjectCommand(missing))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      await expect(stack.stepClients.validate.s3.send(copyFromMissing)).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      expect(stack.iam.stats().denied).toBe(0);
    });

    it('and 403 AccessDenied without that s3:ListBucket', async () => {
      stack.iam.setRemovals({ validate: ['ListUploads', 'ListRenditions'] });
      await expect(stack.stepClients.validate.s3.send(new GetObjectCommand(missing))).rejects.toMatchObject({ name: 'AccessDenied', message: 'Access Denied', $metadata: { httpStatusCode: 403 } });
      await expect(stack.stepClients.validate.s3.send(new HeadObjectCommand(missing))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      await expect(stack.stepClients.validate.s3.send(copyFromMissing)).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect(denialsOf(stack, 'validate').map((denial) => [denial.action, denial.resource, denial.context])).toEqual([
        ['s3:ListBucket', `arn:aws:s3:::${UPLOAD_BUCKET}`, { 's3:prefix': missing.Key }],
        ['s3:ListBucket', `arn:aws:s3:::${UPLOAD_BUCKET}`, { 's3:prefix': missing.Key }],
        ['s3:ListBucket', `arn:aws:s3:::${OUTPUT_BUCKET}`, { 's3:prefix': 'renditions/iam/never.webp' }],
      ]);
    });

    it('the prefix matters: a missing work bundle is 403 to OptimizeImage, a missing upload 404', async () => {
      await expect(stack.stepClients.optimize.s3.send(new GetObjectCommand({ Bucket: OUTPUT_BUCKET, Key: 'work/nope/resize.bundle' }))).rejects.toMatchObject({ name: 'AccessDenied' });
      await expect(stack.stepClients.optimize.s3.send(new GetObjectCommand(missing))).rejects.toMatchObject({ name: 'NoSuchKey' });
    });

    it('an upload deleted before processing: REJECTED SOURCE_MISSING; without ListUploads it would be FAILED ACCESS_DENIED', async () => {
      for (const [removals, expected] of [
        [{}, { status: 'REJECTED', reasonCode: 'SOURCE_MISSING', reasonError: 'SourceMissingError' }],
        [{ validate: ['ListUploads'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', reasonError: 'AccessDeniedError' }],
      ] as Array<[PolicyRemovals, Partial<JobRecord>]>) {
        stack.iam.setRemovals(removals);
        const key = `iam/gone-${Object.keys(removals).length}.jpg`;
        const report = await stack.execute(objectCreatedEvent({ bucket: UPLOAD_BUCKET, key, size: 1000, etag: 'abc' }));
        const [record] = await stack.ledger.listBySourceKey(key);
        expect(record, key).toMatchObject(expected);
        expect(report.path.at(-1), key).toBe(expected.status === 'REJECTED' ? 'Rejected' : 'JobFailed');
      }
    });

    // The upload goes once ValidateImage is done (or once OptimizeImage starts) while the step waits; in
    // the Parallel state the other branch waits longer, so that the step under test fails first.
    it.each([
      ['ResizeImage', 'resize', { when: 'exited', state: 'ValidateImage' }, { ResizeImage: 250, ApplyFilters: 750 }],
      ['ApplyFilters', 'filter', { when: 'exited', state: 'ValidateImage' }, { ApplyFilters: 250, ResizeImage: 750 }],
      ['OptimizeImage', 'optimize', { when: 'entered', state: 'OptimizeImage' }, { OptimizeImage: 250 }],
    ] as const)('an upload deleted while %s waits: REJECTED SOURCE_MISSING; without its ListUploads FAILED ACCESS_DENIED', async (_state, role, moment, waits) => {
      for (const removals of [{}, { [role]: ['ListUploads'] }] as PolicyRemovals[]) {
        const denied = Object.keys(removals).length > 0;
        stack.iam.resetStats();
        stack.iam.setRemovals(removals);
        for (const [state, delayMs] of Object.entries(waits)) stack.faults.failState(state, { times: 1, delayMs, delayOnly: true, error: () => new Error('unused') });
        const key = `iam/deleted-in-${role}-${denied}.jpg`;
        const { record } = await runs.upload(key, await image(), {
          ...moment,
          act: (ref) => stack.clients.s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key })),
        });
        expect(record, `${role} ${denied}`).toMatchObject(
          denied ? { status: 'FAILED', reasonCode: 'ACCESS_DENIED' } : { status: 'REJECTED', reasonCode: 'SOURCE_MISSING' },
        );
        // (The other branch, abandoned by the failed Parallel state, may still read its upload: only this key counts.)
        const denials = denialsOf(stack, role).filter((denial) => denial.context?.['s3:prefix'] === key);
        expect(denials.map((denial) => [denial.action, denial.resource, denial.answer?.name]), `${role} ${denied}`).toEqual(
          denied ? [['s3:ListBucket', `arn:aws:s3:::${UPLOAD_BUCKET}`, 'AccessDenied']] : [],
        );
      }
    });

    it('a stale content-cache entry (its renditions deleted): processed again; without ListRenditions FAILED ACCESS_DENIED', async () => {
      for (const denied of [false, true]) {
        const bytes = await image();
        const first = await runs.upload(`iam/stale-${denied}/first.jpg`, bytes);
        expect(first.record?.status).toBe('SUCCEEDED');
        for (const output of first.record?.outputs ?? []) await stack.clients.s3.send(new DeleteObjectCommand({ Bucket: OUTPUT_BUCKET, Key: output.key }));
        stack.iam.resetStats();
        stack.iam.setRemovals(denied ? { validate: ['ListRenditions'] } : {});
        const second = await runs.upload(`iam/stale-${denied}/second.jpg`, bytes);
        if (denied) {
          expect(second.record).toMatchObject({ status: 'FAILED', reasonCode: 'ACCESS_DENIED' });
          const denials = denialsOf(stack, 'validate');
          expect(denials.length).toBeGreaterThan(0);
          for (const denial of denials) {
            expect(denial).toMatchObject({ action: 's3:ListBucket', resource: `arn:aws:s3:::${OUTPUT_BUCKET}`, answer: { name: 'AccessDenied', httpStatusCode: 403 } });
            expect(denial.context?.['s3:prefix']).toMatch(/^renditions\/iam\/stale-true\/first\//);
          }
        } else {
          expect(second.record).toMatchObject({ status: 'SUCCEEDED', cacheHit: false });
          expect(stack.iam.stats().denied).toBe(0);
        }
      }
    });
  });

  /**
   * One removed statement per row, each of a statement a successful upload uses: the upload's
   * terminal state and reason, and the AWS error the denied call got.
   */
  describe.each<[string, PolicyRemovals, { status?: string; reasonCode?: string; execution: string }, { action: string; resource: RegExp; answer: string; status: number }]>([
    ['validate', { validate: ['ReadUploads'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:GetObject', resource: /:::imgflow-uploads-[^/]+\/iam\//, answer: 'AccessDenied', status: 403 }],
    ['validate', { validate: ['ClaimJobs'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 'dynamodb:UpdateItem', resource: /:table\/imgflow-jobs$/, answer: 'AccessDeniedException', status: 400 }],
    ['resize', { resize: ['ReadUploads'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:GetObject', resource: /:::imgflow-uploads-[^/]+\/iam\//, answer: 'AccessDenied', status: 403 }],
    ['resize', { resize: ['WriteWorkBundle'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:PutObject', resource: /\/work\/[0-9a-f]{32}\/resize\.bundle$/, answer: 'AccessDenied', status: 403 }],
    ['filter', { filter: ['ReadUploads'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:GetObject', resource: /:::imgflow-uploads-[^/]+\/iam\//, answer: 'AccessDenied', status: 403 }],
    ['filter', { filter: ['WriteWorkBundle'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:PutObject', resource: /\/work\/[0-9a-f]{32}\/filter\.bundle$/, answer: 'AccessDenied', status: 403 }],
    ['optimize', { optimize: ['ReadWorkBundles'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:GetObject', resource: /\/work\/[0-9a-f]{32}\/resize\.bundle$/, answer: 'AccessDenied', status: 403 }],
    ['optimize', { optimize: ['ReadUploads'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:GetObject', resource: /:::imgflow-uploads-[^/]+\/iam\//, answer: 'AccessDenied', status: 403 }],
    ['optimize', { optimize: ['WriteRenditions'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', execution: 'JobFailed' }, { action: 's3:PutObject', resource: /\/renditions\/iam\/[^/]+\/(sm|grey)\.webp$/, answer: 'AccessDenied', status: 403 }],
    // The outcome cannot be recorded: the job stays PROCESSING (its lease lets a later upload take it), the execution fails.
    ['notify', { notify: ['RecordOutcome'] }, { status: 'PROCESSING', execution: 'NotificationFailed' }, { action: 'dynamodb:UpdateItem', resource: /:table\/imgflow-jobs$/, answer: 'AccessDeniedException', status: 400 }],
    // Recorded and notified, but the work objects stay: the execution fails so that it is seen.
    ['notify', { notify: ['DeleteWorkObjects'] }, { status: 'SUCCEEDED', execution: 'NotificationFailed' }, { action: 's3:DeleteObject', resource: /\/work\/[0-9a-f]{32}\/(resize|filter)\.bundle$/, answer: 'AccessDenied', status: 200 }],
    // Recorded, not notified; a denial is not retried.
    ['notify', { notify: ['PublishNotifications'] }, { status: 'SUCCEEDED', execution: 'NotificationFailed' }, { action: 'sns:Publish', resource: /:sns:us-east-1:000000000000:imgflow-success$/, answer: 'AuthorizationError', status: 403 }],
    // Step Functions cannot invoke any function: Lambda.AWSLambdaException, retried as a platform error, then NotifyError cannot run either.
    ['workflow', { workflow: ['InvokeStepFunctions'] }, { execution: 'NotificationFailed' }, { action: 'lambda:InvokeFunction', resource: /:function:imgflow-(validate|notify)$/, answer: 'Lambda.AWSLambdaException', status: 403 }],
  ])('without %s %j', (role, removals, expected, aws) => {
    it(`the upload ends ${expected.status ?? 'unrecorded'}${expected.reasonCode ? ` ${expected.reasonCode}` : ''}, the execution at ${expected.execution}, the call gets ${aws.answer}`, async () => {
      stack.iam.setRemovals(removals);
      const { report, record } = await runs.upload(`iam/${role}-${Object.values(removals).flat().join('-')}.jpg`, await image());
      expect(report?.path.at(-1)).toBe(expected.execution);
      if (expected.status) expect(record).toMatchObject({ status: expected.status, ...(expected.reasonCode ? { reasonCode: expected.reasonCode } : {}) });
      else expect(record).toBeUndefined();
      const denials = denialsOf(stack, role as IamDenial['role']);
      expect(denials.length).toBeGreaterThan(0);
      for (const denial of denials) {
        expect(denial.action.replace(/Version$/, '')).toBe(aws.action);
        expect(denial.resource).toMatch(aws.resource);
        expect(denial.answer).toEqual({ name: aws.answer, httpStatusCode: aws.status });
        expect(denial.message).toMatch(new RegExp(`^User: arn:aws:sts::000000000000:assumed-role/imgflow-${role}-us-east-1/imgflow-${role} is not authorized to perform: ${denial.action} on resource: `));
      }
      // Only the removed statement's calls are refused.
      expect(stack.iam.denials().every((denial) => denial.role === role)).toBe(true);
    });
  });
});

describe('IAM of the trigger and of watermark assets (their own runtimes)', () => {
  const start = async (options: LocalStackOptions) => {
    const stack = await LocalStack.start({ retryPauseMs: 5, ...options });
    return { stack, runs: new Runs(stack) };
  };

  it('without StartWorkflow (LocalStack option iam.remove), EventBridge cannot start the execution: the event goes to the dead-letter queue, NO_PERMISSIONS', async () => {
    const { stack } = await start({ iam: { remove: { trigger: ['StartWorkflow'] } } });
    try {
      stack.enableTrigger();
      const ref = await stack.upload('iam/untriggered.jpg', await image());
      for (let tries = 0; tries < 200 && stack.deadLetters.length === 0; tries += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      await stack.whenIdle();
      expect(await stack.ledger.get(jobIdFor(ref))).toBeUndefined();
      expect(stack.deadLetters).toHaveLength(1);
      expect(stack.deadLetters[0]).toMatchObject({ RULE_ARN: TRIGGER_RULE_ARN, TARGET_ARN: STATE_MACHINE_ARN, ERROR_CODE: 'NO_PERMISSIONS', event: { detail: { object: { key: 'iam/untriggered.jpg' } } } });
      expect(stack.deadLetters[0]?.ERROR_MESSAGE).toBe(
        `User: arn:aws:sts::000000000000:assumed-role/imgflow-upload-trigger-us-east-1/imgflow-trigger is not authorized to perform: states:StartExecution on resource: ${STATE_MACHINE_ARN} because no identity-based policy allows the states:StartExecution action`,
      );
      expect(stack.iam.stats().byRole.trigger).toEqual({ checked: 1, denied: 1 });
    } finally {
      await stack.stop();
    }
  });

  it.each([
    ['present', {}, { status: 'SUCCEEDED' }],
    ['present, without ReadAssets', { filter: ['ReadAssets'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED' }],
    ['missing', {}, { status: 'FAILED', reasonCode: 'MISSING_ASSET', reasonError: 'MissingAssetError' }],
    ['missing, without ListAssets', { filter: ['ListAssets'] }, { status: 'FAILED', reasonCode: 'ACCESS_DENIED', reasonError: 'AccessDeniedError' }],
  ] as Array<[string, PolicyRemovals, Partial<JobRecord>]>)('a watermark asset %s', async (label, removals, expected) => {
    // Its own asset name: the filter function caches assets per container (this process).
    const asset = `iam/${label.replace(/\W+/g, '-')}-${Date.now()}.png`;
    const { stack, runs } = await start({
      iam: { remove: removals },
      recipe: { renditions: [{ name: 'marked', width: 120, filters: [{ type: 'watermark', image: asset }] }], formats: ['webp'] },
    });
    try {
      if (label.startsWith('present')) await stack.clients.s3.send(new PutObjectCommand({ Bucket: OUTPUT_BUCKET, Key: `assets/${asset}`, Body: await photoJpeg(32, 32, 7) }));
      const { record } = await runs.upload(`iam/asset-${label.replace(/\W+/g, '-')}.jpg`, await image());
      expect(record).toMatchObject(expected);
      const denials = stack.iam.denials();
      expect(denials.map((denial) => [denial.role, denial.action])).toEqual(
        Object.keys(removals).length === 0 ? [] : [['filter', label.startsWith('present') ? 's3:GetObject' : 's3:ListBucket']],
      );
    } finally {
      await stack.stop();
    }
  });
});
