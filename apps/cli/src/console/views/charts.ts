import { html } from 'hono/html';
import type { Html } from './layout.js';

export interface Bar {
  label: string;
  value: number;
  /** What is written beside the bar (the value, formatted). */
  text: string;
}

const ROW = 26;
const LABEL_WIDTH = 170;
const WIDTH = 520;
const TEXT_WIDTH = 90;

/**
 * A horizontal bar chart as inline SVG, drawn from the data on the server: no script, no
 * library; its title names it for screen readers and every bar carries its value as text.
 */
export function barChart(options: { id: string; title: string; bars: readonly Bar[] }): Html {
  const { id, title, bars } = options;
  if (bars.length === 0) return html`<figure class="chart" data-testid="chart-${id}"><figcaption>${title}</figcaption><p class="empty">No data yet.</p></figure>`;
  const max = Math.max(...bars.map((bar) => Math.abs(bar.value)), 1e-9);
  const plot = WIDTH - LABEL_WIDTH - TEXT_WIDTH;
  const height = bars.length * ROW + 4;
  return html`<figure class="chart" data-testid="chart-${id}">
<figcaption id="chart-${id}-title">${title}</figcaption>
<svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-${id}-title chart-${id}-desc" preserveAspectRatio="xMinYMin meet">
<desc id="chart-${id}-desc">${bars.map((bar) => `${bar.label}: ${bar.text}`).join('; ')}</desc>
${bars.map((bar, index) => {
  const y = index * ROW + 2;
  const width = Math.max(1, (Math.max(0, bar.value) / max) * plot);
  return html`<g data-testid="chart-bar" data-label="${bar.label}">
<text x="${LABEL_WIDTH - 6}" y="${y + 16}" text-anchor="end" class="chart-label">${bar.label}</text>
<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW - 8}" class="chart-bar"></rect>
<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + 16}" class="chart-value">${bar.text}</text>
</g>`;
})}
</svg>
</figure>`;
}
