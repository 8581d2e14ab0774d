/** Types of tfdocs.mjs, for the tests that import it. */
export declare const BEGIN: string;
export declare const END: string;
export declare const DOCS_COMMAND: string;
export declare const INFRA_DIR: string;
export declare function terraformDirs(root?: string): string[];
export declare function renderDocs(dir: string): Promise<string>;
export declare function withDocs(readme: string, docs: string): string;
export declare function expectedReadme(dir: string): Promise<string>;
export declare function staleReadmes(root?: string): Promise<string[]>;
