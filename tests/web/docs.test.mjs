// The OpenAPI spec is current and valid 3.1, and the Postman collection
// regenerates from it as valid JSON.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Converter from 'openapi-to-postmanv2';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const specPath = join(root, 'docs', 'openapi.json');

test('spec matches its generator', () => {
  execFileSync('python3', [join(root, 'tools', 'build_openapi.py'), '--check'], { stdio: 'inherit' });
});

test('spec declares OpenAPI 3.1', () => {
  const spec = JSON.parse(readFileSync(specPath, 'utf8'));
  assert.match(spec.openapi, /^3\.1\./);
  assert.ok(Object.keys(spec.paths).length >= 20, `the spec lists only ${Object.keys(spec.paths).length} paths`);
});

test('postman collection regenerates as valid JSON', async () => {
  const spec = readFileSync(specPath, 'utf8');
  const result = await new Promise((resolve, reject) =>
    Converter.convert({ type: 'string', data: spec }, { folderStrategy: 'Tags' }, (error, output) =>
      (error ? reject(error) : resolve(output))));
  assert.equal(result.result, true, result.reason);
  const collection = JSON.parse(JSON.stringify(result.output[0].data));
  const requests = collection.item.flatMap((folder) => folder.item ?? [folder]);
  const operations = Object.values(JSON.parse(spec).paths)
    .flatMap((item) => Object.keys(item).filter((name) => name !== 'parameters'));
  assert.equal(requests.length, operations.length, 'every operation becomes one Postman request');
});

test('make docs output is valid JSON', () => {
  const output = mkdtempSync(join(tmpdir(), 'weir-postman-'));
  execFileSync('node', [join(root, 'tools', 'gen-postman.mjs')], { stdio: 'pipe', env: { ...process.env, WEIR_POSTMAN_OUT: join(output, 'c.json') } });
  const collection = JSON.parse(readFileSync(join(output, 'c.json'), 'utf8'));
  assert.equal(collection.info.name, 'Weir gateway API');
  assert.ok(collection.variable.some((variable) => variable.key === 'baseUrl'));
});
