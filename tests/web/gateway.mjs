// Starts the gateway the browser tests talk to, or uses one already running.
//
// By default startLocalGateway() runs $WEIR_BIN (build/weir): `weir sim` and
// `weir serve` on 127.0.0.1 port 0 (the bound ports are read from their
// start-up lines) with a fresh data folder, then creates the test users and
// keys through the admin API. stop() ends both processes and removes the
// folder. With WEIR_TEST_BASE_URL set, the tests use that gateway instead
// and read the keys from WEIR_TEST_* variables (see externalGateway).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifacts, root } from './browser.mjs';

const adminKey = `wr-${'B'.repeat(40)}`;
const keyPrefixLength = 10;  // The gateway shows "wr-" and the first 7 random characters.

export async function startGateway() {
  if (process.env.WEIR_TEST_BASE_URL) return externalGateway();
  return startLocalGateway();
}

function externalGateway() {
  const env = process.env;
  return {
    baseUrl: env.WEIR_TEST_BASE_URL.replace(/\/$/, ''),
    model: env.WEIR_TEST_MODEL ?? 'sim',
    adminKey: env.WEIR_TEST_ADMIN_KEY,
    userKey: env.WEIR_TEST_USER_KEY,
    viewerKey: env.WEIR_TEST_VIEWER_KEY,
    passwordUser: { name: env.WEIR_TEST_PASSWORD_USER, password: env.WEIR_TEST_PASSWORD },
    auditUser: { id: env.WEIR_TEST_AUDIT_USER_ID, name: env.WEIR_TEST_AUDIT_USER },
    keyPrefixLength,
    async stop() {},
  };
}

/** Starts `command` and resolves with the process and the port that its output names. */
function startProcess(command, args, env, pattern, logPath) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logPath);
    let found = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not start within 30 s; see ${logPath}`));
    }, 30000);
    child.stderr.pipe(log);
    child.stdout.on('data', (data) => {
      log.write(data);
      const match = !found && String(data).match(pattern);
      if (match) {
        found = true;
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.on('exit', (code) => {
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}; see ${logPath}`));
      }
    });
  });
}

async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}

async function adminCall(baseUrl, method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} returned ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function startLocalGateway() {
  const binary = process.env.WEIR_BIN ?? join(root, 'build', 'weir');
  if (!existsSync(binary)) throw new Error(`${binary} is missing; run \`make build\``);
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-browser-'));
  const processes = [];
  const stop = async () => {
    for (const child of processes.reverse()) await stopProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    // A slow token pace keeps each reply streaming for about a second, so the test can watch it grow.
    const sim = await startProcess(binary, ['sim', '--listen', '127.0.0.1:0', '--tokens-per-second', '30',
      '--completion-tokens', '30'], process.env, /serving on port (\d+)/, join(artifacts, 'sim.log'));
    processes.push(sim.child);
    const env = {
      ...process.env,
      WEIR_ADMIN_KEY: adminKey,
      WEIR_MODELS: `[{name: sim, upstreams: [{url: "http://127.0.0.1:${sim.port}/v1"}]}]`,
      WEIR_AUDIT_CONTENT: 'summary',
      WEIR_WEB_DIR: join(root, 'web', 'dist'),
    };
    const serve = await startProcess(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'data')],
      env, /serving on http:\/\/127\.0\.0\.1:(\d+)/, join(artifacts, 'serve.log'));
    processes.push(serve.child);
    const baseUrl = `http://127.0.0.1:${serve.port}`;

    const suffix = Date.now().toString(36);
    const passwordUser = { name: `ann-${suffix}`, password: 'correct-horse-9' };
    const user = await adminCall(baseUrl, 'POST', '/admin/v1/users',
      { name: passwordUser.name, role: 'user', password: passwordUser.password });
    const viewer = await adminCall(baseUrl, 'POST', '/admin/v1/users', { name: `vic-${suffix}`, role: 'viewer' });
    const auditUser = await adminCall(baseUrl, 'POST', '/admin/v1/users', { name: `audit-${suffix}`, role: 'user' });
    const userKey = (await adminCall(baseUrl, 'POST', '/admin/v1/keys', { user_id: user.id, name: 'browser' })).key;
    const viewerKey = (await adminCall(baseUrl, 'POST', '/admin/v1/keys', { user_id: viewer.id, name: 'extension' })).key;

    return {
      baseUrl, model: 'sim', adminKey, userKey, viewerKey, passwordUser,
      auditUser: { id: auditUser.id, name: auditUser.name }, keyPrefixLength, stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
