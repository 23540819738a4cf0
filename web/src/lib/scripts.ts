/** Saved scripts: the /scripts API, and turning scripts into files and back. */
import { request } from './api';
import type { SavedScript, SavedScriptPage } from './types';

/** The server's bound on a script (and on a run), checked before uploading so the message is immediate. */
export const MAX_SCRIPT_CHARS = 50_000;

export const FILE_EXTENSIONS: Record<string, string> = {
  python: 'py',
  node: 'js',
  ruby: 'rb',
  go: 'go',
  bash: 'sh',
};

const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  ...Object.fromEntries(Object.entries(FILE_EXTENSIONS).map(([lang, ext]) => [ext, lang])),
  mjs: 'node',
  cjs: 'node',
  bash: 'bash',
};

/** The language a file name suggests, or null when its extension says nothing we run. */
export function languageForFile(fileName: string): string | null {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return null;
  return LANGUAGE_BY_EXTENSION[fileName.slice(dot + 1).toLowerCase()] ?? null;
}

/** A safe download name: the script's name without path characters, ending in the language's extension. */
export function exportFileName(name: string, lang: string): string {
  const ext = FILE_EXTENSIONS[lang] ?? 'txt';
  const base =
    name
      .trim()
      .replace(/[\\/:*?"<>|\p{Cc}]+/gu, '_')
      .replace(/^\.+/, '') || 'script';
  return base.toLowerCase().endsWith(`.${ext}`) ? base : `${base}.${ext}`;
}

/** A script's name from an uploaded file: the file name, cut to what the server accepts. */
export const nameFromFile = (fileName: string): string => fileName.trim().slice(0, 100) || 'Uploaded script';

export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked after the click has been handled, or some browsers cancel the download.
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export interface ScriptDraft {
  name: string;
  script: string;
  lang: string;
  lang_version?: string;
  description?: string | null;
}

export const listScripts = (limit: number, offset: number) =>
  request<SavedScriptPage>('/scripts', { query: { limit, offset } });

export const getScript = (id: string) => request<SavedScript>(`/scripts/${encodeURIComponent(id)}`);

export const createScript = (draft: ScriptDraft) =>
  request<SavedScript>('/scripts', { method: 'POST', json: draft });

export const updateScript = (id: string, patch: Partial<ScriptDraft>) =>
  request<SavedScript>(`/scripts/${encodeURIComponent(id)}`, { method: 'PUT', json: patch });

export const deleteScript = (id: string) =>
  request<null>(`/scripts/${encodeURIComponent(id)}`, { method: 'DELETE' });
