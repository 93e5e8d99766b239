/** What replaces a secret in any text this package shows. */
export const REDACTED = '[redacted]';

/**
 * `text` with every occurrence of `secret` replaced: a server may echo the Authorization header
 * in an error body or a reply, and neither may carry the key into a message, a log or
 * predictions.jsonl.
 */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join(REDACTED) : text;
}

/** A URL for messages: credentials written into it (`https://user:key@host`) are hidden. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}
