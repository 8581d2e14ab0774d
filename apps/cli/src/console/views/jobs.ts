import { html } from 'hono/html';
import { STATUSES } from '../../commands/status.js';
import { formatBytes, formatDuration } from '../../ui/format.js';
import type { JobSummary } from '../summary.js';
import { type Html, statusBadge } from './layout.js';

export interface JobFilter {
  status?: string;
  q?: string;
}

/** Whether a job passes the filter: its status, and the search text anywhere in its key (case-insensitive). */
export function matches(job: Pick<JobSummary, 'status' | 'sourceKey'>, filter: JobFilter): boolean {
  if (filter.status && job.status !== filter.status) return false;
  if (filter.q && !job.sourceKey.toLowerCase().includes(filter.q.toLowerCase())) return false;
  return true;
}

export function dimensions(job: { width?: number; height?: number }): string {
  return job.width !== undefined && job.height !== undefined ? `${job.width}×${job.height}` : '-';
}

/** One job's row: also what the server pushes (server-sent events) when the job changes. */
export function jobRow(job: JobSummary): Html {
  const href = `/jobs/${job.jobId}`;
  return html`<tr data-testid="job-row" data-job-id="${job.jobId}" data-status="${job.status}" data-key="${job.sourceKey}">
<td class="thumb">${
    job.thumbnail
      ? html`<img src="/media/${job.jobId}/thumbnail" alt="Thumbnail of ${job.sourceKey}" width="64" height="48" data-testid="job-thumbnail">`
      : html`<span class="no-thumb" aria-label="No preview">–</span>`
  }</td>
<th scope="row" class="key"><a href="${href}" data-testid="job-link">${job.sourceKey}</a></th>
<td>${statusBadge(job.status)}${job.cacheHit ? html` <span class="note">cached</span>` : ''}</td>
<td class="num" data-label="Size">${formatBytes(job.size)}</td>
<td data-label="Format">${job.format ?? '-'}</td>
<td class="num" data-label="Dimensions">${dimensions(job)}</td>
<td data-label="Reason" data-testid="job-reason"${job.reasonMessage ? html` title="${job.reasonMessage}"` : ''}>${job.reasonCode ?? ''}</td>
<td class="num" data-label="Time">${formatDuration(job.stepMs)}</td>
</tr>`;
}

export function jobsView(jobs: readonly JobSummary[], filter: JobFilter, total: number): Html {
  const shown = jobs.filter((job) => matches(job, filter));
  return html`<h1>Jobs</h1>
<form class="filters" method="get" action="/" role="search" data-testid="jobs-filter">
<label>Status
<select name="status" data-testid="filter-status">
<option value="">All</option>
${STATUSES.map((status) => html`<option value="${status}"${filter.status === status ? html` selected` : ''}>${status}</option>`)}
</select></label>
<label>Key contains
<input type="search" name="q" value="${filter.q ?? ''}" data-testid="filter-search" autocomplete="off"></label>
<button type="submit">Filter</button>
</form>
<p class="count" data-testid="jobs-count" aria-live="polite">${shown.length} of ${total} jobs</p>
<div class="table-wrap">
<table class="jobs" data-testid="jobs-table">
<caption class="visually-hidden">Every job in the ledger, newest first</caption>
<thead><tr><th scope="col"><span class="visually-hidden">Thumbnail</span></th><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Size</th><th scope="col">Format</th><th scope="col">Dimensions</th><th scope="col">Reason</th><th scope="col">Time</th></tr></thead>
<tbody data-testid="jobs-body">
${shown.map((job) => jobRow(job))}
</tbody>
</table>
</div>
${total === 0 ? html`<p class="empty" data-testid="jobs-empty">No jobs yet: run <code>imgflow run &lt;files&gt;</code>, or <a href="/upload">upload</a> some images.</p>` : ''}`;
}
