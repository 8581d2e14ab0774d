import '@imgflow/local-runtime';
import { DEFAULT_RECIPE } from '@imgflow/image-core';
import { type InProcessVariant, createVariant } from './variants/index.js';
import type { RunRequest, Variant } from './variants/types.js';

/**
 * One variant in its own process, driven by the bench over IPC: its CPU time and peak RSS are
 * its own, not shared with the other variants or the bench. Messages: init → ready, run → result, close.
 */
export type WorkerRequest = { type: 'init'; variant: InProcessVariant } | { type: 'run'; id: number; request: RunRequest } | { type: 'close' };

let variant: Variant | undefined;

function reply(message: unknown): void {
  process.send?.(message);
}

process.on('message', async (message: WorkerRequest) => {
  try {
    if (message.type === 'init') {
      variant = await createVariant(message.variant, DEFAULT_RECIPE);
      reply({ type: 'ready', cpuMethod: variant.cpuMethod, rssMethod: variant.rssMethod, rss: process.memoryUsage.rss() });
    } else if (message.type === 'run') {
      if (!variant) throw new Error('The worker was not initialised');
      try {
        reply({ type: 'result', id: message.id, result: await variant.run(message.request) });
      } catch (error) {
        reply({ type: 'result', id: message.id, error: (error as Error).message });
      }
    } else if (message.type === 'close') {
      await variant?.close();
      process.disconnect?.();
      process.exit(0);
    }
  } catch (error) {
    reply({ type: 'failed', error: (error as Error).stack ?? String(error) });
  }
});
