// Checks hostlane's Kubernetes manifests against the Kubernetes API schemas.
//
//   node manifests.mjs validate FILE...   every document of every file
//   node manifests.mjs hash FILE          the config hash of the ConfigMap in FILE
//   node manifests.mjs get FILE KIND NAME '["spec", "template", ...]'
//                                         one value (a string as is, else JSON)
//   node manifests.mjs nads OUTDIR FILE...
//                                         writes each NetworkAttachmentDefinition's
//                                         spec.config to OUTDIR/<file>-<name>.json
//
// validate: each object is checked with kubernetes-models (types, enums,
// required fields: the OpenAPI schemas of the API server) and, for strict
// field checking as the API server's fieldValidation=Strict does, every
// field is looked up in the API's type tree (@kubernetes/client-node's
// attributeTypeMap): an unknown or misspelt field is an error. Multus'
// NetworkAttachmentDefinition is not a built-in type: its metadata is
// checked as ObjectMeta, its spec may hold only "config", a string (the
// plugin's own parser then reads it: test/integration/k8s-manifests.sh).
// Prints one line per object and "N objects, E errors"; exit 1 on errors.
//
// The modules come from HOSTLANE_NPM_DIR (hack/deps.sh installs them there).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';

const npmDir = process.env.HOSTLANE_NPM_DIR;
if (!npmDir) {
	console.error('manifests.mjs: HOSTLANE_NPM_DIR is not set (hack/deps.sh installs the modules)');
	process.exit(2);
}
const req = createRequire(join(npmDir, 'package.json'));
const yaml = req('js-yaml');

function load(file) {
	return yaml.loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined);
}

// ---- config hash: sha256 over the ConfigMap's data, keys sorted ----
function configHash(cm) {
	const data = cm.data || {};
	const h = createHash('sha256');
	for (const k of Object.keys(data).sort())
		h.update(`${k}\0${data[k]}\0`);
	return h.digest('hex');
}

// ---- schema validation (kubernetes-models) ----
const groups = {
	'v1': 'kubernetes-models/v1',
	'apps/v1': 'kubernetes-models/apps/v1',
	'rbac.authorization.k8s.io/v1': 'kubernetes-models/rbac.authorization.k8s.io/v1',
	'batch/v1': 'kubernetes-models/batch/v1',
	'policy/v1': 'kubernetes-models/policy/v1',
	'admissionregistration.k8s.io/v1': 'kubernetes-models/admissionregistration.k8s.io/v1',
};

function schemaErrors(doc) {
	const mod = groups[doc.apiVersion];
	if (!mod)
		return [`apiVersion ${doc.apiVersion}: not a group this check knows`];
	const Model = req(mod)[doc.kind];
	if (!Model)
		return [`kind ${doc.kind} is not in ${doc.apiVersion}`];
	try {
		new Model(doc).validate();
		return [];
	} catch (e) {
		return String(e.message).split(', ');
	}
}

// ---- strict fields (the API's type tree) ----
let k8s;
async function typeTree() {
	if (!k8s)
		k8s = await import(req.resolve('@kubernetes/client-node'));
	return k8s;
}

const scalar = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString',
			'RequestContext']);

function walk(t, type, v, path, errs) {
	if (v === null || v === undefined || scalar.has(type))
		return;
	let m = /^Array<(.+)>$/.exec(type);
	if (m) {
		if (Array.isArray(v))
			v.forEach((x, i) => walk(t, m[1], x, `${path}[${i}]`, errs));
		return;
	}
	m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
	if (m) {
		if (typeof v === 'object')
			for (const [k, x] of Object.entries(v))
				walk(t, m[1], x, `${path}.${k}`, errs);
		return;
	}
	const cls = t[type];
	if (!cls || typeof cls.getAttributeTypeMap !== 'function')
		return; // an enum or an alias: its value was checked by the schema
	if (typeof v !== 'object' || Array.isArray(v))
		return;
	const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
	for (const [k, x] of Object.entries(v)) {
		if (!attrs.has(k))
			errs.push(`${path ? path + '.' : ''}${k}: unknown field (strict)`);
		else
			walk(t, attrs.get(k), x, path ? `${path}.${k}` : k, errs);
	}
}

function version(apiVersion) {
	const v = apiVersion.split('/').pop();
	return v.charAt(0).toUpperCase() + v.slice(1);
}

async function strictErrors(doc) {
	const t = await typeTree();
	const errs = [];
	if (doc.apiVersion === 'k8s.cni.cncf.io/v1' && doc.kind === 'NetworkAttachmentDefinition') {
		for (const k of Object.keys(doc))
			if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k))
				errs.push(`${k}: unknown field (strict)`);
		walk(t, 'V1ObjectMeta', doc.metadata, 'metadata', errs);
		if (!doc.metadata || !doc.metadata.name)
			errs.push('metadata.name: required');
		const spec = doc.spec || {};
		for (const k of Object.keys(spec))
			if (k !== 'config')
				errs.push(`spec.${k}: unknown field (strict)`);
		if (typeof spec.config !== 'string')
			errs.push('spec.config: must be a string');
		return errs;
	}
	walk(t, `${version(doc.apiVersion)}${doc.kind}`, doc, '', errs);
	return errs;
}

async function validate(files) {
	let n = 0, bad = 0;
	for (const f of files) {
		let docs;
		try {
			docs = load(f);
		} catch (e) {
			console.log(`error ${f}: YAML: ${e.message.split('\n')[0]}`);
			bad++;
			continue;
		}
		for (const doc of docs) {
			n++;
			const what = `${f} ${doc.kind}/${(doc.metadata || {}).name}`;
			let errs = [];
			if (!doc.apiVersion || !doc.kind)
				errs.push('apiVersion and kind are required');
			else if (doc.apiVersion !== 'k8s.cni.cncf.io/v1')
				errs = schemaErrors(doc);
			if (doc.apiVersion && doc.kind)
				errs = errs.concat(await strictErrors(doc));
			if (errs.length) {
				bad++;
				console.log(`error ${what}: ${errs.join('; ')}`);
			} else {
				console.log(`ok ${what}`);
			}
		}
	}
	console.log(`${n} objects, ${bad} errors`);
	return bad ? 1 : 0;
}

function find(file, kind, name) {
	const doc = load(file).find((d) => d.kind === kind && (!name || d.metadata.name === name));
	if (!doc)
		throw new Error(`${file}: no ${kind} ${name}`);
	return doc;
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'validate') {
	process.exit(await validate(args));
} else if (cmd === 'hash') {
	console.log(configHash(find(args[0], 'ConfigMap')));
} else if (cmd === 'get') {
	let v = find(args[0], args[1], args[2]);
	for (const p of JSON.parse(args[3]))
		v = v === undefined ? v : v[p];
	console.log(typeof v === 'string' ? v : JSON.stringify(v));
} else if (cmd === 'nads') {
	const [out, ...files] = args;
	for (const f of files)
		for (const d of load(f).filter((x) => x.kind === 'NetworkAttachmentDefinition'))
			writeFileSync(join(out, `${basename(f, '.yaml')}-${d.metadata.name}.json`), d.spec.config);
} else {
	console.error('usage: manifests.mjs validate|hash|get|nads ...');
	process.exit(2);
}
