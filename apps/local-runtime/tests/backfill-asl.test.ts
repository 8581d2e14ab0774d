import { readFile } from 'node:fs/promises';
import { objectFromEvent } from '@imgflow/pipeline';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  type AslState,
  BACKFILL_MAP_STATE,
  type ListedObject,
  BACKFILL_TEMPLATE_PATH,
  UPLOAD_BUCKET,
  backfillTemplateVariables,
  localBackfillSettings,
  renderBackfillDefinition,
  renderDefinition,
  selectBackfillItems,
  templatePlaceholders,
  terraformJsonEncode,
  validateDefinition,
} from '../src/index.js';

/**
 * The backfill's Distributed Map cannot run here (aws-local-stepfunctions has no ItemReader or
 * DISTRIBUTED mode): its definition is checked instead, rendered from the same templates as on
 * AWS (infra/modules/backfill/tests plans the Terraform side).
 */
function mapState(definition: AslDefinition): AslState & Record<string, unknown> {
  return definition.States[BACKFILL_MAP_STATE] as AslState & Record<string, unknown>;
}

/** One item as the s3:listObjectsV2 ItemReader gives it to the Map (the ListObjectsV2 Contents entry; the ETag keeps its quotes). */
const LISTED = { Etag: '"0c2b7e6a1f4d8a93b5e1d2c3f4a5b6c7"', Key: 'photos/2019/red flower+1.jpg', LastModified: 1700000000, Size: 2_481_337, StorageClass: 'STANDARD' };

describe('the backfill definition', () => {
  it('takes exactly the placeholders backfillTemplateVariables (and infra/modules/backfill/locals.tf) pass', async () => {
    const workflow = await renderDefinition();
    expect(templatePlaceholders(await readFile(BACKFILL_TEMPLATE_PATH, 'utf8'))).toEqual(Object.keys(backfillTemplateVariables(workflow, localBackfillSettings())).sort());
  });

  it('passes asl-validator', async () => {
    expect(validateDefinition(await renderBackfillDefinition())).toEqual({ valid: true, errors: [] });
  });

  it('is one DISTRIBUTED Map whose item processor is the image workflow, states and all', async () => {
    const backfill = await renderBackfillDefinition();
    const workflow = await renderDefinition();
    const maps = Object.values(backfill.States).filter((state) => state.Type === 'Map');
    expect(maps).toHaveLength(1);
    const map = mapState(backfill);
    const processor = map.ItemProcessor as { ProcessorConfig: unknown; StartAt: string; States: unknown };
    expect(processor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(processor.StartAt).toBe(workflow.StartAt);
    expect(processor.States).toEqual(workflow.States);
    expect(map.MaxConcurrency).toBe(100);
    expect(map.ToleratedFailurePercentage).toBe(5);
    expect(map.ItemReader).toEqual({ Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: UPLOAD_BUCKET, 'Prefix.$': '$.prefix' } });
    expect(map.ResultWriter).toEqual({ Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: localBackfillSettings().reportBucket, Prefix: 'backfill-reports' } });
  });

  it('renders its settings: concurrency, tolerance, child type, prefixes', async () => {
    const backfill = await renderBackfillDefinition(
      localBackfillSettings({ maxConcurrency: 40, toleratedFailurePercentage: 0, executionType: 'STANDARD', uploadKeyPrefix: 'in "quotes" & <tags>/', reportPrefix: 'reports/backfill/' }),
    );
    const map = mapState(backfill);
    expect(map.MaxConcurrency).toBe(40);
    expect(map.ToleratedFailurePercentage).toBe(0);
    expect((map.ItemProcessor as { ProcessorConfig: { ExecutionType: string } }).ProcessorConfig.ExecutionType).toBe('STANDARD');
    expect((backfill.States.ApplyDefaults as unknown as { Parameters: { defaults: unknown } }).Parameters.defaults).toEqual({ prefix: 'in "quotes" & <tags>/' });
    expect((map.ResultWriter as { Parameters: { Prefix: string } }).Parameters.Prefix).toBe('reports/backfill');
  });

  it('encodes JSON as Terraform\'s jsonencode() does (sorted keys, <>& escaped)', () => {
    expect(terraformJsonEncode({ b: 1, a: ['<x>', '&'] })).toBe('{"a":["\\u003cx\\u003e","\\u0026"],"b":1}');
    expect(JSON.parse(terraformJsonEncode({ b: 1, a: ['<x>', '&'] }))).toEqual({ a: ['<x>', '&'], b: 1 });
  });
});

describe('the backfill input and each listed object', () => {
  /**
   * The Map's ItemSelector, verbatim, on an inline Map over the listed items (an ItemsPath where
   * AWS has the ItemReader): aws-local-stepfunctions evaluates its JSONPath, context object
   * ($$.Map.Item.Value, $$.Map.Item.Index, $$.Execution) and intrinsics as Step Functions does.
   */
  async function selected(items: unknown[]): Promise<unknown[]> {
    // The execution's name, as AWS puts it into the context object (the engine sets its own start time).
    return selectBackfillItems(items as ListedObject[], 'backfill-1');
  }

  it('becomes the Object Created event ValidateImage takes: objectFromEvent reads the object', async () => {
    const [event] = await selected([LISTED]);
    expect(event).toMatchObject({
      version: '0',
      id: 'backfill-backfill-1-0',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      region: 'us-east-1',
      resources: [`arn:aws:s3:::${UPLOAD_BUCKET}`],
    });
    expect((event as { detail: unknown }).detail).toEqual({
      version: '0',
      bucket: { name: UPLOAD_BUCKET },
      object: { key: LISTED.Key, size: LISTED.Size, etag: LISTED.Etag },
      reason: 'Backfill',
    });
    expect(objectFromEvent(event)).toEqual({ bucket: UPLOAD_BUCKET, key: LISTED.Key, etag: '0c2b7e6a1f4d8a93b5e1d2c3f4a5b6c7', size: LISTED.Size });
  });

  it('gives each object its own event id', async () => {
    const events = (await selected([LISTED, { ...LISTED, Key: 'photos/b.png', Size: 10 }])) as Array<{ id: string; detail: { object: { key: string } } }>;
    expect(events.map((event) => event.detail.object.key)).toEqual([LISTED.Key, 'photos/b.png']);
    expect(new Set(events.map((event) => event.id)).size).toBe(2);
  });

  it('defaults the prefix to the upload key prefix, and an input prefix replaces it', async () => {
    const backfill = await renderBackfillDefinition(localBackfillSettings({ uploadKeyPrefix: 'photos/' }));
    // The two Pass states before the Map, as they are, ending where the Map would start.
    const definition = {
      StartAt: backfill.StartAt,
      States: {
        ApplyDefaults: structuredClone(backfill.States.ApplyDefaults),
        ReadOptions: { ...Object.fromEntries(Object.entries(backfill.States.ReadOptions as AslState).filter(([key]) => key !== 'Next')), End: true },
      },
    };
    const options = async (input: unknown) => new StateMachine(structuredClone(definition) as never).run(input as never).result;
    expect(await options({})).toEqual({ prefix: 'photos/' });
    expect(await options({ prefix: 'photos/2019/' })).toEqual({ prefix: 'photos/2019/' });
  });
});
