import { describe, expect, it } from 'vitest';
import {
  isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isQualifiedName, isValidLabelValue,
  isValidPortName, nameIsDNSLabel, nameIsDNSSubdomain,
} from '../../src/api/names.js';

const LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const KEY_NAME = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const ENV = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

describe('DNS-1123 labels', () => {
  it.each([
    ['web', []],
    ['123-abc', []],
    ['Web', [LABEL]],
    ['web-', [LABEL]],
    ['my.name', ['must not contain dots']],
    ['a'.repeat(64), ['must be no more than 63 characters']],
    ['', [LABEL]],
  ])('%j gives %j', (value, errs) => {
    expect(isDNS1123Label(value)).toEqual(errs);
  });
});

describe('DNS-1123 subdomains', () => {
  it.each([
    ['web-1', []],
    ['example.com', []],
    ['Web_1', [SUBDOMAIN]],
    ['.web', [SUBDOMAIN]],
    [`${'a'.repeat(250)}.com`, ['must be no more than 253 characters']],
  ])('%j gives %j', (value, errs) => {
    expect(isDNS1123Subdomain(value)).toEqual(errs);
  });
});

describe('DNS-1035 labels', () => {
  it('rejects a name that starts with a digit, as service names must not', () => {
    expect(isDNS1035Label('1web')).toEqual(["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]);
  });
});

describe('qualified names (label keys)', () => {
  it.each([
    ['app', []],
    ['app.kubernetes.io/name', []],
    ['My_Key.1', []],
    ['bad key', [KEY_NAME]],
    ['/app', ['prefix part must be non-empty']],
    ['example.com/', ['name part must be non-empty', KEY_NAME]],
    ['Example.com/app', [`prefix part ${SUBDOMAIN}`]],
    ['a/b/c', ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]],
    ['k'.repeat(64), ['name part must be no more than 63 characters']],
  ])('%j gives %j', (value, errs) => {
    expect(isQualifiedName(value)).toEqual(errs);
  });
});

describe('label values', () => {
  it.each([
    ['', []],
    ['v1.2_beta-3', []],
    ['-v', [VALUE]],
    ['has space', [VALUE]],
    ['v'.repeat(64), ['must be no more than 63 characters']],
  ])('%j gives %j', (value, errs) => {
    expect(isValidLabelValue(value)).toEqual(errs);
  });
});

describe('environment variable names', () => {
  it.each([
    ['PROFILE', []],
    ['my.env-name', []],
    ['1BAD', [ENV]],
    ['HAS SPACE', [ENV]],
    ['.', ["must not be '.'"]],
    ['..', ["must not be '..'"]],
    ['..X', ["must not start with '..'"]],
  ])('%j gives %j', (value, errs) => {
    expect(isEnvVarName(value)).toEqual(errs);
  });
});

describe('port names', () => {
  it.each([
    ['http', []],
    ['http-alt', []],
    ['HTTP', ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', 'must contain at least one letter (a-z)']],
    ['8080', ['must contain at least one letter (a-z)']],
    ['a--b', ['must not contain consecutive hyphens']],
    ['-http', ['must not begin or end with a hyphen']],
    ['a-very-long-port-name', ['must be no more than 15 characters']],
  ])('%j gives %j', (value, errs) => {
    expect(isValidPortName(value)).toEqual(errs);
  });
});

describe('generateName prefixes', () => {
  it('allow the trailing dash that random characters will follow', () => {
    expect(nameIsDNSSubdomain('web-', true)).toEqual([]);
    expect(nameIsDNSLabel('web-', true)).toEqual([]);
  });

  it('still reject a trailing dash in a full name', () => {
    expect(nameIsDNSSubdomain('web-', false)).toEqual([SUBDOMAIN]);
  });
});
