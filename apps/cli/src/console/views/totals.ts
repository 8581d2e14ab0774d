import { html } from 'hono/html';
import { formatBytes, formatDuration } from '../../ui/format.js';
import type { Totals } from '../summary.js';
import { barChart } from './charts.js';
import { percent } from './job.js';
import type { Html } from './layout.js';

export function totalsView(totals: Totals): Html {
  return html`<h1>Totals</h1>
<dl class="cards" data-testid="totals-cards">
<div><dt>Images</dt><dd data-testid="total-images">${totals.images}</dd></div>
<div><dt>Bytes in</dt><dd data-testid="total-bytes-in">${formatBytes(totals.bytesIn)}</dd></div>
<div><dt>Bytes out</dt><dd data-testid="total-bytes-out">${formatBytes(totals.bytesOut)}</dd></div>
<div><dt>p50 step time</dt><dd data-testid="total-p50">${formatDuration(totals.p50Ms)}</dd></div>
<div><dt>p95 step time</dt><dd data-testid="total-p95">${formatDuration(totals.p95Ms)}</dd></div>
</dl>
<div class="charts">
${barChart({
  id: 'status',
  title: 'Jobs by status',
  bars: Object.entries(totals.byStatus).map(([status, count]) => ({ label: status, value: count ?? 0, text: String(count ?? 0) })),
})}
${barChart({
  id: 'savings',
  title: 'Savings against the original, per format',
  bars: totals.formats.map((format) => ({ label: format.format, value: format.savings, text: percent(format.savings) })),
})}
${barChart({
  id: 'bytes',
  title: 'Bytes out per format',
  bars: totals.formats.map((format) => ({ label: format.format, value: format.bytesOut, text: `${formatBytes(format.bytesOut)} (${format.outputs})` })),
})}
${barChart({
  id: 'reasons',
  title: 'Rejections and failures by reason code',
  bars: totals.reasons.map((reason) => ({ label: reason.code, value: reason.count, text: String(reason.count) })),
})}
</div>
<p>Every rendition of every image takes ${formatBytes(totals.bytesOut)} in all; the originals take ${formatBytes(totals.bytesIn)}. Savings compare each rendition with its own original.</p>`;
}
