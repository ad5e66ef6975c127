/**
 * Terminal tables that fit: each column as wide as its widest line, and when the whole is wider than the width given,
 * the widest columns narrow first and their text wraps onto more lines (words kept whole where they fit; nothing is
 * ever cut). Colour is applied after the layout, so it never counts towards a width.
 */

export interface TableOptions {
  head: string[];
  /** Cells as plain text; `\n` starts a new line inside a cell. */
  rows: string[][];
  /** The width to fit, in characters; `undefined`: no limit (every line of text stays whole). */
  width?: number;
  /** Styles one line of a cell (row -1 is the head); what it returns must show as `text` does. */
  paint?: (row: number, column: number, text: string) => string;
  /** Columns never narrowed nor wrapped (ids, which a person copies): the table may then be wider than `width`. */
  whole?: readonly number[];
}

/** A column never narrows below this (or its widest text, when that is narrower). */
const MIN_COLUMN = 6;

/** Display width of plain text: code points (the report's symbols — ✔ ↩ ⚑ — are one column each). */
function widthOf(text: string): number {
  return [...text].length;
}

/** `text` wrapped to `width`: words kept whole where they fit, longer words broken. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/).filter(Boolean)) {
      let rest = word;
      if (line && widthOf(line) + 1 + widthOf(rest) <= width) {
        line += ` ${rest}`;
        continue;
      }
      if (line) lines.push(line);
      line = '';
      while (widthOf(rest) > width) {
        const chars = [...rest];
        lines.push(chars.slice(0, width).join(''));
        rest = chars.slice(width).join('');
      }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}

/** Column widths: natural, then the widest narrowed one character at a time until the table fits `width`. */
function layout(cells: string[][], width: number | undefined, whole: readonly number[] = []): number[] {
  const columns = cells[0]?.length ?? 0;
  const natural = Array.from({ length: columns }, (_, c) =>
    Math.max(1, ...cells.map((row) => Math.max(...(row[c] ?? '').split('\n').map(widthOf))))
  );
  if (width === undefined) return natural;
  const floor = natural.map((w, c) => (whole.includes(c) ? w : Math.min(w, MIN_COLUMN)));
  const widths = [...natural];
  // Borders and padding: `│ ` before each column, ` │` after the last, ` │ ` between.
  const room = width - (3 * columns + 1);
  let total = widths.reduce((a, b) => a + b, 0);
  while (total > room) {
    let widest = -1;
    for (let c = 0; c < columns; c++) {
      if (
        (widths[c] as number) > (floor[c] as number) &&
        (widest < 0 || (widths[c] as number) > (widths[widest] as number))
      )
        widest = c;
    }
    if (widest < 0) break;
    widths[widest] = (widths[widest] as number) - 1;
    total -= 1;
  }
  return widths;
}

/** The widest line of a text, in display columns. */
export function textWidth(text: string): number {
  return Math.max(0, ...text.split('\n').map(widthOf));
}

/** The table as text (no trailing newline). */
export function renderTable(options: TableOptions): string {
  const cells = [options.head, ...options.rows].map((row) => row.map((cell) => cell.replace(/\r/g, '')));
  const widths = layout(cells, options.width, options.whole);
  const paint = options.paint ?? ((_row: number, _column: number, text: string) => text);
  const rule = (left: string, middle: string, right: string) =>
    `${left}${widths.map((w) => '─'.repeat(w + 2)).join(middle)}${right}`;
  const lines = [rule('┌', '┬', '┐')];
  cells.forEach((row, r) => {
    const wrapped = widths.map((w, c) => wrap(row[c] ?? '', w));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let i = 0; i < height; i++) {
      const parts = widths.map((w, c) => {
        const text = wrapped[c]?.[i] ?? '';
        return `${paint(r - 1, c, text)}${' '.repeat(w - widthOf(text))}`;
      });
      lines.push(`│ ${parts.join(' │ ')} │`);
    }
    lines.push(r === cells.length - 1 ? rule('└', '┴', '┘') : rule('├', '┼', '┤'));
  });
  return lines.join('\n');
}

/**
 * The width to fit output to: the terminal's, for a terminal; else `COLUMNS` when it is set (shells export it); else
 * none (a pipe or a file gets every line whole).
 */
export function outputWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env) {
  if (stream.isTTY === true && stream.columns) return stream.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
}
