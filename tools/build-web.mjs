// Builds web/dist: type-checks web/src with tsc, bundles it with esbuild, and
// copies the page, the styles, docs/openapi.json, highlight.js's theme and
// Swagger UI (served at /docs/, reading /openapi.json) from node_modules, so
// nothing loads from a CDN.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const dist = join(web, 'dist');
const modules = join(root, 'node_modules');

execFileSync(join(modules, '.bin', 'tsc'), ['-p', join(web, 'tsconfig.json')], { stdio: 'inherit' });

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'docs'), { recursive: true });

await esbuild.build({
  entryPoints: [join(web, 'src', 'main.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const highlightTheme = readFileSync(join(modules, 'highlight.js', 'styles', 'github.css'), 'utf8');
writeFileSync(join(dist, 'app.css'), highlightTheme + '\n' + readFileSync(join(web, 'src', 'styles.css'), 'utf8'));
copyFileSync(join(web, 'index.html'), join(dist, 'index.html'));
copyFileSync(join(root, 'docs', 'openapi.json'), join(dist, 'openapi.json'));

const swagger = join(modules, 'swagger-ui-dist');
for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png']) {
  copyFileSync(join(swagger, file), join(dist, 'docs', file));
}
writeFileSync(join(dist, 'docs', 'index.html'), `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Weir API</title>
  <link rel="stylesheet" href="swagger-ui.css">
  <link rel="icon" type="image/png" href="favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="swagger-ui-standalone-preset.js"></script>
  <script src="swagger-init.js"></script>
</body>
</html>
`);
writeFileSync(join(dist, 'docs', 'swagger-init.js'), `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`);
console.log(`build-web: wrote ${dist}`);
