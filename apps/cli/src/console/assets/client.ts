/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The console's only script (built by tsup into dist/console/client.js): live updates from the
// server's event stream, the compare view, drag-and-drop uploads. Pages work without it.

interface JobEvent {
  job: { jobId: string; status: string; sourceKey: string; reasonCode?: string };
  total: number;
  row: string;
}

const known = new Map<string, JobEvent['job']>();

function rowFrom(html: string): HTMLTableRowElement | undefined {
  const template = document.createElement('template');
  template.innerHTML = html.trim();
  const row = template.content.firstElementChild;
  return row instanceof HTMLTableRowElement ? row : undefined;
}

function currentFilter(): { status: string; q: string } {
  const params = new URLSearchParams(location.search);
  return { status: (params.get('status') ?? '').toUpperCase(), q: (params.get('q') ?? '').trim().toLowerCase() };
}

function updateJobsTable(event: JobEvent): void {
  const body = document.querySelector<HTMLTableSectionElement>('[data-testid="jobs-body"]');
  if (!body) return;
  const filter = currentFilter();
  const fits = (!filter.status || event.job.status === filter.status) && (!filter.q || event.job.sourceKey.toLowerCase().includes(filter.q));
  const existing = body.querySelector<HTMLTableRowElement>(`tr[data-job-id="${CSS.escape(event.job.jobId)}"]`);
  const row = fits ? rowFrom(event.row) : undefined;
  if (existing && row) existing.replaceWith(row);
  else if (existing) existing.remove();
  else if (row) body.prepend(row);
  const count = document.querySelector('[data-testid="jobs-count"]');
  if (count) count.textContent = `${body.rows.length} of ${event.total} jobs`;
  document.querySelector('[data-testid="jobs-empty"]')?.remove();
}

function updateUploads(job: JobEvent['job']): void {
  const item = document.querySelector<HTMLLIElement>(`[data-testid="upload-item"][data-job-id="${CSS.escape(job.jobId)}"]`);
  if (!item) return;
  item.dataset.status = job.status;
  const status = item.querySelector('[data-testid="upload-status"]');
  if (status) {
    status.textContent = job.reasonCode ? `${job.status} ${job.reasonCode}` : job.status;
    status.className = `status status-${job.status.toLowerCase()}`;
  }
}

function listen(): void {
  const since = document.body.dataset.liveSince;
  if (!since || typeof EventSource === 'undefined') return;
  const liveJob = document.body.dataset.liveJob;
  const source = new EventSource(`/api/events?since=${encodeURIComponent(since)}`);
  source.addEventListener('job', (message) => {
    const event = JSON.parse((message as MessageEvent<string>).data) as JobEvent;
    const before = known.get(event.job.jobId);
    known.set(event.job.jobId, event.job);
    updateJobsTable(event);
    updateUploads(event.job);
    if (liveJob === event.job.jobId) {
      const shown = document.querySelector('[data-testid="job-facts"] [data-testid="job-status"]')?.textContent;
      // The job page shows one job: when it changes, it is read again.
      if (shown !== event.job.status || (before && before.status !== event.job.status)) location.reload();
    }
  });
}

// Compare: two pictures side by side, at one scale (the wider fits half the panel).
function setUpCompare(): void {
  const panel = document.querySelector<HTMLElement>('[data-testid="compare"]');
  const panes = document.querySelector<HTMLElement>('[data-testid="compare-panes"]');
  if (!panel || !panes) return;
  const chosen: HTMLButtonElement[] = [];
  const draw = () => {
    panes.replaceChildren();
    panel.hidden = chosen.length === 0;
    const widths = chosen.map((button) => Number(button.dataset.compareWidth) || 1);
    const room = Math.max(120, (panes.clientWidth || document.body.clientWidth) / 2 - 16);
    const scale = Math.min(1, room / Math.max(...widths, 1));
    chosen.forEach((button, index) => {
      const figure = document.createElement('figure');
      figure.dataset.testid = 'compare-pane';
      const image = document.createElement('img');
      image.src = button.dataset.compareSrc ?? '';
      image.alt = `Compared: ${button.dataset.compareLabel ?? ''}`;
      image.style.width = `${Math.round((widths[index] ?? 1) * scale)}px`;
      image.style.maxWidth = 'none';
      const caption = document.createElement('figcaption');
      caption.textContent = `${button.dataset.compareLabel ?? ''} at ${Math.round(scale * 100)}%`;
      figure.append(image, caption);
      panes.append(figure);
    });
  };
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-testid="compare-button"]')) {
    button.addEventListener('click', () => {
      const at = chosen.indexOf(button);
      if (at >= 0) chosen.splice(at, 1);
      else {
        chosen.push(button);
        if (chosen.length > 2) chosen.shift()?.setAttribute('aria-pressed', 'false');
      }
      button.setAttribute('aria-pressed', String(chosen.includes(button)));
      draw();
    });
  }
  document.querySelector('[data-testid="compare-clear"]')?.addEventListener('click', () => {
    for (const button of chosen.splice(0)) button.setAttribute('aria-pressed', 'false');
    draw();
  });
}

// Upload: dropped or chosen files, one request each; their rows follow the event stream.
async function uploadFile(file: File, list: HTMLElement): Promise<void> {
  const item = document.createElement('li');
  item.dataset.testid = 'upload-item';
  const name = document.createElement('span');
  name.className = 'upload-name';
  name.textContent = file.name;
  const status = document.createElement('span');
  status.dataset.testid = 'upload-status';
  status.className = 'status';
  status.textContent = 'UPLOADING';
  item.append(name, ' ', status);
  list.append(item);
  try {
    const response = await fetch(`/api/uploads?name=${encodeURIComponent(file.name)}`, {
      method: 'POST',
      headers: { 'Content-Type': file.type || 'application/octet-stream' },
      body: file,
    });
    const result = (await response.json()) as { jobId?: string; error?: string };
    if (!response.ok || !result.jobId) throw new Error(result.error ?? `HTTP ${response.status}`);
    item.dataset.jobId = result.jobId;
    const link = document.createElement('a');
    link.href = `/jobs/${result.jobId}`;
    link.textContent = file.name;
    name.replaceChildren(link);
    status.textContent = 'PENDING';
    const seen = known.get(result.jobId);
    if (seen) updateUploads(seen);
  } catch (error) {
    status.textContent = `UPLOAD FAILED: ${(error as Error).message}`;
    status.className = 'status status-failed';
  }
}

function setUpUpload(): void {
  const zone = document.querySelector<HTMLFormElement>('[data-testid="dropzone"]');
  const list = document.querySelector<HTMLElement>('[data-testid="upload-list"]');
  const input = document.querySelector<HTMLInputElement>('[data-testid="upload-input"]');
  if (!zone || !list) return;
  const send = (files: FileList | null | undefined) => {
    for (const file of Array.from(files ?? [])) void uploadFile(file, list);
  };
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    send(event.dataTransfer?.files);
  });
  zone.addEventListener('submit', (event) => {
    event.preventDefault();
    send(input?.files);
    if (input) input.value = '';
  });
  input?.addEventListener('change', () => {
    send(input.files);
    input.value = '';
  });
}

// Everything starts once the page is parsed (the script is deferred anyway).
document.addEventListener('DOMContentLoaded', () => {
  listen();
  setUpCompare();
  setUpUpload();
});
