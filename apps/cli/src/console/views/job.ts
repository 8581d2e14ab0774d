import type { JobRecord } from '@imgflow/pipeline';
import { html } from 'hono/html';
import { formatBytes, formatDuration } from '../../ui/format.js';
import { savings, stepMillis } from '../summary.js';
import { dimensions } from './jobs.js';
import { type Html, statusBadge } from './layout.js';

/** Formats an <img> shows: the original is displayed only in one of these. */
const DISPLAYABLE = new Set(['jpeg', 'png', 'webp', 'gif', 'avif']);
const HEX_COLOUR = /^#[0-9a-f]{6}$/i;

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function originalFigure(record: JobRecord): Html {
  const shown = record.format !== undefined && DISPLAYABLE.has(record.format);
  return html`<figure class="output original" data-testid="original" data-width="${record.width ?? ''}" data-height="${record.height ?? ''}">
${
  shown
    ? html`<img src="/media/${record.jobId}/original" alt="Original of ${record.sourceKey}" data-testid="original-image">`
    : html`<div class="no-preview" role="img" aria-label="No preview of the original">no preview${record.format ? ` (${record.format})` : ''}</div>`
}
<figcaption><strong>Original</strong> ${record.format ?? '?'} · ${dimensions(record)} · ${formatBytes(record.size)}
${shown ? html`<button type="button" class="compare-toggle" data-testid="compare-button" data-compare-src="/media/${record.jobId}/original" data-compare-label="original" data-compare-width="${record.width ?? ''}" aria-pressed="false">Compare</button>` : ''}</figcaption>
</figure>`;
}

function placeholderBlock(record: JobRecord): Html {
  const placeholder = record.placeholder;
  if (!placeholder) return html``;
  const colour = HEX_COLOUR.test(placeholder.dominantColor) ? placeholder.dominantColor : undefined;
  return html`<section class="placeholder" aria-labelledby="placeholder-title" data-testid="placeholder">
<h2 id="placeholder-title">Placeholder</h2>
<div class="placeholder-items">
${
  placeholder.hash && placeholder.kind !== 'none'
    ? html`<figure><img src="/media/${record.jobId}/placeholder.png" alt="${placeholder.kind === 'thumbhash' ? 'ThumbHash' : 'BlurHash'} placeholder of ${record.sourceKey}" class="placeholder-image" data-testid="placeholder-image">
<figcaption>${placeholder.kind} <code class="hash">${placeholder.hash}</code></figcaption></figure>`
    : ''
}
${
  colour
    ? html`<figure><div class="swatch" style="background-color: ${colour}" role="img" aria-label="Dominant colour ${colour}" data-testid="dominant-colour"></div>
<figcaption>dominant colour <code>${colour}</code></figcaption></figure>`
    : ''
}
</div>
</section>`;
}

export function jobView(record: JobRecord): Html {
  const outputs = record.outputs ?? [];
  return html`<p class="crumbs"><a href="/">Jobs</a> › <span>${record.sourceKey}</span></p>
<h1 class="key-title" data-testid="job-title">${record.sourceKey}</h1>
<dl class="facts" data-testid="job-facts">
<div><dt>Status</dt><dd>${statusBadge(record.status)}${record.cacheHit ? html` <span class="note">cached${record.cachedFrom ? html` from <a href="/jobs/${record.cachedFrom}">${record.cachedFrom}</a>` : ''}</span>` : ''}</dd></div>
${record.reasonCode ? html`<div><dt>Reason</dt><dd data-testid="job-reason"><strong>${record.reasonCode}</strong>${record.reasonMessage ? html`: ${record.reasonMessage}` : ''}</dd></div>` : ''}
<div><dt>Job id</dt><dd><code>${record.jobId}</code></dd></div>
<div><dt>Source</dt><dd><code>s3://${record.sourceBucket}/${record.sourceKey}</code></dd></div>
<div><dt>Step time</dt><dd>${formatDuration(stepMillis(record))} · <a href="/jobs/${record.jobId}/timeline" data-testid="timeline-link">Timeline</a></dd></div>
<div><dt>Attempts</dt><dd>${record.attempts ?? 1}</dd></div>
<div><dt>Updated</dt><dd><time datetime="${record.updatedAt}">${record.updatedAt}</time></dd></div>
</dl>
${placeholderBlock(record)}
<section aria-labelledby="outputs-title">
<h2 id="outputs-title">Original and renditions</h2>
<p class="hint">Press <em>Compare</em> on two pictures to see them side by side at the same scale.</p>
<div class="outputs" data-testid="outputs">
${originalFigure(record)}
${outputs.map(
  (output, index) => html`<figure class="output" data-testid="rendition" data-rendition="${output.rendition}" data-format="${output.format}" data-width="${output.width}" data-height="${output.height}">
<img src="/media/${record.jobId}/outputs/${index}" alt="${output.rendition} rendition of ${record.sourceKey} in ${output.format}, ${output.width}×${output.height}" data-testid="rendition-image">
<figcaption><strong>${output.rendition}</strong> ${output.format} · ${output.width}×${output.height} · ${formatBytes(output.bytes)}
· <span data-testid="rendition-savings">${percent(savings(output.bytes, record.size))} smaller</span>${output.autoQuality ? html`
· <span data-testid="rendition-quality" title="quality: auto (${output.autoQuality.metric}, target ${output.autoQuality.target})">q${output.autoQuality.quality}, ${output.autoQuality.metric.toUpperCase()} ${output.autoQuality.score.toFixed(3)}${output.autoQuality.met ? '' : ` below its target ${output.autoQuality.target}`}</span>` : ''}
<button type="button" class="compare-toggle" data-testid="compare-button" data-compare-src="/media/${record.jobId}/outputs/${index}" data-compare-label="${output.rendition} ${output.format}" data-compare-width="${output.width}" aria-pressed="false">Compare</button></figcaption>
</figure>`,
)}
</div>
${outputs.length === 0 ? html`<p class="empty">No renditions${record.status === 'SUCCEEDED' ? '' : ` (${record.status})`}.</p>` : ''}
</section>
<section class="compare" aria-labelledby="compare-title" data-testid="compare" hidden>
<h2 id="compare-title">Compare</h2>
<div class="compare-panes" data-testid="compare-panes" aria-live="polite"></div>
<button type="button" data-testid="compare-clear">Clear</button>
</section>`;
}
