/** Short-lived messages in the corner of the screen. */

export type ToastKind = 'info' | 'success' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

class ToastState {
  items = $state<Toast[]>([]);
}

export const toasts = new ToastState();
let nextId = 1;

export function dismissToast(id: number): void {
  toasts.items = toasts.items.filter((toast) => toast.id !== id);
}

export function showToast(text: string, kind: ToastKind = 'info', durationMs = 4500): void {
  const id = nextId++;
  toasts.items = [...toasts.items.slice(-3), { id, kind, text }];
  window.setTimeout(() => dismissToast(id), durationMs);
}
