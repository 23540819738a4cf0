/** Light / dark / auto theme, persisted in localStorage `app-theme`; auto follows prefers-color-scheme. */
import { loadString, saveString } from './storage';

export type ThemeMode = 'light' | 'dark' | 'auto';
const STORAGE_KEY = 'app-theme';
const MODES: ThemeMode[] = ['light', 'dark', 'auto'];

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

function storedMode(): ThemeMode {
  const value = loadString(STORAGE_KEY);
  return MODES.includes(value as ThemeMode) ? (value as ThemeMode) : 'auto';
}

class ThemeState {
  mode = $state<ThemeMode>(storedMode());
  systemDark = $state(darkQuery.matches);
  effective = $derived<'light' | 'dark'>(
    this.mode === 'auto' ? (this.systemDark ? 'dark' : 'light') : this.mode,
  );
}

export const theme = new ThemeState();

function apply(): void {
  const root = document.documentElement;
  root.dataset.theme = theme.effective;
  root.classList.toggle('dark', theme.effective === 'dark');
}

export function setTheme(mode: ThemeMode): void {
  theme.mode = mode;
  saveString(STORAGE_KEY, mode);
  apply();
}

export function cycleTheme(): void {
  const next = MODES[(MODES.indexOf(theme.mode) + 1) % MODES.length] ?? 'auto';
  setTheme(next);
}

export function startTheme(): () => void {
  apply();
  const onSystemChange = (event: MediaQueryListEvent) => {
    theme.systemDark = event.matches;
    apply();
  };
  const onStorage = (event: StorageEvent) => {
    if (event.key !== STORAGE_KEY) return;
    theme.mode = storedMode();
    apply();
  };
  darkQuery.addEventListener('change', onSystemChange);
  window.addEventListener('storage', onStorage);
  return () => {
    darkQuery.removeEventListener('change', onSystemChange);
    window.removeEventListener('storage', onStorage);
  };
}
