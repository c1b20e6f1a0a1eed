// The cases API: every call sends the ID token; every failure becomes an ApiError carrying the API's
// error format ({"error": {"code", "message", "details": [{"field", "issue"}]}}).

const TITLES = {
  400: "Please check the form.", 401: "You are signed out.", 403: "Not allowed.", 404: "Not found.",
  409: "Conflict.", 412: "Someone changed this meanwhile.", 413: "Too large.", 429: "Too many requests.",
  501: "Not available yet.", 503: "A service is unavailable.",
};

export class ApiError extends Error {
  constructor(status, body, requestId) {
    const error = (body && body.error) || {};
    super(error.message || (status ? `The server answered HTTP ${status}.` : "The server cannot be reached."));
    this.status = status;
    this.code = error.code || null;
    this.details = Array.isArray(error.details) ? error.details : [];
    this.requestId = requestId || null;
    this.title = TITLES[status] || (status >= 500 ? "The server failed." : "Request failed.");
  }
}

export class Api {
  constructor(config, session) {
    this.base = config.apiBaseUrl;
    this.session = session;
  }

  async request(method, path, { body, query, headers = {} } = {}) {
    const url = new URL(this.base + path, window.location.href);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    const token = await this.session.idToken();
    const init = { method, headers: { Authorization: `Bearer ${token}`, ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, { error: { message: "The API cannot be reached. Check your connection and try again." } });
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const error = new ApiError(response.status, json, response.headers.get("X-Request-Id"));
      if (response.status === 401) this.session.signOut("Your session has expired. Please sign in again.");
      throw error;
    }
    return json;
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }

  // Every item of a paged listing, following `nextCursor` (100 a page, at most `maxPages` pages); `nextCursor`
  // is left set when there was more than that.
  async all(path, query, maxPages = 20) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < maxPages; page += 1) {
      const result = await this.get(path, { ...query, limit: 100, cursor });
      items.push(...result.items);
      cursor = result.nextCursor || null;
      if (!cursor) break;
    }
    return { items, nextCursor: cursor };
  }

  post(path, body, headers) {
    return this.request("POST", path, { body: body === undefined ? {} : body, headers });
  }

  put(path, body, headers) {
    return this.request("PUT", path, { body, headers });
  }
}

// Sends a presigned S3 POST form with the file last, reporting progress; resolves when S3 accepted it.
export function uploadToS3(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new Error(`The storage service refused the upload (HTTP ${xhr.status}).`));
    });
    xhr.addEventListener("error", () => reject(new Error("The upload was interrupted. Try again.")));
    xhr.send(form);
  });
}
