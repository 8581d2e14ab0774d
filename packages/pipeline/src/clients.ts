import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClients {
  s3: S3Client;
  dynamo: DynamoDBDocumentClient;
  sns: SNSClient;
}

export interface ClientOptions {
  region?: string;
  /** Endpoint overrides, e.g. the local emulators. Absent: the real AWS endpoints. */
  endpoints?: { s3?: string; dynamodb?: string; sns?: string };
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Extra attempts the SDK makes before a step's own Retry takes over. */
  maxAttempts?: number;
}

/**
 * SDK v3 clients as the handlers use them. Path-style addressing and "checksums only when
 * required" are what s3rver needs and are harmless on AWS.
 */
export function createClients(options: ClientOptions = {}): AwsClients {
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
  };
  const s3 = new S3Client({
    ...common,
    ...(options.endpoints?.s3 ? { endpoint: options.endpoints.s3, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...common, ...(options.endpoints?.dynamodb ? { endpoint: options.endpoints.dynamodb } : {}) }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const sns = new SNSClient({ ...common, ...(options.endpoints?.sns ? { endpoint: options.endpoints.sns } : {}) });
  return { s3, dynamo, sns };
}

export function destroyClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.dynamo.destroy();
  clients.sns.destroy();
}
