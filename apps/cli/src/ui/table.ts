import Table from 'cli-table3';
import type { Io } from '../io.js';

export interface TableOptions {
  head: string[];
  /** Widths of the leading columns that wrap (the rest size to their content). */
  maxWidths?: Array<number | undefined>;
  /** The last column takes the width left on the line (wrapping), at least this much. */
  wrapLast?: number;
}

const plainStyle = { head: [], border: [] };

/** Width the tables fill: the terminal's, or 120 columns when output goes to a file or CI log. */
export function lineWidth(io: Io): number {
  return io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : 120;
}

/** A cli-table3 table; plain (no ANSI colours) when stdout is not a terminal. */
export function renderTable(io: Io, options: TableOptions, rows: string[][]): string {
  const columns = options.head.length;
  // Content width plus cell padding (2), capped where a maximum is given.
  const widths = options.head.map((title, column) => {
    const natural = Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)) + 2;
    const max = options.maxWidths?.[column];
    return max === undefined ? natural : Math.min(natural, max);
  });
  if (options.wrapLast !== undefined && columns > 0) {
    const used = widths.slice(0, -1).reduce((sum, width) => sum + width, 0) + columns + 1;
    widths[columns - 1] = Math.min(widths[columns - 1] ?? 0, Math.max(options.wrapLast, lineWidth(io) - used));
  }
  const table = new Table({
    head: options.head,
    colWidths: widths,
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: io.stdout.isTTY ? { head: ['cyan'] } : plainStyle,
  });
  table.push(...rows);
  return table.toString();
}

/** Two columns, label and value: one record in detail. */
export function renderRecord(io: Io, entries: Array<[string, string]>): string {
  const table = new Table({ style: io.stdout.isTTY ? { head: ['cyan'] } : plainStyle });
  for (const [label, value] of entries) table.push({ [label]: value });
  return table.toString();
}
