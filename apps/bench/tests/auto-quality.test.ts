import { AUTO_FORMATS, DEFAULT_RECIPE } from '@imgflow/image-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AutoQualityResult, autoRecipe, measureAutoQuality, renderAutoQuality } from '../src/auto-quality.js';
import { smallImage } from './helpers.js';

describe('the auto-quality section', () => {
  let result: AutoQualityResult;

  beforeAll(async () => {
    result = await measureAutoQuality({ corpus: [await smallImage()], recipe: DEFAULT_RECIPE, repetitions: 1, log: () => undefined });
  });

  it('asks for auto in every format that has it and keeps the rest of the recipe', () => {
    const auto = autoRecipe(DEFAULT_RECIPE);
    for (const format of AUTO_FORMATS) expect(auto.encoding[format].quality).toBe('auto');
    expect(auto.encoding.png).toEqual(DEFAULT_RECIPE.encoding.png);
    expect(auto.renditions).toEqual(DEFAULT_RECIPE.renditions);
  });

  it('counts the bytes of every output, fixed and auto, for imgflow and the floor', () => {
    const outputs = DEFAULT_RECIPE.renditions.length * DEFAULT_RECIPE.formats.length;
    for (const variant of [result.imgflow, result.floor]) {
      expect(variant.scores.outputs).toBe(outputs);
      expect(variant.bytes.fixed).toBeGreaterThan(0);
      expect(variant.bytes.auto).toBeGreaterThan(0);
      expect(variant.saving).toBeCloseTo(1 - variant.bytes.auto / variant.bytes.fixed, 10);
      expect(Object.keys(variant.perFormat).sort()).toEqual([...DEFAULT_RECIPE.formats].sort());
      expect(variant.cpuMs.fixed).toBeGreaterThan(0);
      expect(variant.cpuMs.auto).toBeGreaterThan(0);
    }
  });

  it('scores every auto output against its rendition, and says which ones fall short', () => {
    const { scores } = result.imgflow;
    expect(scores.min).toBeGreaterThan(0);
    expect(scores.min).toBeLessThanOrEqual(scores.median);
    expect(scores.belowTarget).toBeGreaterThanOrEqual(0);
    expect(scores.worst).toMatch(/target 0\.\d+/);
    for (const format of AUTO_FORMATS) {
      expect(result.targets[format]).toBeGreaterThan(0.5);
      expect(result.trials[format]).toBeGreaterThanOrEqual(1);
      expect(result.fixedScores[format]?.median).toBeGreaterThan(0);
    }
  });

  it('judges the three targets from its own figures, and prints them', () => {
    const byId = Object.fromEntries(result.targetsMet.map((target) => [target.id, target]));
    expect(byId['auto-bytes']?.pass).toBe(result.imgflow.saving >= 0.25);
    expect(byId['auto-scores']?.pass).toBe(result.imgflow.scores.belowTarget === 0);
    expect(byId['auto-cpu']?.pass).toBe(result.imgflow.cpuRatio <= 1.3);
    const text = renderAutoQuality(result);
    expect(text).toContain('| imgflow |');
    expect(text).toContain('| floor |');
    expect(text.match(/\| (PASS|MISS) \|/g)).toHaveLength(3);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});
