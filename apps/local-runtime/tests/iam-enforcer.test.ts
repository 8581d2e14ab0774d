import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { IamEnforcer, OUTPUT_BUCKET, ROLE_KEYS, UPLOAD_BUCKET, iamRequestsFor, parseCopySource } from '../src/index.js';

const KEYS = ['a.jpg', 'photos/cat.jpg', 'renditions/x/sm.webp', 'work/0123/resize.bundle', 'assets/logo.png', 'a b+c%41=.jpg', 'ünï/cödé.jpg', 'star*key?.jpg', 'renditions*', 'colon:key', 'renditions'];
const ACTIONS = ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject'];

describe('the IAM enforcer', () => {
  it('caches decisions by class and still answers each object exactly as the evaluator does for that object', async () => {
    const enforcer = new IamEnforcer();
    const requests = ROLE_KEYS.flatMap((role) =>
      [UPLOAD_BUCKET, OUTPUT_BUCKET].flatMap((bucket) => KEYS.flatMap((key) => ACTIONS.map((action) => ({ role, action, resource: `arn:aws:s3:::${bucket}/${key}` })))),
    );
    for (const { role, action, resource } of requests) {
      const { roleArn, policy } = enforcer.roles[role];
      const direct = await runSimulation(
        {
          identityPolicies: [{ name: role, policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: { principal: roleArn, action, resource: { resource: resource.replace(/[*?]/g, '\uE000'), accountId: enforcer.accountId }, contextVariables: {} },
        },
        {},
      );
      expect(direct.resultType, `${role} ${action} ${resource}`).toBe('single');
      const decision = await enforcer.decide(role, { action, resource });
      expect(decision.allowed, `${role} ${action} ${resource}`).toBe(direct.resultType !== 'error' && direct.overallResult === 'Allowed');
    }
    const { evaluations, cacheHits } = enforcer.stats();
    expect(evaluations + cacheHits).toBe(requests.length);
    // Few classes: most answers come from the cache.
    expect(cacheHits).toBeGreaterThan(requests.length / 2);
  });

  it('reads "*" and "?" in a key as plain characters: only a policy wildcard matches them', async () => {
    const enforcer = new IamEnforcer();
    expect((await enforcer.decide('validate', { action: 's3:GetObject', resource: `arn:aws:s3:::${OUTPUT_BUCKET}/renditions*` })).allowed).toBe(false);
    expect((await enforcer.decide('validate', { action: 's3:GetObject', resource: `arn:aws:s3:::${OUTPUT_BUCKET}/renditions/*` })).allowed).toBe(true);
    expect((await enforcer.decide('resize', { action: 's3:PutObject', resource: `arn:aws:s3:::${OUTPUT_BUCKET}/w?rk/x` })).allowed).toBe(false);
  });

  it('maps each command the handlers send to the authorizations AWS performs', () => {
    const scope = { region: 'us-east-1', accountId: '000000000000' };
    expect(iamRequestsFor('s3', 'GetObjectCommand', { Bucket: 'b', Key: 'k', VersionId: 'v' }, scope)).toEqual([{ action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::b/k' }]);
    expect(iamRequestsFor('s3', 'HeadObjectCommand', { Bucket: 'b', Key: 'k' }, scope)).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }]);
    expect(iamRequestsFor('s3', 'CopyObjectCommand', { Bucket: 'o', Key: 'r/x.jpg', CopySource: 'u/a%20b%2Bc.jpg?versionId=v%2B1' }, scope)).toEqual([
      { action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::u/a b+c.jpg' },
      { action: 's3:PutObject', resource: 'arn:aws:s3:::o/r/x.jpg' },
    ]);
    expect(parseCopySource('/u/dir/%E2%9C%93.jpg')).toEqual({ bucket: 'u', key: 'dir/✓.jpg' });
    expect(iamRequestsFor('s3', 'PutObjectCommand', { Bucket: 'b', Key: 'k', Tagging: 'a=b' }, scope)?.map((request) => request.action)).toEqual(['s3:PutObject', 's3:PutObjectTagging']);
    expect(iamRequestsFor('s3', 'DeleteObjectsCommand', { Bucket: 'b', Delete: { Objects: [{ Key: 'x' }, { Key: 'y', VersionId: 'v' }] } }, scope)).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/x' },
      { action: 's3:DeleteObjectVersion', resource: 'arn:aws:s3:::b/y' },
    ]);
    expect(iamRequestsFor('s3', 'ListObjectsV2Command', { Bucket: 'b', Prefix: 'p/' }, scope)).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': 'p/' } }]);
    expect(iamRequestsFor('dynamodb', 'UpdateCommand', { TableName: 't' }, scope)).toEqual([{ action: 'dynamodb:UpdateItem', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/t' }]);
    expect(iamRequestsFor('dynamodb', 'QueryCommand', { TableName: 't', IndexName: 'byContent' }, scope)).toEqual([
      { action: 'dynamodb:Query', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/index/byContent' },
    ]);
    expect(iamRequestsFor('sns', 'PublishCommand', { TopicArn: 'arn:aws:sns:us-east-1:000000000000:t' }, scope)).toEqual([{ action: 'sns:Publish', resource: 'arn:aws:sns:us-east-1:000000000000:t' }]);
    // Anything else is unmapped, and the middleware refuses it until it is mapped (and granted).
    expect(iamRequestsFor('s3', 'PutBucketPolicyCommand', { Bucket: 'b' }, scope)).toBeUndefined();
  });
});
