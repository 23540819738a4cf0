/** Svelte action for popovers: calls `close` on a pointer press outside the node or on Escape. */
export function dismissable(node: HTMLElement, close: () => void) {
  let onClose = close;
  const onPointer = (event: PointerEvent) => {
    if (!node.contains(event.target as Node)) onClose();
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') onClose();
  };
  document.addEventListener('pointerdown', onPointer, true);
  document.addEventListener('keydown', onKey);
  return {
    update(next: () => void) {
      onClose = next;
    },
    destroy() {
      document.removeEventListener('pointerdown', onPointer, true);
      document.removeEventListener('keydown', onKey);
    },
  };
}
