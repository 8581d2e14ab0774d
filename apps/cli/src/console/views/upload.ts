import { html } from 'hono/html';
import type { Html } from './layout.js';

export function uploadView(enabled: boolean, target: string): Html {
  if (!enabled) {
    return html`<h1>Upload</h1><p class="empty" data-testid="upload-disabled">Uploads need the upload bucket: give <code>--bucket</code> with <code>--remote</code>.</p>`;
  }
  return html`<h1>Upload</h1>
<p>Each file goes into ${target} under <code>uploads/</code>, which starts the workflow for it, as <code>imgflow run</code> does.</p>
<form class="dropzone" data-testid="dropzone" method="post" action="/api/uploads" enctype="multipart/form-data">
<p><strong>Drop images here</strong>, or choose them:</p>
<label class="file-label">Images <input type="file" name="file" multiple accept="image/*,.heic,.heif" data-testid="upload-input"></label>
<button type="submit" data-testid="upload-submit">Upload</button>
</form>
<h2>Uploaded here</h2>
<ul class="uploads" data-testid="upload-list" aria-live="polite"></ul>`;
}
