import { Resvg } from "@resvg/resvg-js";
import type { BenchReport } from "./types";

export interface BarRow {
  label: string;
  values: Array<{ series: string; value: number }>;
}

const COLORS: Record<string, string> = { sqlite: "#2f6fb5", mariadb: "#d0782a", baseline: "#6b6b6b" };
const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bars on a log10 axis (values span 10 to 40,000), one panel per metric. */
function panel(title: string, unit: string, rows: BarRow[], x: number, y: number, width: number): { svg: string; height: number } {
  const labelWidth = 170;
  const barHeight = 11;
  const rowGap = 6;
  const all = rows.flatMap((r) => r.values.map((v) => v.value)).filter((v) => v > 0 && Number.isFinite(v));
  const min = Math.pow(10, Math.floor(Math.log10(Math.min(...all, 1))));
  const max = Math.pow(10, Math.ceil(Math.log10(Math.max(...all, 10))));
  const plotWidth = width - labelWidth - 60;
  const scale = (v: number) => (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)) * plotWidth;
  const parts: string[] = [`<text x="${x}" y="${y + 14}" font-size="15" font-weight="bold">${escape(title)}</text>`];
  let cy = y + 30;
  const top = cy;
  for (const row of rows) {
    const rowHeight = row.values.length * barHeight + rowGap;
    parts.push(`<text x="${x + labelWidth - 6}" y="${cy + rowHeight / 2 + 1}" font-size="12" text-anchor="end">${escape(row.label)}</text>`);
    row.values.forEach((v, i) => {
      const w = Number.isFinite(v.value) && v.value > 0 ? Math.max(1, scale(v.value)) : 0;
      const by = cy + i * barHeight;
      parts.push(`<rect x="${x + labelWidth}" y="${by}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${COLORS[v.series] ?? "#888"}"/>`);
      const shown = v.value >= 100 ? v.value.toFixed(0) : v.value.toFixed(1);
      parts.push(`<text x="${x + labelWidth + w + 4}" y="${by + barHeight - 3}" font-size="10">${Number.isFinite(v.value) ? shown : "–"}</text>`);
    });
    cy += rowHeight;
  }
  for (let decade = min; decade <= max; decade *= 10) {
    const gx = x + labelWidth + scale(decade);
    parts.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${cy}" stroke="#ccc" stroke-width="0.7"/>`);
    parts.push(`<text x="${gx}" y="${cy + 13}" font-size="10" text-anchor="middle">${decade >= 1000 ? `${decade / 1000}k` : decade}</text>`);
  }
  parts.push(`<text x="${x + labelWidth + plotWidth / 2}" y="${cy + 28}" font-size="11" text-anchor="middle">${escape(unit)} (log scale)</text>`);
  return { svg: parts.join("\n"), height: cy + 36 - y };
}

export function renderChart(title: string, subtitle: string, panels: Array<{ title: string; unit: string; rows: BarRow[] }>, legend: string[]): Buffer {
  const width = 900;
  let y = 56;
  const bodies: string[] = [];
  for (const p of panels) {
    const drawn = panel(p.title, p.unit, p.rows, 16, y, width - 16);
    bodies.push(drawn.svg);
    y += drawn.height + 14;
  }
  const legendSvg = legend.map((series, i) => `<rect x="${560 + i * 110}" y="34" width="12" height="12" fill="${COLORS[series] ?? "#888"}"/><text x="${576 + i * 110}" y="44" font-size="12">${escape(series)}</text>`).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="24" font-size="18" font-weight="bold">${escape(title)}</text>
<text x="16" y="44" font-size="11">${escape(subtitle)}</text>
${legendSvg}
${bodies.join("\n")}
</svg>`;
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" }, background: "white" }).render().asPng();
}

export function renderBenchChart(report: BenchReport): Buffer {
  const ids = [...new Set(report.scenarios.map((s) => s.id))];
  const rows = (metric: "rps" | "p99"): BarRow[] =>
    ids.map((id) => ({
      label: id,
      values: report.scenarios.filter((s) => s.id === id).map((s) => ({ series: s.db ?? "baseline", value: s.median[metric] })),
    }));
  const legend = ["baseline", ...report.options.dbs];
  return renderChart(
    "External Tool Access: benchmark",
    `${report.startedAt} · ${report.options.rounds} rounds × ${report.options.duration} s, medians · Node ${report.machine.node}`,
    [
      { title: "Throughput", unit: "requests per second", rows: rows("rps") },
      { title: "p99 latency", unit: "milliseconds", rows: rows("p99") },
    ],
    legend,
  );
}

export interface LineSeries {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

/** Line panels sharing an x axis (seconds), linear y from 0. */
export function renderLineChart(title: string, subtitle: string, panels: Array<{ title: string; unit: string; series: LineSeries[] }>): Buffer {
  const width = 900;
  const panelHeight = 230;
  const left = 70;
  const plotWidth = width - left - 30;
  const parts: string[] = [];
  let y = 60;
  for (const p of panels) {
    const points = p.series.flatMap((s) => s.points);
    const maxX = Math.max(1, ...points.map(([x]) => x));
    const rawMaxY = Math.max(1e-9, ...points.map(([, v]) => v));
    const step = niceStep(rawMaxY / 5);
    const maxY = Math.ceil(rawMaxY / step) * step;
    const top = y + 24;
    const plotHeight = panelHeight - 70;
    const sx = (x: number) => left + (x / maxX) * plotWidth;
    const sy = (v: number) => top + plotHeight - (v / maxY) * plotHeight;
    parts.push(`<text x="16" y="${y + 14}" font-size="15" font-weight="bold">${escape(p.title)}</text>`);
    for (let v = 0; v <= maxY + step / 2; v += step) {
      parts.push(`<line x1="${left}" y1="${sy(v)}" x2="${left + plotWidth}" y2="${sy(v)}" stroke="#ddd" stroke-width="0.7"/>`);
      parts.push(`<text x="${left - 6}" y="${sy(v) + 4}" font-size="10" text-anchor="end">${+v.toPrecision(3)}</text>`);
    }
    const xStep = niceStep(maxX / 10);
    for (let x = 0; x <= maxX; x += xStep) parts.push(`<text x="${sx(x)}" y="${top + plotHeight + 14}" font-size="10" text-anchor="middle">${+x.toPrecision(3)}</text>`);
    parts.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 30}" font-size="11" text-anchor="middle">seconds · ${escape(p.unit)}</text>`);
    p.series.forEach((s, i) => {
      if (s.points.length) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${s.points.map(([x, v]) => `${sx(x).toFixed(1)},${sy(v).toFixed(1)}`).join(" ")}"/>`);
      parts.push(`<rect x="${left + 10 + i * 130}" y="${top + 2}" width="12" height="3" fill="${s.color}"/><text x="${left + 26 + i * 130}" y="${top + 8}" font-size="11">${escape(s.name)}</text>`);
    });
    y += panelHeight;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="24" font-size="18" font-weight="bold">${escape(title)}</text>
<text x="16" y="44" font-size="11">${escape(subtitle)}</text>
${parts.join("\n")}
</svg>`;
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" }, background: "white" }).render().asPng();
}

function niceStep(raw: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}
