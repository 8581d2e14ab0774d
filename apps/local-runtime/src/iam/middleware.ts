import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { GetObjectTaggingCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { SNSServiceException } from '@aws-sdk/client-sns';
import type { AwsClients } from '@imgflow/pipeline';
import type { IamAnswer, IamDenial, IamEnforcer } from './enforcer.js';
import type { RoleKey } from './policies.js';
import { type IamRequest, type ServiceName, bucketArn, iamRequestsFor, parseCopySource } from './requests.js';

type Stack = AwsClients['s3']['middlewareStack'];
type Input = Record<string, unknown>;

export interface IamMiddlewareOptions {
  /**
   * Whether an object carries tags. A CopyObject that copies tags (TaggingDirective COPY, the
   * default) of a tagged source also needs s3:GetObjectTagging on the source and
   * s3:PutObjectTagging on the destination; only the store knows whether the source has tags.
   */
  sourceTagged?: (bucket: string, key: string, versionId?: string) => Promise<boolean>;
}

const metadata = (httpStatusCode: number) => ({ httpStatusCode, attempts: 1, totalRetryDelay: 0 });

/** The error each service answers a refused call with: S3 AccessDenied (403), DynamoDB AccessDeniedException (400), SNS AuthorizationError (403). */
export const ACCESS_DENIED: Record<ServiceName, IamAnswer> = {
  s3: { name: 'AccessDenied', httpStatusCode: 403 },
  dynamodb: { name: 'AccessDeniedException', httpStatusCode: 400 },
  sns: { name: 'AuthorizationError', httpStatusCode: 403 },
};

/** That error as the SDK hands it to the caller: the service's own exception class. */
export function accessDeniedError(service: ServiceName, message: string): Error {
  const { name, httpStatusCode } = ACCESS_DENIED[service];
  const fields = { name, $fault: 'client' as const, $metadata: metadata(httpStatusCode), message };
  if (service === 's3') return new S3ServiceException(fields);
  if (service === 'dynamodb') return new DynamoDBServiceException(fields);
  return new SNSServiceException(fields);
}

/** Reads whose 404 for a missing key S3 turns into a 403 for a caller without s3:ListBucket. */
const OBJECT_READS = new Set(['GetObjectCommand', 'HeadObjectCommand', 'CopyObjectCommand', 'GetObjectTaggingCommand']);

function missingObjectOf(commandName: string, input: Input): { bucket: string; key: string } {
  if (commandName === 'CopyObjectCommand') return parseCopySource(String(input.CopySource ?? ''));
  return { bucket: String(input.Bucket), key: String(input.Key) };
}

function isMissingKey(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return $metadata?.httpStatusCode === 404 && (name === 'NoSuchKey' || name === 'NotFound');
}

async function taggingRequests(commandName: string, input: Input, options: IamMiddlewareOptions): Promise<IamRequest[]> {
  if (commandName !== 'CopyObjectCommand' || input.TaggingDirective === 'REPLACE' || !options.sourceTagged) return [];
  const source = parseCopySource(String(input.CopySource ?? ''));
  if (!(await options.sourceTagged(source.bucket, source.key, source.versionId))) return [];
  return [
    { action: source.versionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', resource: `arn:aws:s3:::${source.bucket}/${source.key}` },
    { action: 's3:PutObjectTagging', resource: `arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}` },
  ];
}

/**
 * Adds a middleware to one client that authorizes every command against the role's policy before
 * it is sent (step `initialize`: the input as the caller built it, before signing and retries).
 */
function attach(client: { middlewareStack: Stack }, service: ServiceName, role: RoleKey, enforcer: IamEnforcer, options: IamMiddlewareOptions): void {
  const scope = { region: enforcer.region, accountId: enforcer.accountId };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = context.commandName ?? 'UnknownCommand';
      const call = `${service}:${commandName}`;
      const input = args.input as Input;
      const requests = iamRequestsFor(service, commandName, input, scope);
      if (!requests) {
        // Not mapped: refused, so that a new call is mapped and granted before it can run.
        const denial = enforcer.denial(role, call, { action: `${service}:${commandName.replace(/Command$/, '')}`, resource: '*' }, false);
        enforcer.record(role, [denial], ACCESS_DENIED[service]);
        throw accessDeniedError(service, `${denial.message} (the local runtime has no IAM mapping for ${commandName})`);
      }

      if (commandName === 'DeleteObjectsCommand') {
        // Every key is authorized on its own; refused keys come back in Errors[] of a 200.
        const objects = ((input.Delete as { Objects?: Array<{ Key?: string; VersionId?: string }> }).Objects ?? []);
        const denials: IamDenial[] = [];
        const allowed: typeof objects = [];
        const refused: typeof objects = [];
        for (const [index, request] of requests.entries()) {
          const object = objects[index] as (typeof objects)[number];
          const denial = await enforcer.firstDenial(role, call, [request]);
          if (denial) {
            denials.push(denial);
            refused.push(object);
          } else {
            allowed.push(object);
          }
        }
        enforcer.record(role, denials, { name: 'AccessDenied', httpStatusCode: 200 });
        const errors = refused.map((object) => ({ Key: object.Key, ...(object.VersionId ? { VersionId: object.VersionId } : {}), Code: 'AccessDenied', Message: 'Access Denied' }));
        if (allowed.length === 0) {
          return { output: { $metadata: metadata(200), ...(errors.length ? { Errors: errors } : {}) }, response: {} } as Awaited<ReturnType<typeof next>>;
        }
        const result = await next({ ...args, input: { ...input, Delete: { ...(input.Delete as object), Objects: allowed } } } as typeof args);
        if (errors.length) {
          const output = result.output as { Errors?: unknown[] };
          output.Errors = [...(output.Errors ?? []), ...errors];
        }
        return result;
      }

      const denial = await enforcer.firstDenial(role, call, [...requests, ...(await taggingRequests(commandName, input, options))]);
      if (denial) {
        enforcer.record(role, [denial], ACCESS_DENIED[service]);
        throw accessDeniedError(service, denial.message);
      }
      try {
        const result = await next(args);
        enforcer.record(role);
        return result;
      } catch (error) {
        if (service === 's3' && OBJECT_READS.has(commandName) && isMissingKey(error)) {
          // S3 answers a missing key with 404 only to a caller allowed to list the bucket (with
          // the key as the s3:prefix); to any other it answers 403 AccessDenied.
          const missing = missingObjectOf(commandName, input);
          const listing = { action: 's3:ListBucket', resource: bucketArn(missing.bucket), context: { 's3:prefix': missing.key } };
          const refused = await enforcer.firstDenial(role, call, [listing]);
          enforcer.record(role, refused ? [refused] : [], ACCESS_DENIED.s3);
          if (refused) throw accessDeniedError('s3', 'Access Denied');
          throw error;
        }
        enforcer.record(role);
        throw error;
      }
    },
    { step: 'initialize', name: 'imgflowIamMiddleware', priority: 'high', override: true },
  );
}

/** Every client of one function checked against that function's role. */
export function attachIam(clients: AwsClients, role: RoleKey, enforcer: IamEnforcer, options: IamMiddlewareOptions = {}): void {
  attach(clients.s3, 's3', role, enforcer, options);
  attach(clients.dynamo as unknown as { middlewareStack: Stack }, 'dynamodb', role, enforcer, options);
  attach(clients.sns as unknown as { middlewareStack: Stack }, 'sns', role, enforcer, options);
}

/** Reads whether an object carries tags (GetObjectTagging), for the IAM check of a tag-copying CopyObject. */
export function objectTagReader(s3: S3Client): NonNullable<IamMiddlewareOptions['sourceTagged']> {
  return async (bucket, key, versionId) => {
    try {
      const { TagSet = [] } = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
      return TagSet.length > 0;
    } catch {
      // A missing source fails the copy itself, with the answer its role may see.
      return false;
    }
  };
}
