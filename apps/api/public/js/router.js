// A tiny hash router. Each route's view gets the matched parameters and a context whose `signal`
// aborts (and whose `onLeave` callbacks run) when the user navigates away, so a slow response or
// a live stream of the previous page never touches the new one.

export function createRouter(routes, outlet) {
  let current = null;

  async function render() {
    current?.abort.abort();
    for (const f of current?.leave ?? []) f();
    const abort = new AbortController();
    const ctx = {
      signal: abort.signal,
      leave: [],
      onLeave(f) {
        this.leave.push(f);
      },
      get alive() {
        return !abort.signal.aborted;
      },
    };
    current = { abort, leave: ctx.leave };
    const hash = location.hash.replace(/^#/, '') || '/';
    for (const { pattern, view } of routes) {
      const m = hash.match(pattern);
      if (!m) continue;
      try {
        await view(outlet, ctx, ...m.slice(1).map(decodeURIComponent));
      } catch (err) {
        if (ctx.alive && err.name !== 'AbortError') {
          outlet.innerHTML = '<div class="card error" role="alert"></div>';
          outlet.firstChild.textContent = err.message;
        }
      }
      return;
    }
    outlet.innerHTML = '<div class="card">Page not found. <a href="#/">All searches</a></div>';
  }

  window.addEventListener('hashchange', render);
  return { render };
}
