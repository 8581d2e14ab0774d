import { resolve } from 'node:path';
import { ARCHITECTURES, type Architecture, type Artifact, FUNCTIONS, type FunctionName, packageFunction } from './package.js';

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** `imgflow-package [--arch arm64,x86_64] [--function a,b] [--out dist/artifacts]`, run from the repository root. */
async function main(argv: string[]): Promise<number> {
  const option = (name: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const architectures = (option('arch') ?? 'arm64,x86_64').split(',') as Architecture[];
  const functions = (option('function') ?? FUNCTIONS.join(',')).split(',') as FunctionName[];
  for (const architecture of architectures) {
    if (!(architecture in ARCHITECTURES)) {
      console.error(`imgflow-package: --arch must be arm64 and/or x86_64, got "${architecture}"`);
      return 2;
    }
  }
  for (const name of functions) {
    if (!FUNCTIONS.includes(name)) {
      console.error(`imgflow-package: --function must be among ${FUNCTIONS.join(', ')}, got "${name}"`);
      return 2;
    }
  }
  const root = process.cwd();
  const out = resolve(root, option('out') ?? 'dist/artifacts');
  const artifacts: Artifact[] = [];
  for (const name of functions) {
    for (const architecture of architectures) {
      const artifact = await packageFunction(root, name, architecture, out);
      artifacts.push(artifact);
      console.log(`${artifact.zip.slice(root.length + 1)}  ${mb(artifact.bytes)} zipped, ${mb(artifact.unzippedBytes)} unzipped (Lambda limit 250 MB)  sha256 ${artifact.sha256.slice(0, 16)}…`);
    }
  }
  const total = artifacts.reduce((sum, artifact) => sum + artifact.bytes, 0);
  console.log(`${artifacts.length} artifacts, ${mb(total)} in ${out}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`imgflow-package: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
