// The plot: figures against connections, one line per contender, in panels stacked in one
// standalone SVG (the benchmark draws round trips/s above and server CPU per round trip below).
// Observable Plot draws it (scales, log axis, ticks, grid, labels); linkedom is the DOM it draws
// into, since Node has none. Both are devDependencies: from an install without them, the
// benchmark still runs and says the plot was skipped.

const WIDTH = 820;
const HEIGHT = 440;
const MARGIN = { top: 64, right: 210, bottom: 30, left: 70 };
const LABEL_GAP = 15; // px between the names at the lines' ends

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/**
 * SVG text of the chart, or null when the libraries are not installed. Each of `panels` is
 * {series: {contender label: [[conns, value], ...]}, title, yLabel}; `note` goes under the
 * first title. A contender keeps its colour in every panel.
 */
export async function plotSvg({ panels, note }) {
  let Plot, parseHTML;
  try {
    Plot = await import('@observablehq/plot');
    ({ parseHTML } = await import('linkedom'));
  } catch {
    return null;
  }
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const labels = [...new Set(panels.flatMap((p) => Object.keys(p.series)))];
  const drawn = panels.map((panel, i) => {
    const svg = drawPanel(Plot, document, labels, { ...panel, note: i === 0 ? note : '' });
    svg.setAttribute('y', String(i * HEIGHT));
    return svg.outerHTML;
  });
  const height = HEIGHT * panels.length;
  // A white ground of its own: a viewer paints no CSS background on the panels inside.
  const ground = `<rect width="${WIDTH}" height="${height}" fill="white"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">${ground}${drawn.join('')}</svg>\n`;
}

function drawPanel(Plot, document, labels, { series, title, note, yLabel }) {
  const data = Object.keys(series).flatMap((label) => series[label].map(([conns, value]) => ({ label, conns, value })));
  const connsSeen = [...new Set(data.map((d) => d.conns))].sort((a, b) => a - b);
  const top = Math.max(...data.map((d) => d.value)) * 1.08;
  return Plot.plot({
    document,
    width: WIDTH,
    height: HEIGHT,
    marginTop: MARGIN.top,
    marginLeft: MARGIN.left,
    marginRight: MARGIN.right,
    marginBottom: MARGIN.bottom,
    style: { background: 'white', color: '#222', fontSize: '12px', fontFamily: 'system-ui, sans-serif' },
    x: { type: 'log', label: 'connections', ticks: connsSeen, tickFormat: (d) => d.toLocaleString('en-US') },
    y: { label: yLabel, labelAnchor: 'center', labelOffset: 56, grid: true, domain: [0, top], tickFormat: (d) => (d >= 1000 ? `${d / 1000}k` : String(d)) },
    color: { domain: labels, range: COLORS },
    marks: [
      Plot.line(data, { x: 'conns', y: 'value', z: 'label', stroke: 'label', strokeWidth: 2, marker: 'circle' }),
      // Each line is named at its right end, so the chart needs no separate legend.
      Plot.text(endLabels(Object.keys(series), series, top), { x: 'conns', y: 'y', text: 'label', fill: 'label', textAnchor: 'start', dx: 8, fontSize: 12 }),
      Plot.text([title], { frameAnchor: 'top-left', dy: -48, textAnchor: 'start', fontSize: 15, fontWeight: 'bold' }),
      Plot.text([note], { frameAnchor: 'top-left', dy: -30, textAnchor: 'start', fontSize: 11, fill: '#555' }),
    ],
  });
}

/**
 * Where each line's name goes: beside its last point, moved up or down just enough that no two
 * names at the same end overlap (lines often end close together; names beside lines that end at
 * different connection counts stand in different columns).
 */
function endLabels(labels, series, top) {
  const gap = (LABEL_GAP / (HEIGHT - MARGIN.top - MARGIN.bottom)) * top;
  const columns = new Map();
  for (const label of labels) {
    const [conns, value] = series[label][series[label].length - 1];
    if (!columns.has(conns)) columns.set(conns, []);
    columns.get(conns).push({ label, conns, y: value });
  }
  return [...columns.values()].flatMap((ends) => {
    ends.sort((a, b) => a.y - b.y);
    for (let i = 1; i < ends.length; i++) ends[i].y = Math.max(ends[i].y, ends[i - 1].y + gap);
    const overflow = ends[ends.length - 1].y - top;
    if (overflow > 0) for (const e of ends) e.y -= overflow; // pushed past the top: shift all down
    return ends;
  });
}
