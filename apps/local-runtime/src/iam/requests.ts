/** One authorization AWS performs for a call: an action on a resource, with its request context. */
export interface IamRequest {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export interface AccountScope {
  region: string;
  accountId: string;
}

type Input = Record<string, unknown>;

const objectArn = (bucket: unknown, key: unknown) => `arn:aws:s3:::${String(bucket)}/${String(key)}`;
export const bucketArn = (bucket: unknown) => `arn:aws:s3:::${String(bucket)}`;

/** CopySource as the SDK sends it ("bucket/key", URL-encoded, "?versionId=" optional) → its parts. */
export function parseCopySource(copySource: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query = ''] = copySource.replace(/^\//, '').split('?');
  const slash = path.indexOf('/');
  const versionId = new URLSearchParams(query).get('versionId') ?? undefined;
  return {
    bucket: decodeURIComponent(path.slice(0, slash)),
    key: decodeURIComponent(path.slice(slash + 1)),
    ...(versionId ? { versionId } : {}),
  };
}

/** "GetObjectCommand" → "GetObject"; lib-dynamodb's "GetCommand" → "GetItem". */
function operationOf(commandName: string): string {
  const operation = commandName.replace(/Command$/, '');
  const documentClient: Record<string, string> = {
    Get: 'GetItem',
    Put: 'PutItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    BatchGet: 'BatchGetItem',
    BatchWrite: 'BatchWriteItem',
    TransactGet: 'TransactGetItems',
    TransactWrite: 'TransactWriteItems',
  };
  return documentClient[operation] ?? operation;
}

function s3Requests(operation: string, input: Input): IamRequest[] | undefined {
  const { Bucket: bucket, Key: key } = input;
  const versioned = input.VersionId !== undefined;
  switch (operation) {
    case 'GetObject':
    case 'HeadObject': // HEAD is authorized as s3:GetObject
      return [{ action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn(bucket, key) }];
    case 'GetObjectTagging':
      return [{ action: versioned ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', resource: objectArn(bucket, key) }];
    case 'PutObjectTagging':
      return [{ action: versioned ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging', resource: objectArn(bucket, key) }];
    case 'PutObject':
      return [
        { action: 's3:PutObject', resource: objectArn(bucket, key) },
        // PutObject with tags or an ACL needs those permissions as well (API_PutObject).
        ...(input.Tagging ? [{ action: 's3:PutObjectTagging', resource: objectArn(bucket, key) }] : []),
        ...(input.ACL || input.GrantRead || input.GrantReadACP || input.GrantWriteACP || input.GrantFullControl
          ? [{ action: 's3:PutObjectAcl', resource: objectArn(bucket, key) }]
          : []),
      ];
    case 'CopyObject': {
      // Read the source, write the destination (API_CopyObject); tags: see sourceTaggingRequests.
      const source = parseCopySource(String(input.CopySource ?? ''));
      return [
        { action: source.versionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn(source.bucket, source.key) },
        { action: 's3:PutObject', resource: objectArn(bucket, key) },
        ...(input.TaggingDirective === 'REPLACE' && input.Tagging ? [{ action: 's3:PutObjectTagging', resource: objectArn(bucket, key) }] : []),
      ];
    }
    case 'DeleteObject':
      return [{ action: versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: objectArn(bucket, key) }];
    case 'DeleteObjects': {
      // S3 authorizes each key on its own; the middleware answers per key (Errors[] in a 200).
      const objects = ((input.Delete as { Objects?: Array<{ Key?: string; VersionId?: string }> } | undefined)?.Objects ?? []);
      return objects.map((object) => ({ action: object.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: objectArn(bucket, object.Key) }));
    }
    case 'ListObjects':
    case 'ListObjectsV2':
    case 'ListObjectVersions': {
      const context: Record<string, string> = {};
      if (input.Prefix !== undefined) context['s3:prefix'] = String(input.Prefix);
      if (input.Delimiter !== undefined) context['s3:delimiter'] = String(input.Delimiter);
      if (input.MaxKeys !== undefined) context['s3:max-keys'] = String(input.MaxKeys);
      return [{ action: operation === 'ListObjectVersions' ? 's3:ListBucketVersions' : 's3:ListBucket', resource: bucketArn(bucket), context }];
    }
    case 'HeadBucket':
      return [{ action: 's3:ListBucket', resource: bucketArn(bucket) }];
    default:
      return undefined;
  }
}

function dynamodbRequests(operation: string, input: Input, scope: AccountScope): IamRequest[] | undefined {
  const table = (name: unknown) => `arn:aws:dynamodb:${scope.region}:${scope.accountId}:table/${String(name)}`;
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'DescribeTable':
      return [{ action: `dynamodb:${operation}`, resource: table(input.TableName) }];
    case 'Query':
    case 'Scan': // on an index, the resource is the index
      return [{ action: `dynamodb:${operation}`, resource: input.IndexName ? `${table(input.TableName)}/index/${String(input.IndexName)}` : table(input.TableName) }];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((input.RequestItems as Input | undefined) ?? {}).map((name) => ({ action: `dynamodb:${operation}`, resource: table(name) }));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const actions: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
      return ((input.TransactItems as Array<Record<string, { TableName?: string }>> | undefined) ?? []).flatMap((item) =>
        Object.entries(item).map(([kind, body]) => ({ action: `dynamodb:${actions[kind] ?? kind}`, resource: table(body.TableName) })),
      );
    }
    default:
      return undefined;
  }
}

function snsRequests(operation: string, input: Input): IamRequest[] | undefined {
  switch (operation) {
    case 'Publish':
    case 'PublishBatch':
      return [{ action: 'sns:Publish', resource: String(input.TopicArn ?? input.TargetArn ?? input.PhoneNumber ?? '') }];
    default:
      return undefined;
  }
}

export type ServiceName = 's3' | 'dynamodb' | 'sns';

/** The service of an SDK client, by its clientName (lib-dynamodb's DocumentClient wraps DynamoDBClient). */
export function serviceOf(clientName: string | undefined): ServiceName | undefined {
  if (clientName === 'S3Client') return 's3';
  if (clientName === 'DynamoDBClient' || clientName === 'DynamoDBDocumentClient') return 'dynamodb';
  if (clientName === 'SNSClient') return 'sns';
  return undefined;
}

/**
 * The authorizations AWS performs for one SDK command, from the input the caller built. A
 * command missing here answers undefined, and the middleware denies it: a new call in a handler
 * must be mapped (and granted) before it runs.
 */
export function iamRequestsFor(service: ServiceName, commandName: string, input: Input, scope: AccountScope): IamRequest[] | undefined {
  const operation = operationOf(commandName);
  if (service === 's3') return s3Requests(operation, input);
  if (service === 'dynamodb') return dynamodbRequests(operation, input, scope);
  return snsRequests(operation, input);
}
