// The emulator child process of spawnEmulators(): starts them, prints the endpoints as one JSON
// line, and stops them on SIGTERM/SIGINT.
import { type EmulatorOptions, startEmulators } from './emulators.js';

const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
const emulators = await startEmulators(options);
process.stdout.write(`${JSON.stringify(emulators.endpoints)}\n`);
const stop = async () => {
  await emulators.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
