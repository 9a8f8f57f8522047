// The addressing module both ways: person → host, path and URL in each routing mode, and request
// (host, first path segment) → person, with the name rules and the names Spawner keeps.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { personOfRequest, portSuffix, reservedNames, serviceUrl, spawnerOrigin } from '../../src/addressing.js';

const sub = loadConfig({ NODE_ENV: 'test', BASE_DOMAIN: 'apps.example.com' });
const path = loadConfig({ NODE_ENV: 'test', BASE_DOMAIN: 'apps.example.com', ROUTING_MODE: 'path' });

describe('person → address', () => {
  it('when the mode is subdomain, then alice lives at alice.<domain>/, and with a port the link keeps it', () => {
    expect(serviceUrl(sub, 'alice')).toBe('http://alice.apps.example.com/');
    expect(serviceUrl(sub, 'alice', portSuffix('spawner.apps.example.com:8443'))).toBe('http://alice.apps.example.com:8443/');
    expect(spawnerOrigin('https', 'spawner.apps.example.com:8443', sub)).toBe('https://spawner.apps.example.com:8443');
  });

  it('when the mode is path, then alice lives at <domain>/alice/ and Spawner at the bare domain', () => {
    expect(serviceUrl(path, 'alice')).toBe('http://apps.example.com/alice/');
    expect(spawnerOrigin('http', 'apps.example.com', path)).toBe('http://apps.example.com');
  });
});

describe('request → person', () => {
  const reservedSub = reservedNames(sub);
  const reservedPath = reservedNames(path);

  it("when a host names a person, then that person; Spawner's own host and reserved names are nobody", () => {
    expect(personOfRequest(sub, { hostname: 'alice.apps.example.com', path: '/x' }, reservedSub)).toBe('alice');
    expect(personOfRequest(sub, { hostname: 'ALICE.apps.example.com', path: '/' }, reservedSub)).toBe('alice');
    expect(personOfRequest(sub, { hostname: 'spawner.apps.example.com', path: '/' }, reservedSub)).toBeNull();
    expect(personOfRequest(sub, { hostname: 'admin.apps.example.com', path: '/' }, reservedSub)).toBeNull();
    expect(personOfRequest(sub, { hostname: 'apps.example.com', path: '/' }, reservedSub)).toBeNull();
    expect(personOfRequest(sub, { hostname: 'a.b.apps.example.com', path: '/' }, reservedSub)).toBeNull();
    expect(personOfRequest(sub, { hostname: 'alice.other.example', path: '/' }, reservedSub)).toBeNull();
  });

  it('when the host carries DNS’s trailing dot, then it still names the person (never Spawner’s pages on her host)', () => {
    expect(personOfRequest(sub, { hostname: 'alice.apps.example.com.', path: '/' }, reservedSub)).toBe('alice');
  });

  it("when the mode is path, then the first segment names the person; Spawner's prefix and reserved names are nobody", () => {
    expect(personOfRequest(path, { hostname: 'apps.example.com', path: '/alice/docs' }, reservedPath)).toBe('alice');
    expect(personOfRequest(path, { hostname: 'apps.example.com', path: '/alice' }, reservedPath)).toBe('alice');
    expect(personOfRequest(path, { hostname: 'apps.example.com', path: '/hub/login' }, reservedPath)).toBeNull();
    expect(personOfRequest(path, { hostname: 'apps.example.com', path: '/health' }, reservedPath)).toBeNull();
    expect(personOfRequest(path, { hostname: 'apps.example.com', path: '/' }, reservedPath)).toBeNull();
    expect(personOfRequest(path, { hostname: 'apps.example.com', path: '/Al' }, reservedPath)).toBeNull();
  });
});
