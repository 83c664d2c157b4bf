// Object metadata validation with kube-apiserver's wording: names (DNS-1123 subdomain / label,
// DNS-1035 label, path segment), generateName, labels and annotations.
import { randomInt } from 'node:crypto';
import { invalid, required, type FieldError } from './errors.js';
import type { KObject } from './types.js';

const subdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Re = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'pathSegment';

export function validateName(name: string, rule: NameRule): string[] {
  const errs: string[] = [];
  switch (rule) {
    case 'subdomain':
      if (name.length > 253) errs.push('must be no more than 253 characters');
      if (!subdomainRe.test(name))
        errs.push(
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        );
      break;
    case 'label':
      if (name.length > 63) errs.push('must be no more than 63 characters');
      if (!labelRe.test(name))
        errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
      break;
    case 'dns1035':
      if (name.length > 63) errs.push('must be no more than 63 characters');
      if (!dns1035Re.test(name))
        errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
      break;
    case 'pathSegment':
      if (name === '.' || name === '..') errs.push(`may not be '${name}'`);
      for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
      break;
  }
  return errs;
}

/** Which rule a resource's names follow (kube-apiserver: most subdomain; namespaces label; services DNS-1035; RBAC path segments). */
export function nameRuleFor(storageKey: string): NameRule {
  if (storageKey === '/namespaces') return 'label';
  if (storageKey === '/services') return 'dns1035';
  if (storageKey.startsWith('rbac.authorization.k8s.io/')) return 'pathSegment';
  return 'subdomain';
}

const alphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + 5 random characters from the apiserver's alphabet (no vowels, no look-alikes). */
export function generatedName(prefix: string): string {
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[randomInt(alphabet.length)];
  return base + s;
}

const qualifiedNameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function qualifiedNameErrors(key: string): string[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const errs: string[] = [];
  if (slash >= 0 && (prefix.length === 0 || validateName(prefix, 'subdomain').length > 0)) errs.push('prefix part ' + (validateName(prefix, 'subdomain')[0] ?? 'must be non-empty'));
  if (name.length === 0) errs.push('name part must be non-empty');
  else {
    if (name.length > 63) errs.push('name part must be no more than 63 characters');
    if (!qualifiedNameRe.test(name))
      errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
  return errs;
}

/** ObjectMeta checks common to every resource. */
export function validateObjectMeta(obj: KObject, rule: NameRule, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const m = obj.metadata;
  if (!m.name) errs.push(required('metadata.name', 'name or generateName is required'));
  else for (const msg of validateName(m.name, rule)) errs.push(invalid('metadata.name', m.name, msg));
  if (namespaced && !m.namespace) errs.push(required('metadata.namespace'));
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    for (const msg of qualifiedNameErrors(k)) errs.push(invalid('metadata.labels', k, msg));
    if (typeof v !== 'string') errs.push(invalid(`metadata.labels`, v, 'label values must be strings'));
    else if (v.length > 63) errs.push(invalid('metadata.labels', v, 'must be no more than 63 characters'));
    else if (!labelValueRe.test(v))
      errs.push(invalid('metadata.labels', v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    for (const msg of qualifiedNameErrors(k)) errs.push(invalid('metadata.annotations', k, msg));
    if (typeof v !== 'string') errs.push(invalid('metadata.annotations', v, 'annotation values must be strings'));
    annotationBytes += k.length + String(v).length;
  }
  if (annotationBytes > 256 * 1024) errs.push({ type: 'TooLong', field: 'metadata.annotations', detail: 'may not be more than 262144 bytes' });
  for (const [i, f] of (m.finalizers ?? []).entries()) {
    if (typeof f !== 'string' || qualifiedNameErrors(f).length > 0) errs.push(invalid(`metadata.finalizers[${i}]`, f, qualifiedNameErrors(String(f))[0] ?? 'must be a string'));
  }
  return errs;
}
