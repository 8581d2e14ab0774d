import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { jobsTableDefinition, statusShard } from './ledger.js';
import type { JobStatus } from './state.js';

export type JobsTableState = 'created' | 'current' | 'migrated' | 'absent';

const pause = (ms: number) => new Promise((resolveTimer) => setTimeout(resolveTimer, ms));

/** Whether a table has exactly the indexes (names, keys, projections) the definition asks for. */
export function hasIndexesOf(table: TableDescription, definition = jobsTableDefinition(table.TableName ?? '')): boolean {
  const shape = (indexes: ReadonlyArray<{ IndexName?: string; KeySchema?: ReadonlyArray<{ AttributeName?: string; KeyType?: string }>; Projection?: { ProjectionType?: string } }> = []) =>
    JSON.stringify(
      indexes
        .map((index) => ({ name: index.IndexName, keys: (index.KeySchema ?? []).map((key) => `${key.KeyType}:${key.AttributeName}`), projection: index.Projection?.ProjectionType }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    );
  return shape(table.GlobalSecondaryIndexes) === shape(definition.GlobalSecondaryIndexes);
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let round = 0; round < 200; round += 1) {
    if (await check()) return;
    await pause(25);
  }
  throw new Error(`The jobs table did not become ${what} within 5 s`);
}

async function create(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new CreateTableCommand(jobsTableDefinition(name)));
  await until(async () => (await describe(client, name))?.TableStatus === 'ACTIVE', 'active');
}

/**
 * The jobs table of the local runtime (dynalite) as jobsTableDefinition() describes it: created
 * when missing (unless `create` is false), migrated when a data folder of an older imgflow holds
 * it with other indexes. dynalite cannot add or drop an index of a table, so the migration copies
 * the items out, recreates the table and writes them back with the attributes the new indexes
 * key on (statusShard). On AWS, Terraform changes the indexes instead (infra/modules/ledger).
 */
export async function ensureJobsTable(dynamo: DynamoDBClient | DynamoDBDocumentClient, name: string, options: { create?: boolean } = {}): Promise<JobsTableState> {
  // Table and raw-item commands: a document client sends them unchanged.
  const client = dynamo as DynamoDBClient;
  const table = await describe(client, name);
  if (!table) {
    if (options.create === false) return 'absent';
    await create(client, name);
    return 'created';
  }
  if (hasIndexesOf(table)) return 'current';
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: name, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  await client.send(new DeleteTableCommand({ TableName: name }));
  await until(async () => (await describe(client, name)) === undefined, 'deleted');
  await create(client, name);
  for (let offset = 0; offset < items.length; offset += 25) {
    let requests = items.slice(offset, offset + 25).map((item) => ({ PutRequest: { Item: withIndexAttributes(item) } }));
    while (requests.length > 0) {
      const response = await client.send(new BatchWriteItemCommand({ RequestItems: { [name]: requests } }));
      requests = (response.UnprocessedItems?.[name] ?? []) as typeof requests;
    }
  }
  return 'migrated';
}

/** A job item with the attributes the current indexes key on. */
function withIndexAttributes(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const status = item.status?.S as JobStatus | undefined;
  const jobId = item.jobId?.S;
  if (!status || !jobId) return item;
  return { ...item, statusShard: { S: statusShard(status, jobId) } };
}
