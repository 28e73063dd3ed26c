// Starts the gateway the browser tests talk to, or uses one already running.
//
// With WEIR_TEST_BASE_URL set, the tests use that gateway and read the keys
// from WEIR_TEST_ADMIN_KEY, WEIR_TEST_USER_KEY and WEIR_TEST_VIEWER_KEY.
// Otherwise startLocalGateway() runs $WEIR_BIN (build/weir) on free loopback
// ports with a fresh data folder, and stop() ends it and removes the folder.

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
    keyPrefixLength: 9,
    async stop() {},
  };
}

async function startLocalGateway() {
  throw new Error('starting build/weir is not written yet');
}
