import type { jobsTableDefinition } from '@imgflow/pipeline';

/** A CreateTable input (the shape jobsTableDefinition returns). */
export type TableDefinition = ReturnType<typeof jobsTableDefinition>;

/**
 * DynamoDB request units as AWS bills them on demand, computed from the items themselves: the
 * emulator (dynalite) reports no index units, so the index write amplification is worked out
 * here from the table definition, by AWS's documented rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes,
 * .../CapacityUnitCalculations.html):
 * - a write costs 1 write unit per started KB of the larger of the item before and after;
 * - per index: an item entering it is 1 put, leaving it 1 delete, changing its index key a delete
 *   plus a put, changing only projected attributes 1 update, and nothing else costs nothing; each
 *   by the size of the index entry (table key + index key + projected attributes), 1 KB steps;
 * - a conditional write whose condition fails still costs the write (size of the item as it is);
 * - a strongly consistent read costs 1 read unit per started 4 KB, an eventually consistent
 *   one half that; a query adds up the entries it returns, then rounds; a missing item costs 1 read.
 */
export type Item = Record<string, unknown>;

/** Bytes of a value as DynamoDB sizes it (numbers approximated as digits / 2 + 1). */
export function valueSize(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return Math.ceil(String(value).replace(/[-.]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (typeof value === 'boolean') return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, each) => sum + 1 + valueSize(each), 0);
  if (value instanceof Set) return [...value].reduce((sum: number, each) => sum + valueSize(each), 0);
  if (typeof value === 'object') return 3 + Object.entries(value).reduce((sum, [name, each]) => sum + 1 + Buffer.byteLength(name) + valueSize(each), 0);
  return 0;
}

/** Bytes of an item: every attribute's name and value. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((sum, [name, value]) => (value === undefined ? sum : sum + Buffer.byteLength(name) + valueSize(value)), 0);
}

export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
export const readUnits = (bytes: number, consistent: boolean) => (Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5));

interface IndexShape {
  name: string;
  keys: string[];
  projected: 'ALL' | 'KEYS_ONLY' | string[];
}

function indexesOf(definition: TableDefinition): { tableKeys: string[]; indexes: IndexShape[] } {
  const tableKeys = (definition.KeySchema ?? []).map((key) => key.AttributeName as string);
  const indexes = (definition.GlobalSecondaryIndexes ?? []).map((index) => {
    const type = index.Projection?.ProjectionType ?? 'ALL';
    return {
      name: index.IndexName as string,
      keys: (index.KeySchema ?? []).map((key) => key.AttributeName as string),
      projected: type === 'INCLUDE' ? (index.Projection?.NonKeyAttributes ?? []) : (type as 'ALL' | 'KEYS_ONLY'),
    };
  });
  return { tableKeys, indexes };
}

/** The index's entry for an item (undefined when the item lacks an index key attribute: not in the index). */
function entryOf(item: Item | undefined, index: IndexShape, tableKeys: string[]): Item | undefined {
  if (!item || index.keys.some((key) => item[key] === undefined)) return undefined;
  if (index.projected === 'ALL') return item;
  const names = new Set([...tableKeys, ...index.keys, ...(index.projected === 'KEYS_ONLY' ? [] : index.projected)]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The write units of one successful write that turned `before` into `after` (undefined: no item). */
export function writeCost(definition: TableDefinition, before: Item | undefined, after: Item | undefined): { table: number; indexes: Record<string, number> } {
  const { tableKeys, indexes } = indexesOf(definition);
  const table = writeUnits(Math.max(itemSize(before), itemSize(after)));
  const perIndex: Record<string, number> = {};
  for (const index of indexes) {
    const old = entryOf(before, index, tableKeys);
    const next = entryOf(after, index, tableKeys);
    let units = 0;
    if (!old && next) units = writeUnits(itemSize(next));
    else if (old && !next) units = writeUnits(itemSize(old));
    else if (old && next) {
      if (index.keys.some((key) => !same(old[key], next[key]))) units = writeUnits(itemSize(old)) + writeUnits(itemSize(next));
      else if (!same(old, next)) units = writeUnits(Math.max(itemSize(old), itemSize(next)));
    }
    perIndex[index.name] = units;
  }
  return { table, indexes: perIndex };
}

/** DynamoDB request units of the ledger calls of one image. */
export interface DynamoUnits {
  /** Write units of the table itself (failed conditional writes included). */
  tableWrites: number;
  /** Write units of the indexes (the amplification), by index. */
  indexWrites: Record<string, number>;
  readUnits: number;
  /** Requests by operation (UpdateItem, GetItem, …), and how many conditional writes failed. */
  requests: Record<string, number>;
  conditionFailures: number;
}

export function emptyDynamoUnits(): DynamoUnits {
  return { tableWrites: 0, indexWrites: {}, readUnits: 0, requests: {}, conditionFailures: 0 };
}

export function totalWriteUnits(units: Pick<DynamoUnits, 'tableWrites' | 'indexWrites'>): number {
  return units.tableWrites + Object.values(units.indexWrites).reduce((sum, each) => sum + each, 0);
}

type Middleware = (next: (args: { input: unknown }) => Promise<{ output: unknown }>, context: { commandName?: string }) => (args: { input: unknown }) => Promise<{ output: unknown }>;
interface MiddlewareClient {
  middlewareStack: { add(middleware: Middleware, options: { step: 'initialize'; name: string }): void };
}

/**
 * Meters the DynamoDB calls of the handlers' (document) clients: each write is asked for the
 * item as written (ReturnValues ALL_NEW; the handler still sees the answer it asked for), and
 * the meter keeps the last state of every item it saw (reads included), so each write's before
 * and after are known and priced with `writeCost`. Items it never saw count as absent: reset()
 * it when the ledger starts empty for the image (the bench deletes each image's items).
 */
export class DynamoMeter {
  units = emptyDynamoUnits();
  private readonly items = new Map<string, Item>();

  constructor(private readonly definition: TableDefinition) {}

  reset(): void {
    this.units = emptyDynamoUnits();
    this.items.clear();
  }

  private keyOf(key: unknown): string {
    return JSON.stringify(key);
  }

  private itemKey(item: Item): string {
    const { tableKeys } = indexesOf(this.definition);
    return this.keyOf(Object.fromEntries(tableKeys.map((name) => [name, item[name]])));
  }

  attach(client: unknown): void {
    (client as MiddlewareClient).middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? '').replace(/Command$/, '');
        const input = args.input as { Key?: Item; ReturnValues?: string; ConsistentRead?: boolean; IndexName?: string; RequestItems?: Record<string, { Keys?: Item[]; ConsistentRead?: boolean }> };
        this.units.requests[command] = (this.units.requests[command] ?? 0) + 1;
        if (command === 'UpdateItem' || command === 'Update') return this.update(next, args, input);
        const result = await next(args);
        const output = result.output as { Item?: Item; Items?: Item[]; Responses?: Record<string, Item[]> };
        if (command === 'GetItem' || command === 'Get') {
          this.units.readUnits += readUnits(itemSize(output.Item), input.ConsistentRead === true);
          if (input.Key) {
            if (output.Item) this.items.set(this.keyOf(input.Key), output.Item);
            else this.items.delete(this.keyOf(input.Key));
          }
        } else if (command === 'Query') {
          const bytes = (output.Items ?? []).reduce((sum, item) => sum + itemSize(item), 0);
          this.units.readUnits += readUnits(bytes, input.ConsistentRead === true && !input.IndexName);
        } else if (command === 'BatchGetItem' || command === 'BatchGet') {
          for (const [table, items] of Object.entries(output.Responses ?? {})) {
            const consistent = input.RequestItems?.[table]?.ConsistentRead === true;
            for (const item of items) {
              this.units.readUnits += readUnits(itemSize(item), consistent);
              this.items.set(this.itemKey(item), item);
            }
          }
        }
        return result;
      },
      { step: 'initialize', name: 'imgflowBenchDynamoMeter' },
    );
  }

  private async update(next: (args: { input: unknown }) => Promise<{ output: unknown }>, args: { input: unknown }, input: { Key?: Item; ReturnValues?: string }) {
    const key = this.keyOf(input.Key);
    const before = this.items.get(key);
    const asked = input.ReturnValues;
    // ALL_OLD (the ledger's claim) is answered from the item as the meter last saw it: the bench
    // starts each image with an empty ledger, so that is the item as it was.
    const forced = asked === undefined || asked === 'NONE' || asked === 'ALL_OLD';
    let result: { output: unknown };
    try {
      result = await next(forced ? { ...args, input: { ...input, ReturnValues: 'ALL_NEW' } } : args);
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') {
        this.units.conditionFailures += 1;
        this.units.tableWrites += writeUnits(itemSize(before));
      }
      throw error;
    }
    const output = result.output as { Attributes?: Item };
    // Without ALL_NEW (the handler asked for another shape), the item as written is not known: assume unchanged size.
    const after = forced || asked === 'ALL_NEW' ? output.Attributes : before;
    const cost = writeCost(this.definition, before, after);
    this.units.tableWrites += cost.table;
    for (const [name, units] of Object.entries(cost.indexes)) this.units.indexWrites[name] = (this.units.indexWrites[name] ?? 0) + units;
    if (after) this.items.set(key, after);
    if (!forced) return result;
    const { Attributes: _written, ...rest } = output;
    return { ...result, output: asked === 'ALL_OLD' && before ? { ...rest, Attributes: before } : rest };
  }
}
