/**
 * One shell word for bash: left bare when it has only characters the shell never interprets
 * (paths as people read them), else single-quoted with embedded quotes closed and escaped.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Words as one command line. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
