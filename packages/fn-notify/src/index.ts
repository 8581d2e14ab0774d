import { lazyDepsFromEnv } from '@imgflow/pipeline';
import { createNotifyHandler } from './notify.js';

export { createNotifyHandler, notify, rejectionFromCaught, type NotifyInput } from './notify.js';

/** The Lambda entry point: `index.handler`. */
export const handler = createNotifyHandler(lazyDepsFromEnv('imgflow-notify'));
