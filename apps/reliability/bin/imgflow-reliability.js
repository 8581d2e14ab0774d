#!/usr/bin/env node
// Set before the SDK loads: Node 20 is supported by this project, the notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
await import('../dist/main.js');
