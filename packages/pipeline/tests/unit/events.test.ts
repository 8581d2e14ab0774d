import { describe, expect, it } from 'vitest';
import { InvalidEventError, objectCreatedFromRecord, objectFromEvent } from '../../src/index.js';

describe('events', () => {
  const record = {
    eventName: 'ObjectCreated:Put',
    eventTime: '2026-11-26T10:00:00.000Z',
    awsRegion: 'eu-west-1',
    s3: { bucket: { name: 'uploads' }, object: { key: 'holiday+photos/b%C3%A9b%C3%A9.jpg', size: 1234, eTag: '"abc"', sequencer: '01' } },
  };

  it('turns an S3 notification record into the EventBridge Object Created event, decoding the key', () => {
    const event = objectCreatedFromRecord(record);
    expect(event).toMatchObject({
      'detail-type': 'Object Created',
      source: 'aws.s3',
      region: 'eu-west-1',
      detail: { bucket: { name: 'uploads' }, object: { key: 'holiday photos/bébé.jpg', size: 1234, etag: 'abc' }, reason: 'Put' },
    });
    expect(objectFromEvent(event)).toEqual({ bucket: 'uploads', key: 'holiday photos/bébé.jpg', etag: 'abc', size: 1234 });
  });

  it('ignores records that are not object creations', () => {
    expect(objectCreatedFromRecord({ ...record, eventName: 'ObjectRemoved:Delete' })).toBeUndefined();
  });

  it('refuses an execution input that is not an Object Created event, naming what is missing', () => {
    expect(() => objectFromEvent({ hello: 'world' })).toThrow(InvalidEventError);
    expect(() => objectFromEvent({ 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'k', size: 1 } } })).toThrow(
      /lacks detail\.object\.etag/,
    );
  });
});
