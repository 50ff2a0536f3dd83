#!/usr/bin/env node
// Independent offline verifier for CSM Certify credentials: a VC Data Model 2.0 /
// Open Badges 3.0 OpenBadgeCredential with an embedded DataIntegrityProof
// (eddsa-rdfc-2022, assertionMethod) and one BitstringStatusListEntry (revocation).
// Uses none of the project's code: only Digital Bazaar's libraries. Never touches
// the network: contexts come from ../shared/standards/ (or are bundled in the npm
// packages), every other document from the --documents file. See README.md.
//
// node verify.mjs --credential CRED.json --documents DOCS.json --now 2026-11-22T09:00:00Z
//   [--max-clock-skew SECONDS]   (default 0: --now is a test clock, not a drifting one;
//                                 validFrom <= now <= validUntil, both bounds inclusive)
// stdout: {"verified": bool, "checks": {"proof": {...}, "validity": {...}, "status": {...}},
//          "errors": [...]}; exit 0 verified, 1 not verified, 2 usage error.
import {readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import jsonld from 'jsonld';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import jsigs from 'jsonld-signatures';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..', '..');
const STANDARDS = resolve(REPO_ROOT, '..', 'shared', 'standards');

const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';
// Context URL -> file under ../shared/standards/ (these win over any bundled copy).
const LOCAL_CONTEXTS = {
  'https://www.w3.org/ns/credentials/v2': 'vc/credentials-v2.jsonld',
  [MULTIKEY_V1]: 'vc/multikey-v1.jsonld',
  'https://www.w3.org/ns/cid/v1': 'vc/cid-v1.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'vc/data-integrity-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob3/context-3.0.3.json',
};

const USAGE = 'usage: node verify.mjs --credential CRED.json --documents DOCS.json ' +
  '--now YYYY-MM-DDTHH:MM:SSZ [--max-clock-skew SECONDS]';

class UsageError extends Error {}

function emit(result, code) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = code;
}

function parseArgs(argv) {
  const opts = {};
  const known = new Set(['--credential', '--documents', '--now', '--max-clock-skew']);
  for(let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if(arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if(arg === '-h' || arg === '--help') {
      throw new UsageError('help requested');
    }
    if(!known.has(arg)) {
      throw new UsageError(`unknown argument: ${arg}`);
    }
    if(value === undefined) {
      value = argv[++i];
      if(value === undefined) {
        throw new UsageError(`${arg} needs a value`);
      }
    }
    if(arg in opts) {
      throw new UsageError(`${arg} given twice`);
    }
    opts[arg] = value;
  }
  for(const required of ['--credential', '--documents', '--now']) {
    if(!opts[required]) {
      throw new UsageError(`${required} is required`);
    }
  }
  if(!vc.dateRegex.test(opts['--now']) || !/(Z|[+-][0-9]{2}:[0-9]{2})$/.test(opts['--now']) ||
    isNaN(new Date(opts['--now']))) {
    throw new UsageError('--now must be an XML Schema dateTime with a time zone ' +
      `(e.g. 2026-11-22T09:00:00Z): ${opts['--now']}`);
  }
  let maxClockSkew = 0;
  if(opts['--max-clock-skew'] !== undefined) {
    maxClockSkew = Number(opts['--max-clock-skew']);
    if(!Number.isFinite(maxClockSkew) || maxClockSkew < 0) {
      throw new UsageError('--max-clock-skew must be a number of seconds >= 0');
    }
  }
  return {
    credentialPath: opts['--credential'],
    documentsPath: opts['--documents'],
    now: new Date(opts['--now']),
    maxClockSkew,
  };
}

function readJson(path, what) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch(e) {
    throw new Error(`cannot read ${what} file ${path}: ${e.code || e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch(e) {
    throw new Error(`${what} file ${path} is not valid JSON: ${e.message}`);
  }
}

const isObject = x => x !== null && typeof x === 'object' && !Array.isArray(x);

// ---------------------------------------------------------------------------
// Offline document loader.
// 1. The context URLs of LOCAL_CONTEXTS, from ../shared/standards/.
// 2. A URL with a fragment whose base URL is in DOCS: the verification method of
//    that id inside the controller document (given the Multikey context, as the
//    key library wants it), after checking the document's id and the key's controller.
// 3. A URL in DOCS: that document (documents only: a bare @context is refused).
// 4. Contexts bundled in the npm packages (credentials v1/v2 and undefined-terms,
//    security v1/v2).
// Anything else: "not available offline: URL". Nothing is ever fetched.
function makeDocumentLoader(docs) {
  const contextCache = new Map();
  const loadLocalContext = url => {
    if(!contextCache.has(url)) {
      const file = join(STANDARDS, LOCAL_CONTEXTS[url]);
      contextCache.set(url, readJson(file, `context ${url}`));
    }
    return contextCache.get(url);
  };
  const getDoc = url => {
    if(!Object.prototype.hasOwnProperty.call(docs, url)) {
      return undefined;
    }
    let doc = docs[url];
    if(typeof doc === 'string') {
      try {
        doc = JSON.parse(doc);
      } catch(e) {
        throw new Error(`document ${url} in the documents file is not valid JSON`);
      }
    }
    if(!isObject(doc)) {
      throw new Error(`document ${url} in the documents file is not a JSON object`);
    }
    const keys = Object.keys(doc);
    if(keys.length === 1 && keys[0] === '@context') {
      throw new Error(`refusing ${url} from the documents file: it is a JSON-LD ` +
        'context, and contexts come only from ../shared/standards/ or the npm packages');
    }
    return structuredClone(doc);
  };

  return async function documentLoader(url) {
    if(typeof url !== 'string') {
      throw new Error(`not available offline: ${String(url)}`);
    }
    if(Object.prototype.hasOwnProperty.call(LOCAL_CONTEXTS, url)) {
      return {contextUrl: null, documentUrl: url, document: loadLocalContext(url)};
    }
    const exact = getDoc(url);
    if(exact !== undefined) {
      return {contextUrl: null, documentUrl: url, document: exact};
    }
    const hash = url.indexOf('#');
    if(hash > 0) {
      const base = url.slice(0, hash);
      const controllerDoc = getDoc(base);
      if(controllerDoc !== undefined) {
        return {
          contextUrl: null,
          documentUrl: url,
          document: findVerificationMethod(controllerDoc, base, url),
        };
      }
    }
    try {
      // bundled in @digitalbazaar/vc (credentials contexts); jsonld-signatures adds
      // its security contexts in front of every loader it is given
      return await vc.defaultDocumentLoader(url);
    } catch(e) {
      throw new Error(`not available offline: ${url}`);
    }
  };
}

function findVerificationMethod(doc, base, url) {
  if(doc.id !== base) {
    throw new Error(`controller document at ${base} has id ${JSON.stringify(doc.id)}; ` +
      'it must be the URL it is served at');
  }
  const candidates = [];
  for(const rel of ['verificationMethod', 'assertionMethod', 'authentication',
    'capabilityInvocation', 'capabilityDelegation', 'keyAgreement']) {
    for(const vm of jsonld.getValues(doc, rel)) {
      if(isObject(vm)) {
        candidates.push(vm);
      }
    }
  }
  const vm = candidates.find(c => c.id === url);
  if(!vm) {
    throw new Error(`verification method ${url} not found in the controller document ` +
      `at ${base} (its "id" must be that absolute URL)`);
  }
  if(vm.controller !== doc.id) {
    throw new Error(`verification method ${url} has controller ` +
      `${JSON.stringify(vm.controller)}, not the document it is listed in (${doc.id})`);
  }
  const {'@context': _ignored, ...rest} = vm;
  return {'@context': MULTIKEY_V1, ...rest};
}

// ---------------------------------------------------------------------------

function messages(error, out = []) {
  if(!error) {
    return out;
  }
  if(Array.isArray(error)) {
    error.forEach(e => messages(e, out));
    return out;
  }
  if(Array.isArray(error.errors) && error.errors.length) {
    error.errors.forEach(e => messages(e, out));
    return out;
  }
  // jsonld wraps a loader's error in a JsonLdError, keeping it in details.cause
  const inner = [];
  for(const cause of [error.cause, error.details?.cause]) {
    if(cause && cause !== error) {
      messages(cause, inner);
    }
  }
  if(inner.some(m => m.includes('not available offline'))) {
    out.push(...inner);
  } else {
    let message = String(error.message || error);
    // jsonld safe mode: say which term or value was dropped (undefined in the contexts)
    const event = error.details?.event;
    if(event && event.message) {
      const what = event.details ? ` ${JSON.stringify(event.details)}` : '';
      message += ` ${event.code ? `(${event.code}) ` : ''}${event.message}${what}`;
    }
    out.push(message);
    out.push(...inner.filter(m => !out.some(o => o.includes(m))));
  }
  return out;
}

const unique = xs => [...new Set(xs)];

function proofErrors(result) {
  const out = messages(result.error);
  for(const r of result.results || []) {
    if(!r.verified) {
      out.push(...messages(r.error));
      if(r.purposeResult && !r.purposeResult.valid) {
        out.push(...messages(r.purposeResult.error));
      }
    }
  }
  return unique(out.length ? out : ['proof not verified']);
}

function describeProof(credential) {
  const proofs = jsonld.getValues(credential, 'proof');
  if(proofs.length === 0) {
    return {problem: 'credential has no "proof"'};
  }
  const ours = proofs.filter(p => isObject(p) && p.type === 'DataIntegrityProof' &&
    p.cryptosuite === 'eddsa-rdfc-2022');
  if(ours.length === 0) {
    const seen = proofs.map(p => isObject(p) ? `${p.type}/${p.cryptosuite}` : typeof p);
    return {problem: 'no DataIntegrityProof with cryptosuite eddsa-rdfc-2022 ' +
      `(found ${seen.join(', ')})`};
  }
  const proof = ours[0];
  if(proof.proofPurpose !== 'assertionMethod') {
    return {problem: `proofPurpose is ${JSON.stringify(proof.proofPurpose)}, ` +
      'not "assertionMethod"'};
  }
  if(typeof proof.proofValue !== 'string' || !proof.proofValue.startsWith('z')) {
    return {problem: 'proofValue must be a multibase base58btc string ("z...")'};
  }
  return {proof};
}

async function checkProof({credential, suite, documentLoader}) {
  const {problem, proof} = describeProof(credential);
  if(problem) {
    return {passed: false, detail: problem, errors: [problem]};
  }
  // what vc.verifyCredential does after its date checks: jsonld-signatures with
  // the credential issuance purpose (assertionMethod of the issuer's controller)
  const result = await jsigs.verify(credential, {
    suite, purpose: new vc.CredentialIssuancePurpose(), documentLoader,
  });
  if(result.verified) {
    const vmId = typeof proof.verificationMethod === 'object' ?
      proof.verificationMethod.id : proof.verificationMethod;
    return {
      passed: true,
      detail: `DataIntegrityProof eddsa-rdfc-2022 (created ${proof.created}) verified ` +
        `with ${vmId}, an assertionMethod of the issuer`,
      errors: [],
    };
  }
  const errors = proofErrors(result);
  return {passed: false, detail: errors.join('; '), errors};
}

function checkValidity({credential, now, maxClockSkew}) {
  try {
    vc._checkCredential({credential, now, maxClockSkew, mode: 'verify'});
  } catch(e) {
    const errors = messages(e);
    return {passed: false, detail: errors.join('; '), errors};
  }
  const from = credential.validFrom ? `validFrom ${credential.validFrom}` : 'no validFrom';
  const until = credential.validUntil ? `validUntil ${credential.validUntil}` :
    'no validUntil';
  return {
    passed: true,
    detail: `valid at ${now.toISOString()} (${from}, ${until})`,
    errors: [],
  };
}

async function checkCredentialStatus({credential, suite, documentLoader, now,
  maxClockSkew}) {
  const fail = (...errors) => ({passed: false, detail: errors.join('; '), errors});
  const cs = credential.credentialStatus;
  if(cs === undefined) {
    return fail('credential has no "credentialStatus"');
  }
  if(!isObject(cs)) {
    return fail('"credentialStatus" must be one BitstringStatusListEntry object');
  }
  if(cs.type !== 'BitstringStatusListEntry') {
    return fail(`credentialStatus.type is ${JSON.stringify(cs.type)}, ` +
      'not "BitstringStatusListEntry"');
  }
  if(cs.statusPurpose !== 'revocation') {
    return fail(`credentialStatus.statusPurpose is ${JSON.stringify(cs.statusPurpose)}, ` +
      'not "revocation"');
  }
  if(cs.statusSize !== undefined && Number(cs.statusSize) !== 1) {
    return fail(`statusSize ${cs.statusSize} is not supported (only 1)`);
  }
  if(typeof cs.statusListIndex !== 'string' || !/^(0|[1-9][0-9]*)$/.test(cs.statusListIndex)) {
    return fail('credentialStatus.statusListIndex must be a string of decimal digits, ' +
      `not ${JSON.stringify(cs.statusListIndex)}`);
  }
  const slUrl = cs.statusListCredential;
  if(typeof slUrl !== 'string') {
    return fail('credentialStatus.statusListCredential must be a URL string');
  }
  let slCredential;
  try {
    ({document: slCredential} = await documentLoader(slUrl));
  } catch(e) {
    return fail(`status list credential: ${e.message}`);
  }
  // the status list credential's own proof and validity, judged at --now as well
  // (the library's own check would judge it at the machine's clock)
  const slResult = await vc.verifyCredential({
    credential: slCredential, suite, documentLoader, now, maxClockSkew,
  });
  if(!slResult.verified) {
    const errs = proofErrors(slResult);
    return fail(...errs.map(m => `status list credential ${slUrl} not verified: ${m}`));
  }
  // the bit, read by the library (it checks the purposes match, both issuers
  // match, the types, and decodes the GZIP'd base64url list)
  const result = await checkStatus({
    credential, documentLoader, suite,
    verifyBitstringStatusListCredential: false, verifyMatchingIssuers: true,
  });
  if(!result.verified) {
    return fail(...messages(result.error).map(m => `status check failed: ${m}`));
  }
  const [entry] = result.results;
  if(entry.status !== false) {
    return fail(`revoked: bit ${cs.statusListIndex} of ${slUrl} is set`);
  }
  return {
    passed: true,
    detail: `not revoked: bit ${cs.statusListIndex} of ${slUrl} is 0 ` +
      '(status list credential verified)',
    errors: [],
  };
}

async function main() {
  const result = {
    verified: false,
    checks: {
      proof: {passed: false, detail: 'not checked'},
      validity: {passed: false, detail: 'not checked'},
      status: {passed: false, detail: 'not checked'},
    },
    errors: [],
  };
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch(e) {
    if(e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      result.errors.push(`usage: ${e.message}`);
      return emit(result, 2);
    }
    throw e;
  }

  let credential;
  let docs;
  try {
    credential = readJson(opts.credentialPath, 'credential');
    docs = readJson(opts.documentsPath, 'documents');
  } catch(e) {
    result.errors.push(e.message);
    return emit(result, 1);
  }
  if(!isObject(credential)) {
    result.errors.push('the credential must be a JSON object');
    return emit(result, 1);
  }
  if(!isObject(docs)) {
    result.errors.push('the documents file must be a JSON object mapping URL -> document');
    return emit(result, 1);
  }
  if(!Array.isArray(credential['@context'])) {
    result.errors.push('credential "@context" must be an array, ' +
      'starting with https://www.w3.org/ns/credentials/v2');
    return emit(result, 1);
  }

  const documentLoader = makeDocumentLoader(docs);
  // belt and braces: should any code path reach for jsonld's default loader (which
  // would use the network), it gets the offline one instead
  jsonld.documentLoader = documentLoader;
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  // The library counts a date equal to --now as outside the window when the skew is
  // 0 (its comparison is |t1 - t2| < skew); 1 ms makes both bounds inclusive.
  const now = opts.now;
  const maxClockSkew = Math.max(opts.maxClockSkew, 0.001);

  const proof = await checkProof({credential, suite, documentLoader});
  const validity = checkValidity({credential, now, maxClockSkew});
  const status = await checkCredentialStatus({
    credential, suite, documentLoader, now, maxClockSkew,
  });
  for(const [name, check] of Object.entries({proof, validity, status})) {
    result.checks[name] = {passed: check.passed, detail: check.detail};
    result.errors.push(...check.errors.map(m => `${name}: ${m}`));
  }

  // the verdict of vc.verifyCredential itself, with the status check above plugged
  // in: it must agree with the three checks
  const statusForVc = async () => ({
    verified: status.passed,
    error: status.passed ? undefined : new Error(status.detail),
  });
  const overall = await vc.verifyCredential({
    credential, suite, documentLoader, checkStatus: statusForVc, now, maxClockSkew,
  });
  const allPassed = proof.passed && validity.passed && status.passed;
  if(allPassed && !overall.verified) {
    const errs = proofErrors(overall);
    result.errors.push(...errs.map(m => `verifyCredential: ${m}`));
  }
  result.verified = allPassed && overall.verified === true;
  result.errors = unique(result.errors);
  return emit(result, result.verified ? 0 : 1);
}

// fetch is never needed; make any attempt fail loudly rather than reach out
globalThis.fetch = async url => {
  throw new Error(`not available offline: ${url}`);
};

main().catch(e => {
  emit({
    verified: false,
    checks: {
      proof: {passed: false, detail: 'not checked'},
      validity: {passed: false, detail: 'not checked'},
      status: {passed: false, detail: 'not checked'},
    },
    errors: [`internal error: ${e && e.message ? e.message : String(e)}`],
  }, 1);
});
