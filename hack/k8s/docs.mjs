// Prints the documents of YAML or JSON files, read with js-yaml and
// JSON.parse (readers independent of hostlane's own, for the tests that
// check what hostlanectl inject wrote): one JSON array, or with --yaml a
// YAML stream for manifests.mjs validate, with each List's items in its
// place (the API schemas have no List kind). A file whose first character
// is '{' or '[' is a stream of JSON values, one after the other.
//
//   node docs.mjs [--yaml] FILE...    (- for stdin)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const npmDir = process.env.HOSTLANE_NPM_DIR;
if (!npmDir) {
	console.error('docs.mjs: HOSTLANE_NPM_DIR is not set (hack/deps.sh installs the modules)');
	process.exit(2);
}
const yaml = createRequire(join(resolve(npmDir), 'package.json'))('js-yaml');

// Top-level JSON values of a text, split where their brackets close.
function jsonValues(text) {
	const out = [];
	let depth = 0, start = -1, inStr = false, esc = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (inStr) {
			if (esc) esc = false;
			else if (c === '\\') esc = true;
			else if (c === '"') inStr = false;
			continue;
		}
		if (c === '"') inStr = true;
		else if (c === '{' || c === '[') {
			if (depth++ === 0) start = i;
		} else if (c === '}' || c === ']') {
			if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
		}
	}
	return out;
}

let args = process.argv.slice(2);
const asYaml = args[0] === '--yaml';
if (asYaml)
	args = args.slice(1);
const out = [];
for (const f of args) {
	const text = readFileSync(f === '-' ? 0 : f, 'utf8');
	const docs = /^\s*[{[]/.test(text) ? jsonValues(text) : yaml.loadAll(text);
	for (const d of docs)
		if (d !== null && d !== undefined)
			out.push(d);
}
if (asYaml)
	console.log(out.flatMap((d) => (d.kind === 'List' ? d.items || [] : [d]))
		.map((d) => yaml.dump(d)).join('---\n'));
else
	console.log(JSON.stringify(out));
