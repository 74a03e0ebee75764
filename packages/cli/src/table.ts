/** Plain-text tables for terminals: left-aligned columns, two spaces apart, a header row. */
// eslint-disable-next-line no-control-regex -- ANSI colour codes take no width on screen
const ANSI = /\u001b\[[0-9;]*m/g;
const width = (text: string) => text.replace(ANSI, '').length;

export function table(headers: string[], rows: string[][], style?: { bold(text: string): string }): string {
  if (rows.length === 0) return '';
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd();
  const head = line(headers);
  return [style ? style.bold(head) : head, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n');
}
