import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAsl, validateAsl } from '../src/commands/asl.js';
import { captureIo, tempDir } from './helpers.js';

let root: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  root = await tempDir();
});

afterAll(async () => {
  await root.remove();
});

describe('imgflow asl', () => {
  it('render prints the definition as JSON with local ARNs', async () => {
    const io = captureIo();
    expect(await renderAsl({}, io)).toBe(0);
    const definition = JSON.parse(io.out()) as { StartAt: string; States: Record<string, { Resource?: string }> };
    expect(definition.StartAt).toBe('ValidateImage');
    expect(definition.States.ValidateImage?.Resource).toBe('arn:aws:lambda:us-east-1:000000000000:function:imgflow-validate');
    expect(io.out()).not.toContain('${');
  });

  it('render applies --var overrides and writes --out', async () => {
    const io = captureIo();
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:imgflow-validate';
    expect(await renderAsl({ vars: [`validate_function_arn=${arn}`, 'retry_max_attempts=5'], out: 'asl.json', cwd: root.path }, io)).toBe(0);
    const text = await readFile(join(root.path, 'asl.json'), 'utf8');
    expect(text).toContain(arn);
    expect(text).toContain('"MaxAttempts": 5');
    expect(io.out()).toBe('');
  });

  it('render refuses an unknown variable with exit code 2', async () => {
    const io = captureIo();
    expect(await renderAsl({ vars: ['colour=blue'] }, io)).toBe(2);
    expect(io.err()).toMatch(/^imgflow asl render: --var colour: unknown variable; the template's variables are validate_function_arn, /);
  });

  it('validate prints valid for the rendered template', async () => {
    const io = captureIo();
    expect(await validateAsl({}, io)).toBe(0);
    expect(io.out()).toBe('valid\n');
  });

  it('validate reports a Task without a local handler, and a malformed definition', async () => {
    const io = captureIo();
    await renderAsl({ vars: ['resize_function_arn=arn:aws:lambda:us-east-1:000000000000:function:imgflow-thumbnail'], out: 'other.json', cwd: root.path }, io);
    const other = captureIo();
    expect(await validateAsl({ file: 'other.json', cwd: root.path }, other)).toBe(1);
    expect(other.out()).toContain('invalid');
    expect(other.out()).toContain('Task state ResizeImage invokes arn:aws:lambda:us-east-1:000000000000:function:imgflow-thumbnail, which no local handler implements');

    await writeFile(join(root.path, 'broken.json'), JSON.stringify({ StartAt: 'Missing', States: { Only: { Type: 'Pass', End: true } } }));
    const broken = captureIo();
    expect(await validateAsl({ file: 'broken.json', cwd: root.path }, broken)).toBe(1);
    expect(broken.out().split('\n')[0]).toBe('invalid');
    expect(broken.out().split('\n').length).toBeGreaterThan(2);
  });
});
