/** Types of render-policies.mjs, for the tests that import it. */
export interface RenderedRole {
  roleName: string;
  roleArn: string;
  policy: { Version: string; Statement: Array<Record<string, unknown>> };
}

export interface RenderedPolicies {
  deployment: { name: string; region: string; accountId: string };
  resources: Record<string, unknown>;
  roles: Record<string, RenderedRole>;
}

export interface RenderOptions {
  modulesDir?: string;
  pluginDir?: string;
  deployment?: Partial<RenderedPolicies['deployment']>;
  /** Extra inputs of module image-pipeline. */
  variables?: Record<string, unknown>;
}

export declare const INFRA_DIR: string;
export declare const MODULES_DIR: string;
export declare const SNAPSHOT_PATH: string;
export declare const POLICIES_COMMAND: string;
export declare const LOCAL_DEPLOYMENT: RenderedPolicies['deployment'];
export declare const NOT_RUN_LOCALLY: Record<string, string>;
export declare function terraformMissing(pluginDir?: string): Promise<string | undefined>;
export declare function renderPolicies(options?: RenderOptions): Promise<RenderedPolicies>;
export declare function snapshotText(rendered: RenderedPolicies): string;
export declare function arnFor(type: string, after: Record<string, unknown>, accountId: string, region: string): string | undefined;
export declare function idFor(type: string, after: Record<string, unknown>, arn: string | undefined): string | undefined;
