import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type HeadObject,
  InvalidEventError,
  type ObjectCreatedEvent,
  type S3NotificationRecord,
  decodeEventKey,
  encodeEventKey,
  eventKeyCandidates,
  objectCreatedFromRecord,
  objectFromEvent,
  resolveEventObject,
} from '../../src/index.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;

/** The EventBridge "Object Created" event as AWS documents it. */
const eventBridgeEvent = fixture<ObjectCreatedEvent>('eventbridge-object-created.json');
/** An S3 notification record as AWS documents it: the key URL-encoded. */
const [notificationRecord] = fixture<{ Records: S3NotificationRecord[] }>('s3-notification-record.json').Records as [S3NotificationRecord];

describe('the EventBridge Object Created event (documented shape)', () => {
  it('gives the object identity, the key exactly as the event has it', () => {
    expect(objectFromEvent(eventBridgeEvent)).toEqual({
      bucket: 'amzn-s3-demo-bucket1',
      key: 'example-key',
      etag: 'b1946ac92492d2347c6235b4d2611184',
      size: 5,
      versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
    });
    // An encoded key is not decoded here: whether EventBridge encodes is not documented, ValidateImage resolves it.
    const encoded = { ...eventBridgeEvent, detail: { ...eventBridgeEvent.detail, object: { ...eventBridgeEvent.detail.object, key: 'a+b%2Bc.jpg' } } };
    expect(objectFromEvent(encoded).key).toBe('a+b%2Bc.jpg');
  });

  it('refuses an execution input that is not an Object Created event, naming what is missing', () => {
    expect(() => objectFromEvent({ hello: 'world' })).toThrow(InvalidEventError);
    expect(() => objectFromEvent({ 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'k', size: 1 } } })).toThrow(
      /lacks detail\.object\.etag/,
    );
  });
});

describe('the S3 notification record (documented shape: keys URL-encoded)', () => {
  const realKey = 'photos/red flower +1 bébé=%.jpg';

  it('decodes the key into the EventBridge event by default, and keeps the rest', () => {
    const event = objectCreatedFromRecord(notificationRecord);
    expect(event).toMatchObject({
      'detail-type': 'Object Created',
      source: 'aws.s3',
      region: 'us-west-2',
      resources: ['arn:aws:s3:::amzn-s3-demo-bucket'],
      detail: {
        bucket: { name: 'amzn-s3-demo-bucket' },
        object: { key: realKey, size: 1024, etag: 'd41d8cd98f00b204e9800998ecf8427e', 'version-id': '096fKKXTRTtl3on89fVO.nfljtsv6qko' },
        reason: 'Put',
      },
    });
    expect(objectFromEvent(event)).toMatchObject({ key: realKey, versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko' });
  });

  it("keeps the record's encoded key with keys: 'encoded' (what LocalStack's EventBridge does)", () => {
    expect(objectCreatedFromRecord(notificationRecord, '000000000000', 'encoded')?.detail.object.key).toBe(notificationRecord.s3.object.key);
  });

  it('ignores records that are not object creations', () => {
    expect(objectCreatedFromRecord({ ...notificationRecord, eventName: 'ObjectRemoved:Delete' })).toBeUndefined();
  });

  it('encodes keys as S3 does (what the local S3 emulator puts into its records), and decodes them back', () => {
    expect(encodeEventKey(realKey)).toBe(notificationRecord.s3.object.key);
    for (const key of ['red flower.jpg', 'c++ plus+sign.jpg', 'per%cent%41.jpg', 'a=b&c?.jpg', 'ünïcødé/ phötö .jpg', 'x%2By.jpg', '100%.jpg']) {
      expect(decodeEventKey(encodeEventKey(key)), key).toBe(key);
    }
    expect(encodeEventKey('red flower.jpg')).toBe('red+flower.jpg');
    expect(encodeEventKey('a+b.jpg')).toBe('a%2Bb.jpg');
  });
});

describe('event key candidates', () => {
  it('are the key alone when it reads the same decoded, or is no valid encoding', () => {
    expect(eventKeyCandidates('photos/cat.jpg')).toEqual(['photos/cat.jpg']);
    expect(eventKeyCandidates('photos/Holiday Cat.JPG')).toEqual(['photos/Holiday Cat.JPG']);
    expect(eventKeyCandidates('per%cent%41.jpg')).toEqual(['per%cent%41.jpg']);
    expect(decodeEventKey('per%cent%41.jpg')).toBeUndefined();
  });

  it('are the key as given and its form-decoded version otherwise', () => {
    expect(eventKeyCandidates('a+b.jpg')).toEqual(['a+b.jpg', 'a b.jpg']);
    expect(eventKeyCandidates('a%2Bb.jpg')).toEqual(['a%2Bb.jpg', 'a+b.jpg']);
    expect(eventKeyCandidates('100%25.jpg')).toEqual(['100%25.jpg', '100%.jpg']);
  });
});

describe('resolveEventObject', () => {
  const given = { bucket: 'uploads', key: 'a+b.jpg', etag: 'e1', size: 10 };
  /** A HEAD over a few objects, recording what it was asked. */
  type Objects = Record<string, { etag: string; size: number; versionId?: string }>;
  function bucket(objects: Objects) {
    const asked: Array<{ key: string; versionId?: string }> = [];
    const head: HeadObject = async ({ key, versionId }) => {
      asked.push({ key, ...(versionId ? { versionId } : {}) });
      const object = objects[key];
      return object && (!versionId || object.versionId === versionId) ? object : undefined;
    };
    return { head, asked };
  }

  it('makes no request for a key that reads the same decoded', async () => {
    const { head, asked } = bucket({});
    const plain = { ...given, key: 'photos/cat 1.jpg' };
    expect(await resolveEventObject(plain, head)).toBe(plain);
    expect(asked).toEqual([]);
  });

  it('takes the decoded key when the object there has the event ETag and size (an encoded event)', async () => {
    const { head, asked } = bucket({ 'a b.jpg': { etag: 'e1', size: 10 } });
    expect(await resolveEventObject(given, head)).toEqual({ ...given, key: 'a b.jpg' });
    expect(asked).toEqual([{ key: 'a b.jpg' }]);
  });

  it('keeps a key that really contains + or %: the decoded key is absent or another object', async () => {
    for (const objects of [{}, { 'a b.jpg': { etag: 'other', size: 10 } }, { 'a b.jpg': { etag: 'e1', size: 11 } }] as Objects[]) {
      const { head, asked } = bucket(objects);
      expect(await resolveEventObject(given, head)).toBe(given);
      expect(asked).toHaveLength(1);
    }
    const percent = { ...given, key: 'x%2By.jpg' };
    expect(await resolveEventObject(percent, bucket({ 'x%2By.jpg': { etag: 'e1', size: 10 } }).head)).toBe(percent);
  });

  it('tells two keys with the same bytes apart by the version id of a versioned bucket', async () => {
    const versioned = { ...given, versionId: 'v-plus' };
    const { head, asked } = bucket({ 'a b.jpg': { etag: 'e1', size: 10, versionId: 'v-space' }, 'a+b.jpg': { etag: 'e1', size: 10, versionId: 'v-plus' } });
    expect(await resolveEventObject(versioned, head)).toBe(versioned);
    expect(asked).toEqual([{ key: 'a b.jpg', versionId: 'v-plus' }]);
  });

  it('lets a failed HEAD out (a transient S3 error is retried by the step)', async () => {
    const failing: HeadObject = async () => {
      throw Object.assign(new Error('S3 is unavailable'), { name: 'StorageUnavailableError' });
    };
    await expect(resolveEventObject(given, failing)).rejects.toMatchObject({ name: 'StorageUnavailableError' });
  });
});
