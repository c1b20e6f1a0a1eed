// The case workflow drawn from its ASL (the same file Step Functions runs): states laid out in layers by
// their longest path from StartAt, the longest path itself on the first row, branches and escalations
// below, the catch-all failure handlers on a row of their own. The current state is highlighted.
import { h } from "../../dom.js";

const TASK = { w: 92, h: 42 };
const CHOICE = { w: 26, h: 26 };
const GAP_X = 26;
const ROW_Y = [72, 160, 236];
const PAD = 16;

export function stateTransitions(state) {
  const edges = [];
  if (state.Next) edges.push({ to: state.Next, kind: "next" });
  for (const choice of state.Choices || []) edges.push({ to: choice.Next, kind: "choice" });
  if (state.Default) edges.push({ to: state.Default, kind: "default" });
  for (const handler of state.Catch || []) {
    const timeout = (handler.ErrorEquals || []).includes("States.Timeout");
    edges.push({ to: handler.Next, kind: "catch", label: timeout ? "timeout" : "error" });
  }
  return edges;
}

// Positions for every state, the edges to draw, and the failure handlers every task shares.
export function layoutAsl(asl) {
  const states = asl.States;
  const names = Object.keys(states);
  const catchers = names.filter((n) => (states[n].Catch || []).length);
  const catchCounts = new Map();
  for (const n of catchers) for (const handler of states[n].Catch) catchCounts.set(handler.Next, (catchCounts.get(handler.Next) || 0) + 1);
  // A handler most states share (the saga's Rollback) is shown once, not as an edge from every state.
  const shared = new Set([...catchCounts].filter(([, count]) => count > catchers.length / 2).map(([name]) => name));
  for (const name of [...shared]) for (const e of stateTransitions(states[name])) shared.add(e.to);

  const forward = new Map(names.map((n) => [n, []]));
  const back = [];
  const colour = new Map();
  const order = [];
  const visit = (name) => {
    colour.set(name, "grey");
    for (const edge of stateTransitions(states[name])) {
      if (shared.has(edge.to) && !shared.has(name)) continue;
      if (colour.get(edge.to) === "grey") back.push({ from: name, ...edge });
      else {
        forward.get(name).push(edge);
        if (!colour.has(edge.to)) visit(edge.to);
      }
    }
    colour.set(name, "black");
    order.unshift(name);
  };
  visit(asl.StartAt);
  for (const name of shared) if (!colour.has(name)) visit(name);

  const layer = new Map(names.map((n) => [n, 0]));
  for (const name of order) for (const edge of forward.get(name)) layer.set(edge.to, Math.max(layer.get(edge.to), layer.get(name) + 1));
  const best = new Map();
  for (const name of order) {
    for (const edge of forward.get(name)) if (layer.get(edge.to) === layer.get(name) + 1 && !best.has(edge.to)) best.set(edge.to, name);
  }
  const mainNodes = names.filter((n) => !shared.has(n) && colour.has(n));
  // The first row ends where the workflow ends: the deepest state that ends the run (End or Succeed).
  const ending = (n) => (states[n].End || states[n].Type === "Succeed" ? 1 : 0);
  let end = mainNodes.reduce((a, b) => (layer.get(b) * 2 + ending(b) > layer.get(a) * 2 + ending(a) ? b : a), asl.StartAt);
  const mainPath = new Set();
  while (end) {
    mainPath.add(end);
    end = end === asl.StartAt ? null : best.get(end);
  }

  const row = new Map();
  const taken = new Set();
  for (const name of mainNodes) {
    let r = mainPath.has(name) ? 0 : 1;
    while (taken.has(`${layer.get(name)}:${r}`)) r += 1;
    taken.add(`${layer.get(name)}:${r}`);
    row.set(name, Math.min(r, 1));
  }
  const lastLayer = Math.max(...mainNodes.map((n) => layer.get(n)));
  const sharedList = names.filter((n) => shared.has(n));
  sharedList.forEach((name, index) => {
    layer.set(name, index);
    row.set(name, 2);
  });

  const size = (name) => (states[name].Type === "Choice" ? CHOICE : TASK);
  const widths = [];
  for (const name of names) {
    if (!row.has(name)) continue;
    const l = layer.get(name);
    widths[l] = Math.max(widths[l] || 0, size(name).w);
  }
  const columnX = [];
  let x = PAD;
  for (let l = 0; l <= lastLayer; l += 1) {
    columnX[l] = x + (widths[l] || 0) / 2;
    x += (widths[l] || 0) + GAP_X;
  }
  const nodes = new Map();
  for (const name of names) {
    if (!row.has(name)) continue;
    nodes.set(name, { name, type: states[name].Type, x: columnX[layer.get(name)], y: ROW_Y[row.get(name)], row: row.get(name), col: layer.get(name), ...size(name) });
  }
  const edges = [];
  for (const name of names) {
    if (!nodes.has(name)) continue;
    for (const edge of stateTransitions(states[name])) {
      if (shared.has(edge.to) && !shared.has(name)) continue;
      edges.push({ from: name, ...edge, back: back.some((b) => b.from === name && b.to === edge.to) });
    }
  }
  return { nodes, edges, shared: sharedList, width: x - GAP_X + PAD, height: (sharedList.length ? ROW_Y[2] : ROW_Y[1]) + 44 };
}

export function words(name) {
  return name.replace(/([a-z])([A-Z])/g, "$1 $2");
}

function edgePath(a, b, edge) {
  const half = (n) => n.h / 2;
  if (edge.back) { // an escalation returning to its wait: up from below
    return `M ${a.x} ${a.y - half(a)} C ${a.x} ${a.y - 46}, ${b.x + 20} ${b.y + 46}, ${b.x + 20} ${b.y + half(b)}`;
  }
  if (a.row === b.row && b.col === a.col + 1) return `M ${a.x + a.w / 2} ${a.y} L ${b.x - b.w / 2} ${b.y}`;
  if (a.row === b.row) { // skips states on its row: an arc above them
    const lift = 18 + (b.col - a.col) * 7;
    return `M ${a.x + 6} ${a.y - half(a)} C ${a.x + 6} ${a.y - half(a) - lift}, ${b.x - 6} ${b.y - half(b) - lift}, ${b.x - 6} ${b.y - half(b)}`;
  }
  if (b.row > a.row) {
    return `M ${a.x} ${a.y + half(a)} C ${a.x} ${b.y}, ${b.x - b.w / 2 - 30} ${b.y}, ${b.x - b.w / 2} ${b.y}`;
  }
  return `M ${a.x + a.w / 2} ${a.y} C ${b.x} ${a.y}, ${b.x} ${a.y}, ${b.x} ${b.y + half(b)}`;
}

// `progress`: {current, visited: Set, failed, done} with ASL state names.
export function workflowDiagram(asl, progress) {
  const layout = layoutAsl(asl);
  const { current, visited, failed } = progress;
  const svg = h("svg:svg", {
    viewBox: `0 0 ${layout.width} ${layout.height}`, width: layout.width, height: layout.height,
    role: "img", "aria-labelledby": "wf-title wf-desc", class: "workflow-svg",
  });
  svg.append(
    h("svg:title", { id: "wf-title" }, "Case workflow"),
    h("svg:desc", { id: "wf-desc" }, describe(progress)),
    h("svg:defs", {},
      marker("arrow", "edge-arrow"), marker("arrow-active", "edge-arrow-active")));

  const edgeGroup = h("svg:g", { class: "edges" });
  for (const edge of layout.edges) {
    const a = layout.nodes.get(edge.from);
    const b = layout.nodes.get(edge.to);
    if (!a || !b) continue;
    const taken = visited.has(edge.from) && (visited.has(edge.to) || edge.to === current);
    const path = h("svg:path", {
      d: edgePath(a, b, edge), class: ["edge", `edge-${edge.kind}`, taken ? "edge-taken" : null],
      "marker-end": `url(#${taken ? "arrow-active" : "arrow"})`,
    });
    edgeGroup.append(path);
    if (edge.kind === "catch" && !edge.back && !layout.shared.includes(edge.from)) {
      edgeGroup.append(h("svg:text", { x: (a.x + b.x) / 2 - 26, y: b.y - 26, class: "edge-label" }, edge.label));
    }
  }
  if (layout.shared.length) {
    const lastShared = layout.nodes.get(layout.shared[layout.shared.length - 1]);
    edgeGroup.append(h("svg:text", { x: lastShared.x + lastShared.w / 2 + 10, y: lastShared.y + 4, class: "edge-label" },
      `any step that fails for good runs ${words(layout.shared[0])}, which undoes what was done`));
  }
  svg.append(edgeGroup);

  const nodeGroup = h("svg:g", { class: "nodes" });
  for (const node of layout.nodes.values()) {
    const state = node.name === current ? (failed ? "failed" : "current") : visited.has(node.name) ? "visited" : "pending";
    const group = h("svg:g", { class: ["node", `node-${state}`, `node-${node.type.toLowerCase()}`], "data-state": node.name });
    group.append(h("svg:title", {}, `${words(node.name)} (${node.type})${state === "current" ? " — current step" : state === "visited" ? " — done" : ""}`));
    if (node.type === "Choice") {
      const r = node.w / 2;
      group.append(h("svg:path", { d: `M ${node.x} ${node.y - r} L ${node.x + r} ${node.y} L ${node.x} ${node.y + r} L ${node.x - r} ${node.y} Z` }));
      group.append(h("svg:text", { x: node.x, y: node.y + r + 13, class: "choice-label", "text-anchor": "middle" }, words(node.name)));
    } else {
      group.append(h("svg:rect", { x: node.x - node.w / 2, y: node.y - node.h / 2, width: node.w, height: node.h, rx: node.type === "Fail" ? 20 : 8 }));
      const lines = twoLines(words(node.name));
      group.append(h("svg:text", { x: node.x, y: node.y + (lines.length > 1 ? -2 : 4), "text-anchor": "middle" },
        lines.map((line, i) => h("svg:tspan", { x: node.x, dy: i ? "1.15em" : 0 }, line))));
    }
    nodeGroup.append(group);
  }
  svg.append(nodeGroup);
  return svg;
}

function twoLines(text) {
  const parts = text.split(" ");
  if (parts.length < 2) return [text];
  return [parts[0], parts.slice(1).join(" ")];
}

function marker(id, cls) {
  return h("svg:marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    h("svg:path", { d: "M 0 0 L 10 5 L 0 10 z", class: cls }));
}

function describe({ current, visited, failed, done }) {
  const steps = [...visited].map(words).join(", ");
  if (done) return `The workflow has finished. Steps taken: ${steps || "none"}.`;
  if (current) return `${failed ? "The workflow failed at" : "Current step:"} ${words(current)}. Steps done: ${steps || "none"}.`;
  return "The workflow has not started yet.";
}

// Where the case is in its ASL: from the run's state history, or from the stage the case records.
export function progressOf(asl, view, caseStage) {
  const history = (view && view.history) || [];
  const visited = new Set(history.filter((s) => s.exitedAt).map((s) => s.state));
  const open = [...history].reverse().find((s) => !s.exitedAt);
  const done = view && view.status === "SUCCEEDED";
  const failed = (view && ["FAILED", "ABORTED", "TIMED_OUT"].includes(view.status)) || caseStage === "FAILED";
  let current = done ? null : open ? open.state : history.length ? history[history.length - 1].state : null;
  if (done) history.forEach((s) => visited.add(s.state));
  if (!current && !done && caseStage) current = stateForStage(asl, caseStage);
  if (current) visited.delete(current);
  return { current, visited, failed, done };
}

function stateForStage(asl, stage) {
  for (const [name, state] of Object.entries(asl.States)) {
    const payload = (state.Parameters && state.Parameters.Payload) || {};
    if (payload.stage === stage && String(state.Resource || "").includes("waitForTaskToken")) return name;
  }
  return { INITIATED: "Initiate", ASSIGNED: "Assign", COMPLETED: null, FAILED: "Failed" }[stage] || null;
}
