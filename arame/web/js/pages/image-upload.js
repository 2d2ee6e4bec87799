// An image's bytes from the browser to PUT /v1/images/{id}/data: the
// file's sha256 (the storage node checks the bytes against it) and the
// upload itself, streamed by XMLHttpRequest because fetch() reports no
// upload progress.

import * as api from '../api.js';
import * as session from '../session.js';

/** The file's sha256 as 64 hex digits, or null where the browser has no
 *  WebCrypto (a page served over plain http from another host): the user
 *  then gives it. */
export async function sha256(file) {
  if (!globalThis.crypto || !crypto.subtle) return null;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * PUT the file as the image's data: upload(imageId, file, {sha256,
 * onProgress(loaded, total)}) -> {done: Promise<image>, abort()}. The
 * browser sends the file from disk with its Content-Length; an error
 * answer rejects with the API's ApiError.
 */
export function upload(imageId, file, { sha256: sha, onProgress = () => {} } = {}) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open('PUT', `/v1/images/${encodeURIComponent(imageId)}/data`);
    const s = session.load();
    if (s) xhr.setRequestHeader('Authorization', `Bearer ${s.token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (sha) xhr.setRequestHeader('X-Image-Sha256', sha);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve(data);
        return;
      }
      const err = new api.ApiError(xhr.status, data && data.error);
      // The session ended meanwhile: one ordinary call lets api.js send
      // the user back to sign in, as every other 401 does.
      if (xhr.status === 401) api.get('/v1/images').catch(() => {});
      reject(err);
    });
    xhr.addEventListener('error', () =>
      reject(new api.ApiError(0, { code: 'unreachable', message: 'The upload was cut off: the API cannot be reached.' })),
    );
    xhr.addEventListener('abort', () => reject(new api.ApiError(0, { code: 'cancelled', message: 'Upload cancelled.' })));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
