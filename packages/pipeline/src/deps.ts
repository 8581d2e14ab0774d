import { Logger } from '@aws-lambda-powertools/logger';
import { type AwsClients, createClients } from './clients.js';
import { type PipelineConfig, configFromEnv } from './config.js';
import { JobLedger } from './ledger.js';
import { Notifier } from './notifier.js';
import { Storage } from './storage.js';

/** What a step handler works with. Built once per Lambda container, or by the local runtime. */
export interface StepDeps {
  config: PipelineConfig;
  storage: Storage;
  ledger: JobLedger;
  notifier: Notifier;
  logger: Logger;
  clock: () => Date;
}

export function createDeps(config: PipelineConfig, clients: AwsClients, logger: Logger = new Logger({ serviceName: 'imgflow' })): StepDeps {
  return {
    config,
    storage: new Storage(clients.s3),
    ledger: new JobLedger(clients.dynamo, config.jobsTable),
    notifier: new Notifier(clients.sns),
    logger,
    clock: () => new Date(),
  };
}

/**
 * The Lambda wiring: configuration from the environment, default SDK clients. Built lazily on
 * the first invocation (still once per container) so that a configuration error is reported
 * by the invocation, as a named error, instead of crashing the module load.
 */
export function lazyDepsFromEnv(serviceName: string): () => StepDeps {
  let deps: StepDeps | undefined;
  return () => {
    deps ??= createDeps(configFromEnv(), createClients(), new Logger({ serviceName }));
    return deps;
  };
}
