import type { JobRecord } from '@imgflow/pipeline';
import { html } from 'hono/html';
import { formatDuration } from '../../ui/format.js';
import type { Timeline } from '../timeline.js';
import type { Html } from './layout.js';

const WIDTH = 760;
const LABEL = 150;
const ROW = 28;
const AXIS = 24;

/** Round tick steps on the time axis. */
function tickStep(totalMs: number): number {
  const rough = Math.max(totalMs, 1) / 6;
  const power = 10 ** Math.floor(Math.log10(rough));
  return ([1, 2, 5, 10].map((factor) => factor * power).find((step) => step >= rough) ?? 10 * power) || 1;
}

function chart(timeline: Timeline): Html {
  const total = Math.max(timeline.totalMs, 1);
  const plot = WIDTH - LABEL - 20;
  const x = (ms: number) => LABEL + (ms / total) * plot;
  const height = timeline.bars.length * ROW + AXIS + 8;
  const step = tickStep(total);
  const ticks: number[] = [];
  for (let at = 0; at <= total; at += step) ticks.push(at);
  return html`<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="timeline-title timeline-desc" data-testid="timeline-chart" preserveAspectRatio="xMinYMin meet">
<desc id="timeline-desc">${timeline.bars.map((bar) => `${bar.state} from ${formatDuration(bar.start)} to ${formatDuration(bar.end)}${bar.retries.length ? `, ${bar.retries.length} retries` : ''}${bar.error ? `, error ${bar.error}` : ''}`).join('; ')}</desc>
<g class="axis">
${ticks.map((at) => html`<line x1="${x(at).toFixed(1)}" x2="${x(at).toFixed(1)}" y1="0" y2="${height - AXIS}" class="grid"></line><text x="${x(at).toFixed(1)}" y="${height - 8}" text-anchor="middle">${formatDuration(at)}</text>`)}
</g>
${timeline.bars.map((bar, index) => {
  const y = index * ROW + 4;
  const start = x(bar.start);
  const width = Math.max(2, x(bar.end) - start);
  const classes = ['bar', `bar-${(bar.stateType ?? 'state').toLowerCase()}`, bar.error ? 'bar-error' : '', bar.running ? 'bar-running' : ''].filter(Boolean).join(' ');
  return html`<g data-testid="timeline-bar" data-state="${bar.state}" data-start="${Math.round(bar.start)}" data-end="${Math.round(bar.end)}" data-retries="${bar.retries.length}"${bar.error ? html` data-error="${bar.error}"` : ''}>
<text x="${LABEL - 8}" y="${y + 15}" text-anchor="end" class="bar-label">${bar.state}</text>
<rect x="${start.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 8}" class="${classes}"><title>${bar.state}: ${formatDuration(bar.end - bar.start)}</title></rect>
${bar.retries.map((at) => html`<path d="M ${x(at).toFixed(1)} ${y - 2} l 5 ${ROW / 2 - 4} l -5 ${ROW / 2 - 4} l -5 ${-(ROW / 2 - 4)} z" class="retry" data-testid="timeline-retry"><title>retry at ${formatDuration(at)}</title></path>`)}
${bar.error ? html`<text x="${(start + width + 4).toFixed(1)}" y="${y + 15}" class="error-mark" data-testid="timeline-error">✕ ${bar.error}</text>` : ''}
</g>`;
})}
</svg>`;
}

export function timelineView(record: JobRecord, timeline: Timeline | undefined, runs: number, shown: number): Html {
  return html`<p class="crumbs"><a href="/">Jobs</a> › <a href="/jobs/${record.jobId}">${record.sourceKey}</a> › <span>Timeline</span></p>
<h1 id="timeline-title">Timeline of ${record.sourceKey}</h1>
${
  timeline === undefined || timeline.bars.length === 0
    ? html`<p class="empty" data-testid="timeline-empty">No execution history or step timings recorded for this job.</p>`
    : html`<p data-testid="timeline-source">${
        timeline.source === 'execution'
          ? html`From the local engine's execution history (execution <code>${timeline.execution ?? ''}</code>, ${timeline.status ?? 'running'}${timeline.error ? html`: ${timeline.error.name}` : ''}), ${formatDuration(timeline.totalMs)} in all.`
          : html`From the ledger's per-step handler timings (no execution history here): the states' own times, laid end to end.`
      }</p>
${
  runs > 1
    ? html`<nav aria-label="Executions of this job"><p>Executions: ${Array.from({ length: runs }, (_, index) =>
        index === shown ? html`<strong aria-current="page">#${index + 1}</strong> ` : html`<a href="/jobs/${record.jobId}/timeline?run=${index}">#${index + 1}</a> `,
      )}</p></nav>`
    : ''
}
<div class="timeline-wrap">${chart(timeline)}</div>
<div class="table-wrap"><table data-testid="timeline-table">
<caption>States</caption>
<thead><tr><th scope="col">State</th><th scope="col">Start</th><th scope="col">Duration</th><th scope="col">Retries</th><th scope="col">Error</th></tr></thead>
<tbody>${timeline.bars.map(
  (bar) => html`<tr><th scope="row">${bar.state}</th><td class="num">${formatDuration(bar.start)}</td><td class="num">${formatDuration(bar.end - bar.start)}${bar.running ? ' (running)' : ''}</td><td class="num">${bar.retries.length}</td><td>${bar.error ?? ''}</td></tr>`,
)}</tbody>
</table></div>`
}`;
}
