import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LOCAL_DEPLOYMENT, NOT_RUN_LOCALLY, POLICIES_COMMAND, SNAPSHOT_PATH, renderPolicies, snapshotText, terraformMissing } from '../scripts/render-policies.mjs';

/**
 * The local runtime enforces the IAM policies of apps/local-runtime/src/iam/rendered-policies.json
 * on every AWS call. That file must be what Terraform renders from these modules, byte for byte:
 * here the real terraform and aws provider render them again (offline) and the two are compared.
 */
const missing = await terraformMissing();
if (missing) console.warn(`Policy rendering skipped: ${missing}. Install Terraform >= 1.7 and the aws provider to check ${SNAPSHOT_PATH}.`);

describe('the rendered IAM policies the local runtime enforces', () => {
  it('are for the deployment the local runtime stands in for, and name the eight roles it runs as (not the backfill\'s)', async () => {
    const snapshot = JSON.parse(await readFile(SNAPSHOT_PATH, 'utf8'));
    expect(snapshot.deployment).toEqual(LOCAL_DEPLOYMENT);
    expect(Object.keys(snapshot.roles).sort()).toEqual(['filter', 'notify', 'optimize', 'resize', 'sweep', 'trigger', 'validate', 'workflow']);
    // The ninth role, the backfill's, runs a Distributed Map, which the local runtime cannot.
    expect(Object.keys(NOT_RUN_LOCALLY)).toEqual(['backfill']);
    // The sweeper may delete only under the work prefix and query only the byStatus index.
    const sweep = snapshot.roles.sweep.policy.Statement as Array<{ Sid: string; Resource: string | string[] }>;
    expect(sweep.find((statement) => statement.Sid === 'DeleteWorkObjects')?.Resource).toMatch(/^arn:aws:s3:::imgflow-outputs-000000000000-us-east-1\/work\/\*$/);
    expect(sweep.find((statement) => statement.Sid === 'ListJobsByStatus')?.Resource).toMatch(/:table\/imgflow-jobs\/index\/byStatus$/);
    expect(snapshot.comment).toContain(POLICIES_COMMAND);
  });

  it.skipIf(missing !== undefined)(
    'are exactly what Terraform renders from infra/modules today',
    async () => {
      const rendering = await renderPolicies();
      const committed = await readFile(SNAPSHOT_PATH, 'utf8');
      expect(committed, `${SNAPSHOT_PATH} is not what Terraform renders: run ${POLICIES_COMMAND}`).toBe(snapshotText(rendering));
      // Left out of the snapshot, not out of the deployment: the backfill role is rendered, and
      // may list the upload bucket and start only its own state machine's executions.
      const backfill = rendering.roles.backfill?.policy.Statement ?? [];
      expect(backfill.map((statement) => statement.Sid)).toEqual(['InvokeStepFunctions', 'StartChildExecutions', 'ManageChildExecutions', 'ListUploads', 'WriteReports', 'DeliverExecutionLogs']);
      expect(backfill.find((statement) => statement.Sid === 'StartChildExecutions')?.Resource).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:imgflow-backfill');
    },
    300_000,
  );
});
