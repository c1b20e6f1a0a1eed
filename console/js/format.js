// How values read to a person: dates, ages, amounts and the API's enumerations.

const thisYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const otherYear = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (date.getFullYear() === new Date().getFullYear() ? thisYear : otherYear).format(date);
}

export function ago(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  return duration(Math.abs(seconds)) + (seconds >= 0 ? " ago" : " from now");
}

export function duration(seconds) {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

export function timeElement(iso) {
  const el = document.createElement("time");
  el.dateTime = iso || "";
  el.textContent = when(iso);
  el.title = `${new Date(iso).toLocaleString()} (${ago(iso)})`;
  return el;
}

export function money(amount, currency) {
  if (amount === undefined || amount === null || amount === "") return "—";
  const value = Number(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "EUR" }).format(value);
  } catch {
    return `${amount} ${currency || ""}`.trim();
  }
}

export function label(value) {
  if (!value) return "—";
  return String(value).toLowerCase().replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

const TONES = {
  NEW: "info", OPEN: "info", IN_PROGRESS: "info", REOPENED: "info",
  PENDING_DOCUMENTS: "warn", PENDING_APPROVAL: "warn", PENDING: "warn", PROCESSING: "warn", COMPENSATION: "warn",
  APPROVED: "ok", RESOLVED: "ok", CLOSED: "done", READY: "ok", DONE: "done", PAID: "ok", SUCCEEDED: "ok",
  REJECTED: "bad", QUARANTINED: "bad", NEEDS_ATTENTION: "bad", FAILED: "bad", EXPIRED: "done", CANCELLED: "done",
  VOIDED: "done", ON_HOLD: "bad", RETIRED: "done", ACTIVE: "ok", OK: "ok", STALE: "warn", UNAVAILABLE: "bad", NOT_FOUND: "done", LOW: "done", MEDIUM: "info", HIGH: "warn", CRITICAL: "bad",
};

export function badge(value, { prefix = "" } = {}) {
  const el = document.createElement("span");
  el.className = `badge badge-${TONES[value] || "neutral"}`;
  el.textContent = label(value);
  if (prefix) el.setAttribute("aria-label", `${prefix}: ${label(value)}`);
  return el;
}
