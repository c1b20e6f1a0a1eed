// Hash routes (#/cases/123): the console is static files, so any URL the server knows is index.html.

export class Router {
  constructor(routes, onRoute) {
    this.routes = routes.map(([pattern, view]) => [new RegExp(`^${pattern.replace(/:(\w+)/g, "(?<$1>[^/]+)")}$`), view]);
    this.onRoute = onRoute;
    window.addEventListener("hashchange", () => this.resolve());
  }

  resolve() {
    const path = window.location.hash.replace(/^#/, "") || "/";
    const [pathname, search = ""] = path.split("?");
    for (const [pattern, view] of this.routes) {
      const match = pattern.exec(pathname);
      if (match) return this.onRoute(view, { ...(match.groups || {}) }, new URLSearchParams(search), pathname);
    }
    return this.onRoute(null, {}, new URLSearchParams(), pathname);
  }
}

export function navigate(path) {
  if (window.location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = path;
}
