// Builds extension/dist, the folder loaded as an unpacked extension:
// type-checks extension/src with tsc, bundles each entry point with esbuild
// and copies the manifest, pages, styles and _locales beside them.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const extension = join(root, 'extension');
const dist = join(extension, 'dist');

execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(extension, 'tsconfig.json')], { stdio: 'inherit' });

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await esbuild.build({
  entryPoints: ['background', 'sidepanel', 'options'].map((name) => join(extension, 'src', `${name}.ts`)),
  outdir: dist,
  bundle: true,
  format: 'esm',
  target: 'chrome116',
  minify: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

for (const file of ['manifest.json', 'sidepanel.html', 'options.html', 'panel.css']) {
  copyFileSync(join(extension, file), join(dist, file));
}
cpSync(join(extension, '_locales'), join(dist, '_locales'), { recursive: true });
console.log(`build-extension: wrote ${dist}`);
