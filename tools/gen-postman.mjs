// Writes docs/weir.postman_collection.json from docs/openapi.json with the
// openapi-to-postmanv2 converter, so the collection never drifts from the spec.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Converter from 'openapi-to-postmanv2';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const specPath = join(root, 'docs', 'openapi.json');
const outputPath = process.env.WEIR_POSTMAN_OUT ?? join(root, 'docs', 'weir.postman_collection.json');

const spec = readFileSync(specPath, 'utf8');
const options = { folderStrategy: 'Tags', requestParametersResolution: 'Example', includeAuthInfoInExample: false };

Converter.convert({ type: 'string', data: spec }, options, (error, result) => {
  if (error || !result.result) {
    console.error(`gen-postman: converting ${specPath} failed: ${error?.message ?? result.reason}`);
    process.exit(1);
  }
  const collection = result.output[0].data;
  // Postman resolves {{baseUrl}} and {{apiKey}} from the environment; default to a local gateway.
  collection.variable = [
    { key: 'baseUrl', value: 'http://127.0.0.1:8080', type: 'string' },
    { key: 'apiKey', value: 'wr-replace-me', type: 'string' },
  ];
  collection.auth = { type: 'bearer', bearer: [{ key: 'token', value: '{{apiKey}}', type: 'string' }] };
  writeFileSync(outputPath, JSON.stringify(collection, null, 2) + '\n');
  console.log(`gen-postman: wrote ${outputPath} with ${collection.item.length} folders`);
});
