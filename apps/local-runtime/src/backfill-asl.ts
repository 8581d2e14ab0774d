import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contract } from '@imgflow/contract';
import { type ObjectCreatedEvent, objectFromEvent } from '@imgflow/pipeline';
import { StateMachine } from 'aws-local-stepfunctions';
import { type AslDefinition, type AslVariables, LOCAL_ACCOUNT, LOCAL_REGION, localAslVariables, renderDefinition, renderTemplate } from './asl.js';
import { OUTPUT_BUCKET, UPLOAD_BUCKET } from './stack.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The backfill definition (infra/modules/backfill): a STANDARD state machine whose Distributed
 * Map lists the upload bucket and runs the image workflow's own states per object. Read from the
 * build's copy when there is one, else from the repository.
 */
export const BACKFILL_TEMPLATE_PATH = [join(here, 'backfill.asl.json.tftpl'), resolve(here, '../../../infra/modules/backfill/backfill.asl.json.tftpl')].find((path) =>
  existsSync(path),
) as string;

/** The name of the Distributed Map state in the backfill template. */
export const BACKFILL_MAP_STATE = 'ProcessExistingObjects';

/** What infra/modules/backfill takes as variables, in the form its locals.tf passes them to templatefile(). */
export interface BackfillSettings {
  partition: string;
  account: string;
  region: string;
  uploadBucket: string;
  /** The pipeline's key_prefix: the default prefix of a backfill. */
  uploadKeyPrefix: string;
  reportBucket: string;
  /** Ends in "/"; the template gets it without (Step Functions appends "/<map run id>/"). */
  reportPrefix: string;
  /** The child executions' type: the image workflow's. */
  executionType: 'STANDARD' | 'EXPRESS';
  maxConcurrency: number;
  toleratedFailurePercentage: number;
}

/**
 * The local deployment's settings: the local runtime's buckets, and the contract's workflow type
 * and backfill defaults (the same ones infra/modules/backfill takes when its inputs are unset).
 */
export function localBackfillSettings(overrides: Partial<BackfillSettings> = {}): BackfillSettings {
  return {
    partition: 'aws',
    account: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
    uploadBucket: UPLOAD_BUCKET,
    uploadKeyPrefix: '',
    reportBucket: OUTPUT_BUCKET,
    reportPrefix: contract.backfill.report_prefix,
    executionType: contract.workflow.default_type as BackfillSettings['executionType'],
    maxConcurrency: contract.backfill.max_concurrency,
    toleratedFailurePercentage: contract.backfill.tolerated_failure_percentage,
    ...overrides,
  };
}

/**
 * Terraform's jsonencode(): object keys sorted, no whitespace, and <, >, &, U+2028, U+2029 as
 * \u escapes. What the backfill module's locals write into the template, so both renderings
 * can be compared byte for byte.
 */
export function terraformJsonEncode(value: unknown): string {
  const sorted = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sorted);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .map((key) => [key, sorted((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return JSON.stringify(sorted(value)).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The templatefile() variables of infra/modules/backfill/locals.tf (`template_variables`), for a rendered image workflow. */
export function backfillTemplateVariables(workflow: AslDefinition, settings: BackfillSettings): Record<string, string | number> {
  return {
    partition: settings.partition,
    account_id: settings.account,
    region: settings.region,
    upload_bucket_name: settings.uploadBucket,
    default_prefix: terraformJsonEncode(settings.uploadKeyPrefix),
    report_bucket_name: settings.reportBucket,
    report_prefix: terraformJsonEncode(settings.reportPrefix.replace(/\/$/, '')),
    execution_type: settings.executionType,
    max_concurrency: settings.maxConcurrency,
    tolerated_failure_percentage: settings.toleratedFailurePercentage,
    item_processor_start_at: terraformJsonEncode(workflow.StartAt),
    item_processor_states: terraformJsonEncode(workflow.States),
  };
}

/**
 * The backfill definition as text, rendered the way Terraform renders it: the image workflow
 * from imgflow.asl.json.tftpl and the contract (renderDefinition), its StartAt and States
 * embedded into backfill.asl.json.tftpl. aws-local-stepfunctions cannot run a Distributed Map:
 * this is for checking the definition (asl-validator, tests), not for running it.
 */
export async function renderBackfillDefinitionText(
  settings: BackfillSettings = localBackfillSettings(),
  workflowVariables: AslVariables = localAslVariables(),
  path = BACKFILL_TEMPLATE_PATH,
): Promise<string> {
  const workflow = await renderDefinition(workflowVariables);
  return renderTemplate(await readFile(path, 'utf8'), backfillTemplateVariables(workflow, settings));
}

export async function renderBackfillDefinition(
  settings: BackfillSettings = localBackfillSettings(),
  workflowVariables: AslVariables = localAslVariables(),
  path = BACKFILL_TEMPLATE_PATH,
): Promise<AslDefinition> {
  return JSON.parse(await renderBackfillDefinitionText(settings, workflowVariables, path)) as AslDefinition;
}

/**
 * One object as the Distributed Map's S3 ItemReader (s3:listObjectsV2) gives it to an item
 * (`$$.Map.Item.Value`): Key, Etag (so spelled, quoted as S3 lists it) and Size.
 */
export interface ListedObject {
  Key: string;
  Etag: string;
  Size: number;
}

/**
 * The execution input each listed object gets on AWS: the backfill Map's ItemSelector, verbatim
 * from the rendered definition, evaluated by aws-local-stepfunctions on an inline Map over the
 * items (an ItemsPath where AWS has the ItemReader), with the backfill execution's name in the
 * context object as AWS puts it. The local backfill starts the image workflow with these, so
 * its item → event step is the template's, not a copy.
 */
export async function selectBackfillItems(items: readonly ListedObject[], executionName: string, settings: BackfillSettings = localBackfillSettings()): Promise<ObjectCreatedEvent[]> {
  const backfill = await renderBackfillDefinition(settings);
  const map = backfill.States[BACKFILL_MAP_STATE] as { ItemSelector?: unknown } | undefined;
  if (!map?.ItemSelector) throw new Error(`The backfill definition has no ${BACKFILL_MAP_STATE} state with an ItemSelector`);
  const definition = {
    StartAt: 'Select',
    States: {
      Select: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemSelector: map.ItemSelector,
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Emit', States: { Emit: { Type: 'Pass', End: true } } },
        End: true,
      },
    },
  };
  const machine = new StateMachine(definition as never);
  const { result } = machine.run({ items } as never, { context: { Execution: { Name: executionName } } as never });
  const events = (await result) as unknown as ObjectCreatedEvent[];
  // Each must be an event the workflow takes: objectFromEvent throws, naming the field, if not.
  for (const event of events) objectFromEvent(event);
  return events;
}
