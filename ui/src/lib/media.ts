// Voice notes and videos: WebKitGTK's media player cannot read the app's own `media:` scheme
// (images can), so the page fetches the file from it and plays it from memory (`blob:`). The
// file still comes only from the app, never from the network; the blob is freed with its element.

/** A Svelte action: plays `url` (a `media://localhost/…` file) in this audio or video element. */
export function mediaSource(node: HTMLMediaElement, url: string) {
  let current: string | null = null;
  let alive = true;
  const load = async (u: string) => {
    try {
      const resp = await fetch(u);
      if (!resp.ok) throw new Error(`${resp.status}`);
      const blob = await resp.blob();
      if (!alive) return;
      if (current) URL.revokeObjectURL(current);
      current = URL.createObjectURL(blob);
      node.src = current;
    } catch {
      // Not cached and the hub out of reach: the element says so (its error handler).
      if (alive) node.dispatchEvent(new Event('error'));
    }
  };
  let shown = url;
  void load(url);
  return {
    // A redraw of the same message keeps what plays (and where it is); another file loads.
    update(next: string) {
      if (next === shown) return;
      shown = next;
      void load(next);
    },
    destroy() {
      alive = false;
      if (current) URL.revokeObjectURL(current);
    },
  };
}

/** A Svelte action: the image loads `url` only while it is near the screen, and lets it go
 * when it is far (its box keeps its height, so nothing moves): a conversation of hundreds of
 * photos holds only those around the reader in memory. */
export function nearScreen(node: HTMLImageElement, url: string) {
  let current = url;
  if (typeof IntersectionObserver === 'undefined') {
    node.src = url;
    return { update: (next: string) => void (node.src = current = next) };
  }
  const observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (e.isIntersecting) {
          if (node.getAttribute('src') !== current) node.src = current;
        } else if (node.hasAttribute('src')) {
          node.removeAttribute('src');
        }
      }
    },
    // About three screens above and below.
    { rootMargin: '2000px 0px' },
  );
  observer.observe(node);
  return {
    update(next: string) {
      current = next;
      if (node.hasAttribute('src')) node.src = next;
    },
    destroy() {
      observer.disconnect();
    },
  };
}
