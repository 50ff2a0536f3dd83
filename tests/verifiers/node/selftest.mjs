#!/usr/bin/env node
// Self-test of verify.mjs: issues credentials with Digital Bazaar's libraries only
// (nothing from the project), then runs the verify.mjs CLI as a child process over
// good and broken inputs, prints a table, and exits 1 if any expectation fails.
//   cd tests/verifiers/node && npm ci && node selftest.mjs
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createCredential, createList} from '@digitalbazaar/vc-bitstring-status-list';

const HERE = dirname(fileURLToPath(import.meta.url));
const VERIFY = join(HERE, 'verify.mjs');
const STANDARDS = resolve(HERE, '..', '..', '..', '..', 'shared', 'standards');

const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const OB_303 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const CID_V1 = 'https://www.w3.org/ns/cid/v1';
const ISSUER = 'https://certify.example/issuer';
const KEY_ID = `${ISSUER}#key-1`;
const STATUS_LIST = 'https://certify.example/status/revocation/1';
const STATUS_INDEX = 94567;
const CREATED = '2026-11-20T10:00:00Z';
const NOW = '2026-11-22T09:00:00Z';

// The issuer side's own loader: contexts from ../shared/standards/, nothing else.
const CONTEXT_FILES = {
  [VC_V2]: 'vc/credentials-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'vc/multikey-v1.jsonld',
  [CID_V1]: 'vc/cid-v1.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'vc/data-integrity-v2.jsonld',
  [OB_303]: 'ob3/context-3.0.3.json',
};
function issuerLoader(documents) {
  return async url => {
    if(CONTEXT_FILES[url]) {
      const document = JSON.parse(readFileSync(join(STANDARDS, CONTEXT_FILES[url]), 'utf8'));
      return {contextUrl: null, documentUrl: url, document};
    }
    const [base] = url.split('#');
    if(documents[base]) {
      const doc = documents[base];
      const vm = doc.verificationMethod.find(m => m.id === url);
      if(url === base) {
        return {contextUrl: null, documentUrl: url, document: doc};
      }
      if(vm) {
        return {
          contextUrl: null, documentUrl: url,
          document: {'@context': 'https://w3id.org/security/multikey/v1', ...vm},
        };
      }
    }
    throw new Error(`issuer loader: no ${url}`);
  };
}

const clone = x => structuredClone(x);

async function sign(unsigned, key, documentLoader) {
  const suite = new DataIntegrityProof({
    signer: key.signer(), date: CREATED, cryptosuite: eddsaRdfc2022,
  });
  return vc.issue({credential: clone(unsigned), suite, documentLoader});
}

async function statusListCredential({key, documentLoader, revoked = []}) {
  const list = await createList({length: 131072});
  for(const index of revoked) {
    list.setStatus(index, true);
  }
  const unsigned = await createCredential({
    id: STATUS_LIST, list, statusPurpose: 'revocation',
  });
  unsigned.issuer = ISSUER;
  unsigned.validFrom = '2026-11-01T00:00:00Z';
  return sign(unsigned, key, documentLoader);
}

async function build() {
  const key = await Ed25519Multikey.generate({id: KEY_ID, controller: ISSUER});
  // a different key pair claiming the issuer's verification method
  const rogue = await Ed25519Multikey.generate({id: KEY_ID, controller: ISSUER});
  const controllerDocument = {
    '@context': [CID_V1],
    id: ISSUER,
    verificationMethod: [{
      id: KEY_ID, type: 'Multikey', controller: ISSUER,
      publicKeyMultibase: key.publicKeyMultibase,
    }],
    assertionMethod: [KEY_ID],
  };
  const documentLoader = issuerLoader({[ISSUER]: controllerDocument});

  const unsigned = {
    '@context': [VC_V2, OB_303],
    id: 'urn:uuid:6f1c3c5e-2a71-4a0e-9d0b-6b1a3f2e9c41',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: ISSUER, type: ['Profile'], name: 'CSM Certify'},
    name: 'Certified Safety Manager',
    validFrom: '2026-11-01T00:00:00Z',
    validUntil: '2029-11-01T00:00:00Z',
    credentialSubject: {
      id: 'urn:uuid:0b5e8f2a-9a7c-4b43-8a55-1f2d3c4b5a69',
      type: ['AchievementSubject'],
      achievement: {
        id: 'https://certify.example/achievements/csm',
        type: ['Achievement'],
        name: 'Certified Safety Manager',
        description: 'Passed the CSM certification exam.',
        criteria: {narrative: 'Score at least 70% on the proctored CSM exam.'},
      },
    },
    credentialStatus: {
      id: `${STATUS_LIST}#${STATUS_INDEX}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: String(STATUS_INDEX),
      statusListCredential: STATUS_LIST,
    },
  };

  const good = await sign(unsigned, key, documentLoader);
  const tampered = clone(good);
  tampered.name = tampered.name.replace(/r$/, 's'); // one byte changed
  const rogueSigned = await sign(unsigned, rogue, documentLoader);
  const stripped = clone(good);
  delete stripped.proof;
  const unknownContext = await sign(
    {...clone(unsigned), '@context': [VC_V2, OB_303, 'https://example.org/other/v1']},
    key, async url => {
      if(url === 'https://example.org/other/v1') {
        return {contextUrl: null, documentUrl: url, document: {'@context': {}}};
      }
      return documentLoader(url);
    });

  const sl = await statusListCredential({key, documentLoader});
  const slRevoked = await statusListCredential({
    key, documentLoader, revoked: [STATUS_INDEX],
  });
  // a status list whose bit was flipped after signing: its own proof must fail
  const slForged = clone(slRevoked);
  slForged.credentialSubject.encodedList = sl.credentialSubject.encodedList;
  const slRevokedForged = clone(sl);
  slRevokedForged.credentialSubject.encodedList = slRevoked.credentialSubject.encodedList;

  const docs = (statusList = sl) => ({
    [ISSUER]: controllerDocument, [STATUS_LIST]: statusList,
  });
  return {
    good, tampered, rogueSigned, stripped, unknownContext,
    docs, sl, slRevoked, slRevokedForged, controllerDocument,
  };
}

function run(dir, name, {credential, documents, now = NOW, args}) {
  const credPath = join(dir, `${name}.cred.json`);
  const docsPath = join(dir, `${name}.docs.json`);
  writeFileSync(credPath, typeof credential === 'string' ?
    credential : JSON.stringify(credential, null, 2));
  writeFileSync(docsPath, JSON.stringify(documents ?? {}, null, 2));
  const argv = args ?? ['--credential', credPath, '--documents', docsPath, '--now', now];
  const child = spawnSync(process.execPath, [VERIFY, ...argv], {encoding: 'utf8'});
  let output = null;
  try {
    output = JSON.parse(child.stdout);
  } catch(e) {
    // left null: reported as a failed expectation
  }
  return {code: child.status, output, stdout: child.stdout, stderr: child.stderr};
}

async function main() {
  const m = await build();
  const dir = mkdtempSync(join(tmpdir(), 'vc-selftest-'));
  const P = true;
  const F = false;
  // expect: exit code, verified, proof/validity/status passed (undefined: not checked),
  // and a substring that one of the errors must contain
  const cases = [
    ['valid credential', {credential: m.good, documents: m.docs()},
      {code: 0, verified: P, proof: P, validity: P, status: P}],
    ['one byte changed in name', {credential: m.tampered, documents: m.docs()},
      {code: 1, verified: F, proof: F, validity: P, status: P, error: 'Invalid signature'}],
    ['signed by another key', {credential: m.rogueSigned, documents: m.docs()},
      {code: 1, verified: F, proof: F, validity: P, status: P, error: 'Invalid signature'}],
    ['expired (--now after validUntil)',
      {credential: m.good, documents: m.docs(), now: '2029-11-02T00:00:00Z'},
      {code: 1, verified: F, proof: P, validity: F, status: P, error: 'validUntil'}],
    ['at exactly validFrom (inclusive)',
      {credential: m.good, documents: m.docs(), now: '2026-11-01T00:00:00Z'},
      {code: 0, verified: P, proof: P, validity: P, status: P}],
    ['not yet valid (--now before validFrom)',
      {credential: m.good, documents: m.docs(), now: '2026-10-01T00:00:00Z'},
      {code: 1, verified: F, proof: P, validity: F, error: 'validFrom'}],
    ['revoked bit set in status list', {credential: m.good, documents: m.docs(m.slRevoked)},
      {code: 1, verified: F, proof: P, validity: P, status: F, error: 'revoked'}],
    ['status list bit set after signing',
      {credential: m.good, documents: m.docs(m.slRevokedForged)},
      {code: 1, verified: F, proof: P, validity: P, status: F, error: 'Invalid signature'}],
    ['proof stripped', {credential: m.stripped, documents: m.docs()},
      {code: 1, verified: F, proof: F, validity: P, status: P, error: 'no "proof"'}],
    ['issuer document missing',
      {credential: m.good, documents: {[STATUS_LIST]: m.sl}},
      {code: 1, verified: F, proof: F, status: F, error: `not available offline: ${ISSUER}`}],
    ['status list missing',
      {credential: m.good, documents: {[ISSUER]: m.controllerDocument}},
      {code: 1, verified: F, proof: P, validity: P, status: F,
        error: `not available offline: ${STATUS_LIST}`}],
    ['context not available offline', {credential: m.unknownContext, documents: m.docs()},
      {code: 1, verified: F, proof: F, error: 'not available offline: https://example.org/other/v1'}],
    ['credential file not JSON', {credential: '{"@context": [', documents: m.docs()},
      {code: 1, verified: F, error: 'not valid JSON'}],
    ['usage: --now missing', {credential: m.good, documents: m.docs(),
      args: ['--credential', join(dir, 'x.json'), '--documents', join(dir, 'y.json')]},
    {code: 2, verified: F, error: '--now is required'}],
  ];

  const rows = [];
  let failures = 0;
  const mark = c => !c || c.detail === 'not checked' ? '-' : (c.passed ? 'pass' : 'FAIL');
  for(const [i, [name, input, want]] of cases.entries()) {
    const got = run(dir, `case${i}`, input);
    const o = got.output;
    const problems = [];
    if(!o) {
      problems.push(`stdout is not one JSON object: ${JSON.stringify(got.stdout)}`);
    } else {
      if(got.code !== want.code) {
        problems.push(`exit ${got.code}, wanted ${want.code}`);
      }
      if(o.verified !== want.verified) {
        problems.push(`verified ${o.verified}, wanted ${want.verified}`);
      }
      for(const check of ['proof', 'validity', 'status']) {
        if(want[check] !== undefined && o.checks?.[check]?.passed !== want[check]) {
          problems.push(`${check} ${o.checks?.[check]?.passed}, wanted ${want[check]}`);
        }
      }
      if(want.error && !o.errors.some(e => e.includes(want.error))) {
        problems.push(`no error mentions ${JSON.stringify(want.error)}: ` +
          JSON.stringify(o.errors));
      }
    }
    if(/\n\s+at /.test(got.stderr)) {
      problems.push('stack trace on stderr');
    }
    failures += problems.length ? 1 : 0;
    rows.push({
      name, code: String(got.code), verified: String(o?.verified),
      proof: mark(o?.checks?.proof), validity: mark(o?.checks?.validity),
      status: mark(o?.checks?.status),
      result: problems.length ? 'UNEXPECTED' : 'as expected',
      problems, firstError: o?.errors?.[0] ?? '',
    });
  }
  if(process.env.SELFTEST_KEEP) {
    console.log(`inputs kept in ${dir}`);
  } else {
    rmSync(dir, {recursive: true, force: true});
  }

  const cols = [['case', 'name'], ['exit', 'code'], ['verified', 'verified'],
    ['proof', 'proof'], ['validity', 'validity'], ['status', 'status'],
    ['result', 'result']];
  const widths = cols.map(([h, k]) => Math.max(h.length, ...rows.map(r => r[k].length)));
  const line = cells => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(cols.map(([h]) => h)));
  console.log(line(widths.map(w => '-'.repeat(w))));
  for(const r of rows) {
    console.log(line(cols.map(([, k]) => r[k])));
    for(const p of r.problems) {
      console.log(`    ! ${p}`);
    }
    if(process.env.SELFTEST_VERBOSE && r.firstError) {
      console.log(`    error: ${r.firstError}`);
    }
  }
  console.log('');
  if(failures) {
    console.log(`${failures} of ${rows.length} expectations not met`);
    process.exitCode = 1;
  } else {
    console.log(`all ${rows.length} expectations met`);
  }
}

main().catch(e => {
  console.error('selftest could not run:', e);
  process.exitCode = 1;
});
