/** Validation of `PodTrace` objects (written by components; checked like any other kind). */
import { forbidden, invalidValue as invalid, required, tooLong, tooMany, type FieldError } from '../api/errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/metavalidation.js';
import { nameIsDNSSubdomain } from '../api/names.js';
import { MAX_RECORDS_PER_OBJECT, type PodTrace } from './types.js';

const MAX_MESSAGE = 1024;


/** Every problem of a PodTrace (a trace is written once: updates may change metadata only). */
export function validatePodTrace(t: PodTrace, old?: PodTrace): FieldError[] {
  const errs: FieldError[] = [];
  if (old) errs.push(...validateObjectMetaUpdate(t.metadata, old.metadata));
  errs.push(...validateObjectMeta(t.metadata, true, nameIsDNSSubdomain));
  if (!t.pod || typeof t.pod !== 'object') errs.push(required('pod'));
  else {
    if (!t.pod.name) errs.push(required('pod.name'));
    if (!t.pod.uid) errs.push(required('pod.uid'));
    if (t.pod.namespace && t.metadata?.namespace && t.pod.namespace !== t.metadata.namespace) {
      errs.push(invalid('pod.namespace', t.pod.namespace, 'must be the namespace of the trace'));
    }
  }
  if (!Array.isArray(t.records)) errs.push(required('records'));
  else {
    if (t.records.length > MAX_RECORDS_PER_OBJECT) {
      errs.push(tooMany('records', t.records.length, MAX_RECORDS_PER_OBJECT));
    }
    t.records.forEach((r, i) => {
      const p = `records[${i}]`;
      if (!r || typeof r !== 'object') {
        errs.push(required(p));
        return;
      }
      if (!Number.isInteger(r.step) || r.step < 1 || r.step > 7) errs.push(invalid(`${p}.step`, r.step, 'must be a seed step from 1 to 7'));
      if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) errs.push(invalid(`${p}.time`, r.time, 'must be an RFC 3339 time'));
      if (typeof r.component !== 'string' || !r.component) errs.push(required(`${p}.component`));
      if (typeof r.action !== 'string' || !r.action) errs.push(required(`${p}.action`));
      if (typeof r.message !== 'string') errs.push(required(`${p}.message`));
      else if (r.message.length > MAX_MESSAGE) errs.push(tooLong(`${p}.message`, MAX_MESSAGE));
      if (r.durationMs !== undefined && (typeof r.durationMs !== 'number' || r.durationMs < 0)) errs.push(invalid(`${p}.durationMs`, r.durationMs, 'must be a non-negative number'));
    });
  }
  if (old && JSON.stringify(old.records) !== JSON.stringify(t.records)) {
    errs.push(forbidden('records', 'field is immutable'));
  }
  return errs;
}
