// Applies an RFC 6902 JSON Patch with fast-json-patch (the operations are
// validated as they apply: a path that does not exist, an index out of
// range, a "replace" of nothing are errors) and prints the result as JSON.
//
//   node jsonpatch.mjs DOC.json PATCH.json
//
// test/integration/inject-webhook.sh applies the webhook's patches with it,
// as the API server would with its own implementation. The module comes
// from HOSTLANE_NPM_DIR (hack/deps.sh installs it there).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const npmDir = process.env.HOSTLANE_NPM_DIR;
if (!npmDir) {
	console.error('jsonpatch.mjs: HOSTLANE_NPM_DIR is not set (hack/deps.sh installs the modules)');
	process.exit(2);
}
const jsonpatch = createRequire(join(resolve(npmDir), 'package.json'))('fast-json-patch');
const [docFile, patchFile] = process.argv.slice(2);
if (!patchFile) {
	console.error('usage: jsonpatch.mjs DOC.json PATCH.json');
	process.exit(2);
}
const doc = JSON.parse(readFileSync(docFile, 'utf8'));
const patch = JSON.parse(readFileSync(patchFile, 'utf8'));
try {
	const out = jsonpatch.applyPatch(doc, patch, true, false).newDocument;
	console.log(JSON.stringify(out, null, 2));
} catch (e) {
	console.error(`jsonpatch.mjs: ${e.name}: ${e.message.split('\n')[0]}`);
	process.exit(1);
}
