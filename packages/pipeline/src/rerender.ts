import { type Recipe, renditionFingerprint } from '@imgflow/image-core';
import type { JobRecord } from './ledger.js';
import type { OutputRecord, Rerender } from './state.js';

/**
 * What re-rendering a SUCCEEDED job under a new recipe takes, from the record it replaces: a
 * rendition whose every recorded output was made by the same definition (same fingerprint) is
 * kept; a rendition that is new, or whose definition changed, is rendered. Outputs recorded
 * before fingerprints existed count as changed.
 */
export function planRerender(replaced: Pick<JobRecord, 'recipe' | 'outputs' | 'placeholder'>, recipe: Recipe): Rerender {
  const current = new Map(recipe.renditions.map((rendition) => [rendition.name, renditionFingerprint(recipe, rendition)]));
  const outputs = replaced.outputs ?? [];
  const unchanged = new Set(
    [...current].filter(([name, fingerprint]) => {
      const made = outputs.filter((output) => output.rendition === name);
      return made.length > 0 && made.every((output) => output.fingerprint === fingerprint);
    }).map(([name]) => name),
  );
  const kept: OutputRecord[] = [];
  const removed: OutputRecord[] = [];
  const superseded: OutputRecord[] = [];
  for (const output of outputs) {
    if (!current.has(output.rendition)) removed.push(output);
    else if (unchanged.has(output.rendition)) kept.push(output);
    else superseded.push(output);
  }
  return {
    from: replaced.recipe ?? '',
    renditions: [...current.keys()].filter((name) => !unchanged.has(name)),
    kept,
    removed,
    superseded,
    ...(replaced.placeholder ? { placeholder: replaced.placeholder } : {}),
  };
}

/** Whether a job renders this rendition: every one, or in a re-render only the new and changed ones. */
export function rendersRendition(job: { rerender?: Rerender }, name: string): boolean {
  return !job.rerender || job.rerender.renditions.includes(name);
}
