// fast-check generators of hostile text for names and e-mail addresses: Traefik rule syntax,
// shell and header tricks, control characters, unicode look-alikes, direction marks and very long
// strings, mixed with harmless pieces so that some results are (almost) valid.
import fc from 'fast-check';

/** Pieces known to cause trouble somewhere between a form, SQLite, Docker and Traefik. */
export const HOSTILE_PIECES: readonly string[] = [
  '`',
  '||',
  '&&',
  ')',
  '(',
  '$(',
  '${',
  '\n',
  '\r\n',
  '\0',
  '\t',
  ' ',
  '"',
  "'",
  '<script>',
  '>',
  '/',
  '\\',
  ';',
  '#',
  '=',
  ',',
  '.',
  '..',
  '*',
  '?',
  '%',
  '@',
  '_',
  'Host(`evil.example`)',
  'PathPrefix(`/`)',
  '\u0430', // Cyrillic а
  '\u0435', // Cyrillic е
  '\u043e', // Cyrillic о
  '\uff41', // fullwidth a
  '\uff21', // fullwidth A
  '\u212a', // Kelvin sign, lowercases to ASCII k
  '\u0130', // I with dot, lowercases to i + combining dot
  '\u0131', // dotless i
  '\u00df', // sharp s
  '\ufb00', // ff ligature
  '\u202e', // right-to-left override
  '\u200f', // right-to-left mark
  '\u200b', // zero-width space
  '\ufeff', // byte order mark
  '\u00a0', // no-break space
  '\ud83d\ude00', // emoji (surrogate pair)
  '\ud800', // lone surrogate
  '-',
  '--',
];

const harmless = fc.stringMatching(/^[a-z0-9-]{1,10}$/);

/** Mostly hostile strings, sometimes a 10 kB one. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES), harmless, fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 10 })
      .map((p) => p.join('')),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(harmless, fc.constantFrom('x', '\u0430', '`', '\n')).map(([h, c]) => h + c.repeat(10_000)) },
);

/** A name that looks valid with one hostile piece slipped in somewhere. */
export const nearlyValidName: fc.Arbitrary<string> = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9]{2,10}$/), fc.constantFrom(...HOSTILE_PIECES), fc.nat())
  .map(([name, piece, at]) => {
    const i = at % (name.length + 1);
    return name.slice(0, i) + piece + name.slice(i);
  });

/** An address that looks valid with one hostile piece slipped in. */
export const nearlyValidEmail: fc.Arbitrary<string> = fc
  .tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom(...HOSTILE_PIECES), fc.boolean())
  .map(([local, piece, inDomain]) => (inDomain ? `${local}@exa${piece}mple.com` : `${local}${piece}@example.com`));
