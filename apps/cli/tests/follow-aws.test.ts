import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeStateMachineCommandOutput,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  SFNServiceException,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { JobRecord } from '@imgflow/pipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { explainAwsError, parseExecutionArn } from '../src/aws.js';
import { showStatus } from '../src/commands/status.js';
import { submitImage } from '../src/commands/submit.js';
import { staleLedgerNote, stateMachineArnOption } from '../src/follow.js';
import { describeStandardExecution, eventFromLog } from '../src/workflow.js';
import { captureIo, tempDir } from './helpers.js';

// Every client the commands create is mocked at its class: no call leaves the process.
const sfn = mockClient(SFNClient);
const logs = mockClient(CloudWatchLogsClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const ACCOUNT = '123456789012';
const STATE_MACHINE_ARN = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:imgflow`;
const LOG_GROUP = '/aws/vendedlogs/states/imgflow';
const EXPRESS_ARN = `arn:aws:states:us-east-1:${ACCOUNT}:express:imgflow:0b1e63c3-5a1b-4c5e-9d8e-3f2a1c0d9e8f:6f3a2b1c-4d5e-4f60-8a9b-0c1d2e3f4a5b`;
const STANDARD_ARN = `arn:aws:states:us-east-1:${ACCOUNT}:execution:imgflow:0b1e63c3-5a1b-4c5e-9d8e-3f2a1c0d9e8f`;
const T0 = Date.parse('2026-03-02T10:00:00.000Z');

/** DescribeStateMachine as AWS answers it for the workflow module's state machine. */
function stateMachine(type: 'EXPRESS' | 'STANDARD', level: 'ALL' | 'ERROR' | 'FATAL' | 'OFF'): DescribeStateMachineCommandOutput {
  return {
    $metadata: { httpStatusCode: 200, requestId: 'a1b2c3d4-0000-4000-8000-000000000001', attempts: 1, totalRetryDelay: 0 },
    stateMachineArn: STATE_MACHINE_ARN,
    name: 'imgflow',
    status: 'ACTIVE',
    definition: '{"StartAt":"ValidateImage","States":{}}',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/imgflow-workflow-us-east-1`,
    type,
    creationDate: new Date(T0 - 86_400_000),
    loggingConfiguration:
      level === 'OFF'
        ? { level: 'OFF', includeExecutionData: false }
        : {
            level,
            includeExecutionData: false,
            destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${LOG_GROUP}:*` } }],
          },
    tracingConfiguration: { enabled: false },
    revisionId: '0e1d2c3b-4a59-4687-a5b4-c3d2e1f00a1b',
  };
}

/** An Express log event as Step Functions writes it (numbers as strings; no input/output with include_execution_data off). */
function logEvent(id: number, previous: number, type: string, offsetMs: number, details: Record<string, unknown> = {}): FilteredLogEvent {
  const timestamp = T0 + offsetMs;
  return {
    logStreamName: `states/imgflow/2026-03-02-10-00/6f3a2b1c`,
    timestamp,
    ingestionTime: timestamp + 900,
    eventId: `3796${String(timestamp)}${String(id).padStart(4, '0')}00000000000000000000`,
    message: JSON.stringify({
      id: String(id),
      type,
      details,
      previous_event_id: String(previous),
      event_timestamp: String(timestamp),
      execution_arn: EXPRESS_ARN,
      redrive_count: '0',
    }),
  };
}

const lambda = (name: string) => ({ resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:imgflow-${name}`, timeoutInSeconds: '11' });

/** A full Express run at level ALL: ValidateImage, ResizeImage failing once then retried, Notify. */
const EXPRESS_SUCCESS: FilteredLogEvent[] = [
  logEvent(1, 0, 'ExecutionStarted', 0, { roleArn: `arn:aws:iam::${ACCOUNT}:role/imgflow-workflow-us-east-1` }),
  logEvent(2, 1, 'TaskStateEntered', 20, { name: 'ValidateImage' }),
  logEvent(3, 2, 'LambdaFunctionScheduled', 20, lambda('validate')),
  logEvent(4, 3, 'LambdaFunctionStarted', 40),
  logEvent(5, 4, 'LambdaFunctionSucceeded', 340),
  logEvent(6, 5, 'TaskStateExited', 340, { name: 'ValidateImage' }),
  logEvent(7, 6, 'TaskStateEntered', 360, { name: 'ResizeImage' }),
  logEvent(8, 7, 'LambdaFunctionScheduled', 360, lambda('resize')),
  logEvent(9, 8, 'LambdaFunctionStarted', 380),
  logEvent(10, 9, 'LambdaFunctionFailed', 900, { error: 'StorageUnavailableError', cause: '{"errorType":"StorageUnavailableError","errorMessage":"S3 is unavailable (SlowDown)"}' }),
  logEvent(11, 10, 'LambdaFunctionScheduled', 1900, lambda('resize')),
  logEvent(12, 11, 'LambdaFunctionStarted', 1920),
  logEvent(13, 12, 'LambdaFunctionSucceeded', 3100),
  logEvent(14, 13, 'TaskStateExited', 3100, { name: 'ResizeImage' }),
  logEvent(15, 14, 'TaskStateEntered', 3120, { name: 'NotifySuccess' }),
  logEvent(16, 15, 'LambdaFunctionScheduled', 3120, lambda('notify')),
  logEvent(17, 16, 'LambdaFunctionStarted', 3140),
  logEvent(18, 17, 'LambdaFunctionSucceeded', 3300),
  logEvent(19, 18, 'TaskStateExited', 3300, { name: 'NotifySuccess' }),
  logEvent(20, 19, 'SucceedStateEntered', 3310, { name: 'Done' }),
  logEvent(21, 20, 'SucceedStateExited', 3310, { name: 'Done' }),
  logEvent(22, 21, 'ExecutionSucceeded', 3320),
];

function record(status: JobRecord['status'], executionId: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    jobId: '5b8561ddfdafdb6c329ca996f7ae4ca8',
    status,
    statusShard: `${status}#3`,
    sourceBucket: 'imgflow-uploads-123456789012-us-east-1',
    sourceKey: 'uploads/photo.jpg',
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    size: 12,
    executionId,
    attempts: 1,
    createdAt: new Date(T0 + 30).toISOString(),
    updatedAt: new Date(T0 + 3300).toISOString(),
    ...extra,
  };
}

const SUCCEEDED_EXTRA: Partial<JobRecord> = {
  outputBucket: 'imgflow-outputs-123456789012-us-east-1',
  outputs: [{ rendition: 'sm', format: 'webp', width: 320, height: 240, bytes: 9000, key: 'renditions/uploads/photo/sm.webp' }] as JobRecord['outputs'],
};

function denied(action: string, resource: string): SFNServiceException {
  return new SFNServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'b1c2d3e4-0000-4000-8000-000000000002' },
    message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/developer/me is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  });
}

let root: { path: string; remove: () => Promise<void> };
let photo: string;

beforeAll(async () => {
  root = await tempDir();
  photo = join(root.path, 'photo.jpg');
  await writeFile(photo, 'not an image');
});

afterAll(async () => {
  await root.remove();
  // The mocks replace the clients' send at their classes: other test files get the real ones back.
  for (const mock of [sfn, logs, dynamo, s3]) mock.restore();
});

beforeEach(() => {
  sfn.reset();
  logs.reset();
  dynamo.reset();
  s3.reset();
  s3.on(PutObjectCommand).resolves({ $metadata: { httpStatusCode: 200 }, ETag: '"d41d8cd98f00b204e9800998ecf8427e"', ServerSideEncryption: 'AES256' });
});

const submitOptions = { file: '', bucket: 'imgflow-uploads-123456789012-us-east-1', table: 'imgflow-jobs', region: 'us-east-1', interval: 10, timeout: 30, stateMachineArn: STATE_MACHINE_ARN };

describe('imgflow submit --state-machine-arn: EXPRESS', () => {
  it('follows the ledger and the CloudWatch Logs, prints the step timeline, and never calls DescribeExecution', async () => {
    sfn.on(DescribeStateMachineCommand).resolves(stateMachine('EXPRESS', 'ALL'));
    dynamo
      .on(GetCommand)
      .resolvesOnce({ $metadata: {} })
      .resolvesOnce({ Item: record('PROCESSING', EXPRESS_ARN) })
      .resolves({ Item: record('SUCCEEDED', EXPRESS_ARN, SUCCEEDED_EXTRA) });
    logs.on(FilterLogEventsCommand).resolves({ events: EXPRESS_SUCCESS, searchedLogStreams: [] });

    const io = captureIo();
    const outcome = await submitImage({ ...submitOptions, file: photo }, io);
    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
    const filter = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(filter?.logGroupName).toBe(LOG_GROUP);
    expect(filter?.filterPattern).toBe(`{ $.execution_arn = "${EXPRESS_ARN}" }`);

    const text = io.out();
    expect(text).toContain('state machine imgflow: EXPRESS, execution logging ALL');
    expect(text).toMatch(/^\d\d:\d\d:\d\d {3}entered ResizeImage$/m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d {3}LambdaFunctionFailed StorageUnavailableError/m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d SUCCEEDED$/m);
    expect(text).toContain(`execution ${EXPRESS_ARN}: SUCCEEDED in 3.3s`);
    expect(text).toMatch(/│ ResizeImage +│ \+360ms +│ 2\.7s +│ 2 +│ ok after StorageUnavailableError/);
    expect(text).toMatch(/│ ValidateImage +│ \+20ms +│ 320ms +│ 1 +│ ok/);
    expect(text).toContain(`(from CloudWatch Logs ${LOG_GROUP})`);
    expect(outcome.timeline?.steps.map((step) => step.state)).toEqual(['ValidateImage', 'ResizeImage', 'NotifySuccess', 'Done']);
  });

  it('with logging OFF says so and follows the ledger alone', async () => {
    sfn.on(DescribeStateMachineCommand).resolves(stateMachine('EXPRESS', 'OFF'));
    dynamo.on(GetCommand).resolvesOnce({ Item: record('PROCESSING', EXPRESS_ARN) }).resolves({ Item: record('SUCCEEDED', EXPRESS_ARN, SUCCEEDED_EXTRA) });

    const io = captureIo();
    const outcome = await submitImage({ ...submitOptions, file: photo }, io);
    expect(outcome.exitCode).toBe(0);
    expect(io.err()).toContain('imgflow submit: execution logging is OFF for imgflow: following the job ledger alone');
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(io.out()).toMatch(/^\d\d:\d\d:\d\d SUCCEEDED$/m);
    expect(io.out()).toContain('1 outputs in s3://imgflow-outputs-123456789012-us-east-1');
    expect(outcome.timeline).toBeUndefined();
  });

  it('reports an execution TIMED_OUT in the logs (level ERROR) while the ledger says PROCESSING, and that the ledger will be swept', async () => {
    sfn.on(DescribeStateMachineCommand).resolves(stateMachine('EXPRESS', 'ERROR'));
    const leaseExpiresAt = new Date(Date.now() + 9.5 * 60_000).toISOString();
    dynamo.on(GetCommand).resolves({ Item: record('PROCESSING', EXPRESS_ARN, { leaseExpiresAt }) });
    // At level ERROR only failures are logged: the timed-out Lambda attempt (its Started event is not) and the execution's end.
    logs
      .on(FilterLogEventsCommand)
      .resolves({
        events: [
          logEvent(31, 30, 'LambdaFunctionTimedOut', 295_000, { error: 'States.Timeout', cause: 'The Lambda function did not finish in time' }),
          logEvent(33, 31, 'ExecutionTimedOut', 300_000, { error: 'States.Timeout', cause: 'The execution exceeded its maximum duration' }),
        ],
      });

    const io = captureIo();
    const outcome = await submitImage({ ...submitOptions, file: photo }, io);
    expect(outcome.exitCode).toBe(1);
    expect(io.err()).toContain('execution logging of imgflow is at level ERROR: its logs hold failures only');
    expect(io.out()).toMatch(/^\d\d:\d\d:\d\d {3}execution TIMED_OUT: States\.Timeout$/m);
    expect(io.out()).toContain(`execution ${EXPRESS_ARN}: TIMED_OUT (States.Timeout: The execution exceeded its maximum duration)`);
    expect(io.out()).toMatch(/│ 10:04:55\.000Z │ LambdaFunctionTimedOut +│ States\.Timeout: The Lambda function did not finish in time/);
    expect(io.out()).toContain('the execution ended TIMED_OUT but the ledger still says PROCESSING: the job is timed out, and the ledger will be swept (recorded FAILED) within 10 minutes');
    expect(outcome.record?.status).toBe('PROCESSING');
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });
});

describe('imgflow submit --state-machine-arn: STANDARD', () => {
  it('polls DescribeExecution until the end and reads the whole paginated GetExecutionHistory', async () => {
    sfn.on(DescribeStateMachineCommand).resolves(stateMachine('STANDARD', 'OFF'));
    const describe = (status: 'RUNNING' | 'SUCCEEDED') => ({
      executionArn: STANDARD_ARN,
      stateMachineArn: STATE_MACHINE_ARN,
      name: '0b1e63c3-5a1b-4c5e-9d8e-3f2a1c0d9e8f',
      status,
      startDate: new Date(T0),
      ...(status === 'SUCCEEDED' ? { stopDate: new Date(T0 + 2500) } : {}),
      inputDetails: { included: true },
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE' as const,
    });
    sfn.on(DescribeExecutionCommand).resolvesOnce(describe('RUNNING')).resolvesOnce(describe('RUNNING')).resolves(describe('SUCCEEDED'));
    dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: record('PROCESSING', STANDARD_ARN) })
      .resolvesOnce({ Item: record('PROCESSING', STANDARD_ARN) })
      .resolves({ Item: record('SUCCEEDED', STANDARD_ARN, SUCCEEDED_EXTRA) });
    const at = (ms: number) => new Date(T0 + ms);
    const page1: HistoryEvent[] = [
      { id: 1, previousEventId: 0, type: 'ExecutionStarted', timestamp: at(0), executionStartedEventDetails: { inputDetails: { truncated: false }, roleArn: 'arn:aws:iam::123456789012:role/imgflow-workflow-us-east-1' } },
      { id: 2, previousEventId: 0, type: 'TaskStateEntered', timestamp: at(15), stateEnteredEventDetails: { name: 'ValidateImage', inputDetails: { truncated: false } } },
      { id: 3, previousEventId: 2, type: 'LambdaFunctionScheduled', timestamp: at(15), lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:us-east-1:123456789012:function:imgflow-validate', timeoutInSeconds: 11 } },
      { id: 4, previousEventId: 3, type: 'LambdaFunctionStarted', timestamp: at(30) },
      { id: 5, previousEventId: 4, type: 'LambdaFunctionFailed', timestamp: at(200), lambdaFunctionFailedEventDetails: { error: 'LedgerUnavailableError', cause: 'DynamoDB is unavailable' } },
    ];
    const page2: HistoryEvent[] = [
      { id: 6, previousEventId: 5, type: 'LambdaFunctionScheduled', timestamp: at(1200), lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:us-east-1:123456789012:function:imgflow-validate', timeoutInSeconds: 11 } },
      { id: 7, previousEventId: 6, type: 'LambdaFunctionStarted', timestamp: at(1210) },
      { id: 8, previousEventId: 7, type: 'LambdaFunctionSucceeded', timestamp: at(1500), lambdaFunctionSucceededEventDetails: { outputDetails: { truncated: false } } },
      { id: 9, previousEventId: 8, type: 'TaskStateExited', timestamp: at(1500), stateExitedEventDetails: { name: 'ValidateImage', outputDetails: { truncated: false } } },
      { id: 10, previousEventId: 9, type: 'ExecutionSucceeded', timestamp: at(2500), executionSucceededEventDetails: { outputDetails: { truncated: false } } },
    ];
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: page1, nextToken: 'AAAAKgAAAAIAAAAAAAAAAQ==' })
      .resolves({ events: page2 });

    const io = captureIo();
    const outcome = await submitImage({ ...submitOptions, file: photo }, io);
    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(sfn.commandCalls(DescribeExecutionCommand).length).toBeGreaterThanOrEqual(3);
    const history = sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input);
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({ executionArn: STANDARD_ARN, includeExecutionData: false });
    expect(history[1]?.nextToken).toBe('AAAAKgAAAAIAAAAAAAAAAQ==');
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
    expect(io.out()).toMatch(/^\d\d:\d\d:\d\d {3}execution SUCCEEDED$/m);
    expect(io.out()).toContain(`execution ${STANDARD_ARN}: SUCCEEDED in 2.5s`);
    expect(io.out()).toMatch(/│ ValidateImage +│ \+15ms +│ 1\.5s +│ 2 +│ ok after LedgerUnavailableError/);
    expect(io.out()).toContain('(from GetExecutionHistory)');
  });
});

describe('AWS errors', () => {
  it('AccessDenied on DescribeStateMachine names states:DescribeStateMachine, exit 1, before anything is uploaded', async () => {
    sfn.on(DescribeStateMachineCommand).rejects(denied('states:DescribeStateMachine', STATE_MACHINE_ARN));
    const io = captureIo();
    const outcome = await submitImage({ ...submitOptions, file: photo }, io);
    expect(outcome.exitCode).toBe(1);
    expect(io.err()).toMatch(
      /^imgflow submit: AWS denied states:DescribeStateMachine on state machine arn:aws:states:us-east-1:123456789012:stateMachine:imgflow: the caller's identity needs permission states:DescribeStateMachine \(User: /,
    );
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('AccessDenied on FilterLogEvents names logs:FilterLogEvents and the job is followed in the ledger', async () => {
    sfn.on(DescribeStateMachineCommand).resolves(stateMachine('EXPRESS', 'ALL'));
    dynamo.on(GetCommand).resolvesOnce({ Item: record('PROCESSING', EXPRESS_ARN) }).resolves({ Item: record('REJECTED', EXPRESS_ARN, { reasonCode: 'UNSUPPORTED_FORMAT', reasonMessage: 'not an image' }) });
    logs.on(FilterLogEventsCommand).rejects(denied('logs:FilterLogEvents', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${LOG_GROUP}:log-stream:`));
    const io = captureIo();
    const outcome = await submitImage({ ...submitOptions, file: photo }, io);
    expect(outcome.exitCode).toBe(1);
    expect(io.err()).toContain(`imgflow submit: cannot follow the execution: AWS denied logs:FilterLogEvents on log group ${LOG_GROUP}: the caller's identity needs permission logs:FilterLogEvents`);
    expect(io.out()).toContain('REJECTED: UNSUPPORTED_FORMAT: not an image');
  });

  it('an Express ARN given to a Standard-only call is refused without calling AWS', async () => {
    await expect(describeStandardExecution(new SFNClient({ region: 'us-east-1' }), EXPRESS_ARN)).rejects.toThrow(
      `${EXPRESS_ARN} is an Express execution: Step Functions serves states:DescribeExecution for Standard executions only`,
    );
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('explains missing credentials and region, an unknown ARN, and a bad --state-machine-arn', () => {
    const credentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(explainAwsError(credentials, 'states:DescribeStateMachine', 'x').message).toMatch(/^no AWS credentials for states:DescribeStateMachine: set AWS_PROFILE/);
    expect(explainAwsError(new Error('Region is missing'), 's3:PutObject', 'x').message).toBe('no AWS region for s3:PutObject: give --region or set AWS_REGION');
    const missing = new SFNServiceException({ name: 'StateMachineDoesNotExist', $fault: 'client', $metadata: {}, message: `State Machine Does Not Exist: '${STATE_MACHINE_ARN}'` });
    expect(explainAwsError(missing, 'states:DescribeStateMachine', `state machine ${STATE_MACHINE_ARN}`).message).toBe(
      `state machine ${STATE_MACHINE_ARN} does not exist (states:DescribeStateMachine: State Machine Does Not Exist: '${STATE_MACHINE_ARN}'); check the ARN or name, and the region`,
    );
    expect(() => stateMachineArnOption(EXPRESS_ARN, {})).toThrow(/that is an execution ARN: give its state machine/);
    expect(stateMachineArnOption(undefined, { IMGFLOW_STATE_MACHINE_ARN: STATE_MACHINE_ARN })).toBe(STATE_MACHINE_ARN);
    expect(parseExecutionArn(EXPRESS_ARN)).toMatchObject({ type: 'EXPRESS', stateMachineArn: STATE_MACHINE_ARN });
    expect(parseExecutionArn(STANDARD_ARN)).toMatchObject({ type: 'STANDARD', stateMachineArn: STATE_MACHINE_ARN });
  });

  it('reads an Express log line with its numbers as strings, and ignores other lines', () => {
    expect(eventFromLog(EXPRESS_SUCCESS[1]?.message ?? '')).toEqual({ id: 2, previousId: 1, type: 'TaskStateEntered', at: T0 + 20, state: 'ValidateImage', executionArn: EXPRESS_ARN });
    expect(eventFromLog('START RequestId: 1')).toBeUndefined();
    expect(staleLedgerNote(record('FAILED', EXPRESS_ARN), 'TIMED_OUT')).toBeUndefined();
  });
});

describe('imgflow status --remote --state-machine-arn', () => {
  it('prints the ledger record and the Express execution timeline from the logs', async () => {
    sfn.on(DescribeStateMachineCommand).resolves(stateMachine('EXPRESS', 'ALL'));
    dynamo.on(GetCommand).resolves({ Item: record('SUCCEEDED', EXPRESS_ARN, SUCCEEDED_EXTRA) });
    logs.on(FilterLogEventsCommand).resolvesOnce({ events: EXPRESS_SUCCESS.slice(0, 10), nextToken: 'f/3796-page-2' }).resolves({ events: EXPRESS_SUCCESS.slice(10) });
    const io = captureIo();
    const code = await showStatus({ target: '5b8561ddfdafdb6c329ca996f7ae4ca8', remote: true, table: 'imgflow-jobs', region: 'us-east-1', stateMachineArn: STATE_MACHINE_ARN }, io);
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out()).toMatch(/│ status +│ SUCCEEDED/);
    expect(io.out()).toContain(`execution ${EXPRESS_ARN}: SUCCEEDED in 3.3s`);
    expect(io.out()).toMatch(/│ NotifySuccess +│ \+3\.1s +│ 180ms +│ 1 +│ ok/);
    const calls = logs.commandCalls(FilterLogEventsCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.startTime).toBe(T0 + 30 - 60_000);
    expect(calls[1]?.nextToken).toBe('f/3796-page-2');
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('finds the job by source key and reports the Standard execution; AccessDenied on the history names states:GetExecutionHistory', async () => {
    sfn.on(DescribeStateMachineCommand).resolves(stateMachine('STANDARD', 'OFF'));
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: STANDARD_ARN, stateMachineArn: STATE_MACHINE_ARN, status: 'SUCCEEDED', startDate: new Date(T0), stopDate: new Date(T0 + 2500) });
    sfn.on(GetExecutionHistoryCommand).rejects(denied('states:GetExecutionHistory', STANDARD_ARN));
    dynamo.onAnyCommand().resolves({ Items: [{ jobId: '5b8561ddfdafdb6c329ca996f7ae4ca8', sourceKey: 'uploads/photo.jpg', createdAt: new Date(T0).toISOString() }] });
    dynamo.on(GetCommand).resolves({ Item: record('SUCCEEDED', STANDARD_ARN, SUCCEEDED_EXTRA) });
    const { BatchGetCommand } = await import('@aws-sdk/lib-dynamodb');
    dynamo.on(BatchGetCommand).resolves({ Responses: { 'imgflow-jobs': [record('SUCCEEDED', STANDARD_ARN, SUCCEEDED_EXTRA)] } });
    const io = captureIo();
    const code = await showStatus({ target: 'photo.jpg', remote: true, table: 'imgflow-jobs', region: 'us-east-1', stateMachineArn: STATE_MACHINE_ARN }, io);
    expect(code).toBe(1);
    expect(io.out()).toMatch(/│ job id +│ 5b8561ddfdafdb6c329ca996f7ae4ca8/);
    expect(io.err()).toContain('imgflow status: cannot read the execution: AWS denied states:GetExecutionHistory on execution');
  });
});
