import { html } from 'hono/html';

/** What a view returns: escaped HTML (hono/html escapes every interpolated value). */
export type Html = ReturnType<typeof html>;

export type Section = 'jobs' | 'upload' | 'totals';

export interface PageOptions {
  title: string;
  section?: Section;
  /** Where the data comes from (header note). */
  where: string;
  /** Attributes the client script reads (live updates). */
  live?: { since: string; job?: string };
  body: Html;
}

const NAV: Array<{ section: Section; href: string; label: string }> = [
  { section: 'jobs', href: '/', label: 'Jobs' },
  { section: 'upload', href: '/upload', label: 'Upload' },
  { section: 'totals', href: '/totals', label: 'Totals' },
];

export function page(options: PageOptions): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · imgflow console</title>
<link rel="stylesheet" href="/assets/console.css">
<link rel="icon" href="data:,">
<script src="/assets/client.js" defer></script>
</head>
<body${options.live ? html` data-live-since="${options.live.since}"${options.live.job ? html` data-live-job="${options.live.job}"` : ''}` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand"><a href="/">imgflow console</a></p>
<nav aria-label="Sections"><ul>
${NAV.map(
  (item) =>
    html`<li><a href="${item.href}" data-testid="nav-${item.section}"${item.section === options.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
)}
</ul></nav>
<p class="where">${options.where}</p>
</header>
<main id="main">
${options.body}
</main>
</body>
</html>`;
}

/** A status as a labelled badge (colour is never the only cue: the word is there). */
export function statusBadge(status: string): Html {
  return html`<span class="status status-${status.toLowerCase()}" data-testid="job-status">${status}</span>`;
}
