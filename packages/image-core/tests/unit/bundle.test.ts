import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECIPE,
  InvalidImageError,
  MissingAssetError,
  assetNames,
  openWorkingImage,
  packBundle,
  parseRecipe,
  renderBundle,
  unpackBundle,
} from '../../src/index.js';
import { photo, photoJpeg, similarity } from '../fixtures.js';

const facts = (width: number, height: number, icc = false) => ({ width, height, icc });

function entriesOf(bundle: Buffer | undefined) {
  if (!bundle) throw new Error('no bundle');
  return new Map(unpackBundle(bundle).map((entry) => [entry.name, entry.image]));
}

describe('packBundle / unpackBundle', () => {
  it('round-trips several working images in one buffer, sharing memory', () => {
    const a = { kind: 'raw' as const, data: Buffer.from([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 as const };
    const b = { kind: 'raw' as const, data: Buffer.from([9, 8, 7, 6]), width: 1, height: 1, channels: 4 as const };
    const packed = packBundle([
      { name: 'a', image: a },
      { name: 'b', image: b },
    ]);
    const entries = unpackBundle(packed);
    expect(entries.map((entry) => [entry.name, entry.image.width, entry.image.channels, [...entry.image.data]])).toEqual([
      ['a', 2, 3, [1, 2, 3, 4, 5, 6]],
      ['b', 1, 4, [9, 8, 7, 6]],
    ]);
    expect(entries[0]?.image.data.buffer).toBe(packed.buffer);
  });

  it('keeps its byte layout: magic, header length, JSON header, pixels (bundles in flight stay readable)', () => {
    const packed = packBundle([{ name: 'a', image: { kind: 'raw', data: Buffer.from([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 } }]);
    const header = '[{"name":"a","kind":"raw","width":2,"height":1,"channels":3,"offset":0,"length":6}]';
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    expect(packed.equals(Buffer.concat([Buffer.from('IMGB1\n', 'latin1'), length, Buffer.from(header), Buffer.from([1, 2, 3, 4, 5, 6])]))).toBe(true);
  });

  it('refuses a foreign or truncated bundle with a named error', () => {
    expect(() => unpackBundle(Buffer.from('hello world'))).toThrow(InvalidImageError);
    const packed = packBundle([{ name: 'a', image: { kind: 'raw', data: Buffer.alloc(30), width: 10, height: 1, channels: 3 } }]);
    expect(() => unpackBundle(packed.subarray(0, packed.length - 5))).toThrow('The intermediate bundle is truncated at "a"');
  });
});

describe('renderBundle', () => {
  it('holds each rendition at its size, looking like a direct resize of the original', async () => {
    const jpeg = await photoJpeg(1600, 1200);
    const rendered = await renderBundle(jpeg, facts(1600, 1200), DEFAULT_RECIPE.renditions, { recipe: DEFAULT_RECIPE });
    expect(rendered.renditions).toEqual(['sm', 'md', 'lg']);
    const entries = entriesOf(rendered.bundle);
    // lg (2048 wide) is never enlarged: it is the 1600 px original, not a copy of md.
    expect([...entries].map(([name, image]) => `${name} ${image.kind} ${image.width}x${image.height}x${image.channels}`)).toEqual([
      'sm raw 320x240x3',
      'md raw 1024x768x3',
      'lg raw 1600x1200x3',
    ]);
    for (const [name, image] of entries) {
      const direct = await sharp(jpeg).resize({ width: image.width }).png().toBuffer();
      expect(await similarity(openWorkingImage(image), direct, Math.min(256, image.width)), name).toBeGreaterThan(0.95);
    }
    expect(rendered.placeholder).toBeUndefined();
  });

  it('renders identical renditions once and aliases the others to that entry', async () => {
    const small = await photoJpeg(600, 400);
    const rendered = await renderBundle(small, facts(600, 400), DEFAULT_RECIPE.renditions, { recipe: DEFAULT_RECIPE });
    expect([...entriesOf(rendered.bundle).keys()]).toEqual(['sm', 'md']);
    expect(rendered.aliases).toEqual({ sm: 'sm', md: 'md', lg: 'md' });
  });

  it('computes the placeholder from the same decode when asked', async () => {
    const jpeg = await photoJpeg(800, 600);
    const rendered = await renderBundle(jpeg, facts(800, 600), DEFAULT_RECIPE.renditions, { recipe: DEFAULT_RECIPE, placeholder: true });
    expect(rendered.placeholder).toMatchObject({ kind: 'thumbhash', dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/) });
  });

  it('with no renditions decodes nothing and has no bundle', async () => {
    const rendered = await renderBundle(Buffer.from('not an image at all'), facts(10, 10), [], { recipe: DEFAULT_RECIPE, placeholder: true });
    expect(rendered).toEqual({ renditions: [], aliases: {} });
  });

  it("applies each rendition's filters, with the assets supplied", async () => {
    const jpeg = await photoJpeg(800, 600);
    const recipe = parseRecipe({
      renditions: [
        { name: 'grey', width: 400, filters: [{ type: 'grayscale' }] },
        { name: 'marked', width: 400, filters: [{ type: 'watermark', image: 'logo', opacity: 1, position: 'northwest' }] },
      ],
    });
    const logo = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const rendered = await renderBundle(jpeg, facts(800, 600), recipe.renditions, { recipe, assets: new Map([['logo', logo]]) });
    const entries = entriesOf(rendered.bundle);
    const [grey, marked] = [entries.get('grey'), entries.get('marked')];
    if (!grey || !marked) throw new Error('missing entries');
    const { channels } = await openWorkingImage(grey).stats();
    expect(Math.abs((channels[0]?.mean ?? 0) - (channels[2]?.mean ?? 0))).toBeLessThan(1);
    // Watermark 80 px wide (scale 0.2 of 400) at an 8 px margin (0.02 of 300): red at (40, 40).
    const { data } = await openWorkingImage(marked).extract({ left: 40, top: 40, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect([...data]).toEqual([255, 0, 0]);
  });

  it('refuses a watermark whose asset was not supplied, naming it', async () => {
    const recipe = parseRecipe({ renditions: [{ name: 'marked', width: 100, filters: [{ type: 'watermark', image: 'brand/logo.png' }] }] });
    const error = await renderBundle(await photoJpeg(200, 100), facts(200, 100), recipe.renditions, { recipe }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingAssetError);
    expect((error as Error).message).toContain('brand/logo.png');
  });

  it("keeps the original's ICC profile in the entries when the recipe keeps icc, else holds raw sRGB pixels", async () => {
    const p3 = await photo({ width: 400, height: 300 }).withIccProfile('p3').jpeg({ quality: 90 }).toBuffer();
    const recipe = parseRecipe({ metadata: { keep: ['icc'] }, renditions: [{ name: 'a', width: 200 }] });
    const kept = entriesOf((await renderBundle(p3, facts(400, 300, true), recipe.renditions, { recipe })).bundle).get('a');
    expect(kept?.kind).toBe('tiff');
    expect((await sharp(kept?.data).metadata()).icc?.equals((await sharp(p3).metadata()).icc as Buffer)).toBe(true);
    const plain = parseRecipe({ renditions: [{ name: 'a', width: 200 }] });
    expect(entriesOf((await renderBundle(p3, facts(400, 300, true), plain.renditions, { recipe: plain })).bundle).get('a')?.kind).toBe('raw');
  });

  it('refuses a truncated original with a named error', async () => {
    const jpeg = await photoJpeg(1200, 900);
    const error = await renderBundle(jpeg.subarray(0, jpeg.length / 2), facts(1200, 900), DEFAULT_RECIPE.renditions, { recipe: DEFAULT_RECIPE }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'TRUNCATED', permanent: true });
  });
});

describe('assetNames', () => {
  it('lists each watermark asset once, in order, and nothing for other filters', () => {
    const recipe = parseRecipe({
      renditions: [
        { name: 'a', width: 10, filters: [{ type: 'watermark', image: 'logo' }, { type: 'grayscale' }] },
        { name: 'b', width: 10, filters: [{ type: 'watermark', image: 'badge' }, { type: 'watermark', image: 'logo' }] },
        { name: 'c', width: 10 },
      ],
    });
    expect(assetNames(recipe.renditions)).toEqual(['logo', 'badge']);
    expect(assetNames(DEFAULT_RECIPE.renditions)).toEqual([]);
  });
});
